package pgwire

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel
// binding, the user name in the client-first-message ignored (the startup
// packet names the user), secrets stored in RFC 5803 form.

const (
	scramMechanism  = "SCRAM-SHA-256"
	scramIterations = 4096
	scramSaltLen    = 16
	scramNonceLen   = 18
)

// scramSecret is a parsed RFC 5803 secret.
type scramSecret struct {
	iterations int
	salt       []byte
	storedKey  []byte
	serverKey  []byte
}

// NewSCRAMSecret returns password's SCRAM-SHA-256 secret in RFC 5803 form,
// "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>" (base64), with a random
// 16-byte salt — the form PostgreSQL stores in pg_authid and
// Engine.PasswordSecret returns. The password is SASLprep-normalised where it
// can be, as PostgreSQL and pgx do.
func NewSCRAMSecret(password string) (string, error) {
	salt := make([]byte, scramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("pgwire: scram salt: %w", err)
	}
	return makeSCRAMSecret(password, salt, scramIterations)
}

func makeSCRAMSecret(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, normalizePassword(password), salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("pgwire: scram key: %w", err)
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, []byte("Server Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s$%d:%s$%s:%s", scramMechanism, iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

// normalizePassword applies SASLprep (via PRECIS OpaqueString); a password
// it rejects is used as it is, like PostgreSQL does.
func normalizePassword(p string) string {
	n, err := precis.OpaqueString.String(p)
	if err != nil {
		return p
	}
	return n
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// parseSCRAMSecret parses an RFC 5803 secret.
func parseSCRAMSecret(s string) (*scramSecret, error) {
	mech, rest, ok := strings.Cut(s, "$")
	if !ok || mech != scramMechanism {
		return nil, errors.New("pgwire: scram secret: want prefix SCRAM-SHA-256$")
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("pgwire: scram secret: missing keys after the second $")
	}
	iterStr, saltStr, ok := strings.Cut(iterSalt, ":")
	if !ok {
		return nil, errors.New("pgwire: scram secret: want <iterations>:<salt>")
	}
	storedStr, serverStr, ok := strings.Cut(keys, ":")
	if !ok {
		return nil, errors.New("pgwire: scram secret: want <StoredKey>:<ServerKey>")
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 {
		return nil, fmt.Errorf("pgwire: scram secret: iterations %q is not a positive integer", iterStr)
	}
	sec := &scramSecret{iterations: iter}
	for _, f := range []struct {
		name string
		src  string
		dst  *[]byte
		n    int
	}{{"salt", saltStr, &sec.salt, 0}, {"StoredKey", storedStr, &sec.storedKey, sha256.Size}, {"ServerKey", serverStr, &sec.serverKey, sha256.Size}} {
		b, err := base64.StdEncoding.DecodeString(f.src)
		if err != nil {
			return nil, fmt.Errorf("pgwire: scram secret: %s is not base64: %w", f.name, err)
		}
		if f.n != 0 && len(b) != f.n {
			return nil, fmt.Errorf("pgwire: scram secret: %s is %d bytes, want %d", f.name, len(b), f.n)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("pgwire: scram secret: %s is empty", f.name)
		}
		*f.dst = b
	}
	return sec, nil
}

// mockSCRAMSecret is the secret of a user that does not exist: a salt derived
// from the user name and the server's key (stable across attempts, so the
// exchange looks like a real one) and keys nobody can match.
func mockSCRAMSecret(serverKey []byte, user string) *scramSecret {
	salt := hmacSHA256(serverKey, []byte("salt:"+user))[:scramSaltLen]
	stored := make([]byte, sha256.Size)
	server := make([]byte, sha256.Size)
	_, _ = rand.Read(stored)
	_, _ = rand.Read(server)
	return &scramSecret{iterations: scramIterations, salt: salt, storedKey: stored, serverKey: server}
}

// scramServer is one SCRAM exchange on the server side.
type scramServer struct {
	secret          *scramSecret
	valid           bool // false: mock secret, the proof must fail
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
	serverNonce     string // fixed server nonce (tests); "" = random
}

var errSCRAMProtocol = errors.New("malformed SCRAM message")

// first handles the client-first-message and returns the server-first-message.
func (s *scramServer) first(clientFirst []byte) ([]byte, error) {
	msg := string(clientFirst)
	// gs2-header: cbind-flag "," [authzid] ","
	var flag string
	switch {
	case strings.HasPrefix(msg, "n,"), strings.HasPrefix(msg, "y,"):
		flag = msg[:2]
	case strings.HasPrefix(msg, "p="):
		return nil, fmt.Errorf("%w: channel binding is not supported", errSCRAMProtocol)
	default:
		return nil, fmt.Errorf("%w: unexpected channel-binding flag", errSCRAMProtocol)
	}
	rest := msg[2:]
	if !strings.HasPrefix(rest, ",") {
		return nil, fmt.Errorf("%w: authorization identities (a=) are not supported", errSCRAMProtocol)
	}
	s.gs2Header = flag + ","
	s.clientFirstBare = rest[1:]
	var clientNonce string
	for i, attr := range strings.Split(s.clientFirstBare, ",") {
		switch {
		case i == 0 && strings.HasPrefix(attr, "m="):
			return nil, fmt.Errorf("%w: mandatory extensions are not supported", errSCRAMProtocol)
		case i == 0 && !strings.HasPrefix(attr, "n="):
			return nil, fmt.Errorf("%w: want n= first", errSCRAMProtocol)
		case i == 1:
			if !strings.HasPrefix(attr, "r=") || len(attr) == 2 {
				return nil, fmt.Errorf("%w: want a nonce r= second", errSCRAMProtocol)
			}
			clientNonce = attr[2:]
		}
	}
	if clientNonce == "" || !printableNoComma(clientNonce) {
		return nil, fmt.Errorf("%w: missing or bad client nonce", errSCRAMProtocol)
	}
	if s.serverNonce == "" {
		raw := make([]byte, scramNonceLen)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		s.serverNonce = base64.RawStdEncoding.EncodeToString(raw)
	}
	s.nonce = clientNonce + s.serverNonce
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.secret.salt), s.secret.iterations)
	return []byte(s.serverFirst), nil
}

func printableNoComma(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// final checks the client-final-message; ok reports a valid proof, and then
// serverFinal is the server-final-message to send.
func (s *scramServer) final(clientFinal []byte) (serverFinal []byte, ok bool, err error) {
	msg := string(clientFinal)
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, false, fmt.Errorf("%w: missing proof", errSCRAMProtocol)
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, false, fmt.Errorf("%w: want c= and r= in the final message", errSCRAMProtocol)
	}
	cbind, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(cbind) != s.gs2Header {
		return nil, false, fmt.Errorf("%w: channel binding does not match the first message", errSCRAMProtocol)
	}
	if attrs[1][2:] != s.nonce {
		return nil, false, fmt.Errorf("%w: nonce does not match", errSCRAMProtocol)
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return nil, false, fmt.Errorf("%w: bad proof", errSCRAMProtocol)
	}
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientSig := hmacSHA256(s.secret.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for j := range clientKey {
		clientKey[j] = proof[j] ^ clientSig[j]
	}
	got := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(got[:], s.secret.storedKey) != 1 || !s.valid {
		return nil, false, nil
	}
	serverSig := hmacSHA256(s.secret.serverKey, authMessage)
	return bytes.Clone([]byte("v=" + base64.StdEncoding.EncodeToString(serverSig))), true, nil
}
