package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
)

// minSecretBytes is the smallest HMAC secret accepted (RFC 7518 section
// 3.2 asks for at least the hash size; 32 bytes is HS256's).
const minSecretBytes = 32

// key is one parsed verification key. Keys are immutable after parsing and
// shared by concurrent Verify calls.
type key struct {
	kid string  // "" matches any token kid
	alg string  // from a JWK's "alg": the only algorithm it may verify; "" any of its type
	kty keyType // which of the fields below is set
	rsa *rsa.PublicKey
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
	// secret and the pools of keyed HMAC states, one per hash (HS256, HS384,
	// HS512), built on first use.
	secret []byte
	pools  [3]sync.Pool
}

// macState is a pooled keyed HMAC and its output buffer.
type macState struct {
	mac hash.Hash
	sum []byte
}

func (k *key) macPool(h crypto.Hash) *sync.Pool {
	i := 0
	switch h {
	case crypto.SHA384:
		i = 1
	case crypto.SHA512:
		i = 2
	}
	return &k.pools[i]
}

// newSecretKey returns an HMAC key for secret.
func newSecretKey(kid string, secret []byte) *key {
	k := &key{kid: kid, kty: ktyOct, secret: secret}
	for i, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		k.pools[i].New = func() any {
			return &macState{mac: hmac.New(h.New, secret), sum: make([]byte, 0, h.Size())}
		}
	}
	return k
}

// newPublicKey wraps a parsed public key; it refuses types and sizes the
// package does not verify with.
func newPublicKey(kid string, pub crypto.PublicKey) (*key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, at least %d needed", ErrKey, p.N.BitLen(), minRSABits)
		}
		return &key{kid: kid, kty: ktyRSA, rsa: p}, nil
	case *ecdsa.PublicKey:
		for _, a := range algorithms {
			if a.kty == ktyEC && a.curve == p.Curve {
				return &key{kid: kid, kty: ktyEC, ec: p}, nil
			}
		}
		return nil, fmt.Errorf("%w: unsupported ECDSA curve", ErrKey)
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: bad Ed25519 key size", ErrKey)
		}
		return &key{kid: kid, kty: ktyOKP, ed: p}, nil
	}
	return nil, fmt.Errorf("%w: unsupported public key type %T", ErrKey, pub)
}

// allows reports whether k may verify a token signed with a.
func (k *key) allows(a *algorithm) bool {
	return k.kty == a.kty && (k.alg == "" || k.alg == a.name)
}

// parseSecret decodes a base64 (standard or URL alphabet, padded or not)
// HMAC secret of at least 32 bytes.
func parseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) < minSecretBytes {
				return nil, fmt.Errorf("%w: HMAC secret of %d bytes, at least %d needed", ErrKey, len(b), minSecretBytes)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: HMAC secret is not base64", ErrKey)
}

// parsePEM reads every PEM block of data: public keys (PKIX "PUBLIC KEY",
// PKCS #1 "RSA PUBLIC KEY") and certificates (their public key). Other
// blocks, private keys included, are refused.
func parsePEM(kid string, data []byte) ([]*key, error) {
	var keys []*key
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var pub crypto.PublicKey
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("%w: PEM block %q is not a public key or certificate", ErrKey, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, block.Type, err)
		}
		k, err := newPublicKey(kid, pub)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM block", ErrKey)
	}
	return keys, nil
}

// maxKeyFile bounds a key file read.
const maxKeyFile = 1 << 20

// loadKeyFile reads a PEM file (public keys, certificates) or a JWK or JWKS
// JSON file. A non-empty kid overrides the kids of the keys in the file.
func loadKeyFile(kid, path string) ([]*key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrKey, path, maxKeyFile)
	}
	var keys []*key
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		keys, err = parseJWKJSON(t)
	} else {
		keys, err = parsePEM(kid, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if kid != "" {
		for _, k := range keys {
			k.kid = kid
		}
	}
	return keys, nil
}
