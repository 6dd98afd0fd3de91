package jwt

import (
	"encoding/json"
	"time"
)

// Claims is what a verified token says about its caller.
type Claims struct {
	// Provider is the name of the provider whose key verified the token.
	Provider string
	Issuer   string
	Subject  string
	// Audience is aud, a string or an array in the token, as a list.
	Audience  []string
	ExpiresAt time.Time
	NotBefore time.Time // zero when the token has no nbf
	IssuedAt  time.Time // zero when the token has no iat
	// Consumer is the value of the provider's consumer claim (sub unless
	// consumer_claim says otherwise); never empty in a verified token.
	Consumer string
	// Scopes come from "scope" (space-separated, RFC 8693) and "scp" (a
	// string or an array), in that order.
	Scopes []string
	Roles  []string // "roles", a string or an array
	Groups []string // "groups", a string or an array
	// Raw is the decoded claims object, for claims the fields above do not
	// hold (see Claim). Callers must not modify it.
	Raw json.RawMessage
}

// Claim returns the raw JSON value of the claim name, and whether the token
// has it. It scans Raw, so call it off the hot path or cache the result.
func (c *Claims) Claim(name string) (json.RawMessage, bool) {
	var out json.RawMessage
	found := false
	_ = eachMember(c.Raw, func(n, v []byte) error {
		if string(n) == name {
			out, found = v, true
		}
		return nil
	})
	return out, found
}

// HasScope reports whether s is one of c.Scopes.
func (c *Claims) HasScope(s string) bool { return contains(c.Scopes, s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
