package sigv4

import (
	"context"
	"fmt"
)

// Credential is one access key: its id, its secret and who it stands for.
type Credential struct {
	// AccessKeyID names the key in requests (the first part of the
	// credential scope).
	AccessKeyID string
	// SecretAccessKey signs and verifies; it never leaves the process.
	SecretAccessKey string
	// SessionToken, when not empty, must be carried by every request made
	// with this key (X-Amz-Security-Token, header or query). When empty the
	// token a request carries is not checked, only signed like any header.
	SessionToken string
	// Principal is the name the daemon knows the key's owner by; Verify
	// returns it in Principal.Name. Empty means the access key id.
	Principal string
}

// Credentials finds the credential of an access key id. Lookup is called
// concurrently from every request that Verify checks. It returns an error
// wrapping ErrUnknownAccessKey when no credential has the id; any other
// error (a store that cannot answer) is passed through by Verify.
type Credentials interface {
	Lookup(ctx context.Context, accessKeyID string) (Credential, error)
}

// StaticCredentials is a fixed set of credentials keyed by access key id,
// as read from a daemon's configuration. The AccessKeyID of a value may be
// left empty: Lookup fills it from the key. It must not be modified while a
// Verifier uses it.
type StaticCredentials map[string]Credential

// Lookup returns the credential stored under accessKeyID.
func (s StaticCredentials) Lookup(_ context.Context, accessKeyID string) (Credential, error) {
	c, ok := s[accessKeyID]
	if !ok {
		return Credential{}, fmt.Errorf("%w: %q", ErrUnknownAccessKey, accessKeyID)
	}
	c.AccessKeyID = accessKeyID
	return c, nil
}
