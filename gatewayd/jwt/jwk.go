package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// jwk is the JSON form of one JSON Web Key (RFC 7517, RFC 7518 section 6,
// RFC 8037 for OKP).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	K   string `json:"k,omitempty"`
}

// jwks is a JSON Web Key Set.
type jwks struct {
	Keys []json.RawMessage `json:"keys"`
}

// errSkip marks a JWK of a set that is not for signatures or of an unknown
// type: the set's other keys are still used.
var errSkip = errors.New("jwt: key skipped")

var b64 = base64.RawURLEncoding

// parseJWKJSON reads a JWK or a JWKS (an object with "keys"). In a set,
// keys that are not for signing or of unknown types are skipped; a set with
// no usable key, or a malformed key, is an error.
func parseJWKJSON(data []byte) ([]*key, error) {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: JWK JSON: %v", ErrKey, err)
	}
	if probe.Keys == nil {
		k, err := parseJWK(data, true)
		if err != nil {
			return nil, err
		}
		return []*key{k}, nil
	}
	return parseJWKS(data, true)
}

// parseJWKS reads a key set; allowOct lets it hold HMAC secrets (files may,
// key sets fetched from a URL may not).
func parseJWKS(data []byte, allowOct bool) ([]*key, error) {
	var set jwks
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWKS: %v", ErrKey, err)
	}
	var keys []*key
	for i, raw := range set.Keys {
		k, err := parseJWK(raw, allowOct)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: JWKS holds no signature key", ErrKey)
	}
	return keys, nil
}

func parseJWK(data []byte, allowOct bool) (*key, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%w: JWK: %v", ErrKey, err)
	}
	if j.Use != "" && j.Use != "sig" {
		return nil, errSkip
	}
	if j.Alg != "" {
		a, ok := algorithms[j.Alg]
		if !ok {
			return nil, fmt.Errorf("%w: JWK alg %q is not supported", ErrKey, j.Alg)
		}
		if a.kty.String() != j.Kty {
			return nil, fmt.Errorf("%w: JWK alg %s does not fit kty %s", ErrKey, j.Alg, j.Kty)
		}
	}
	var k *key
	var err error
	switch j.Kty {
	case "RSA":
		k, err = j.rsaKey()
	case "EC":
		k, err = j.ecKey()
	case "OKP":
		k, err = j.okpKey()
	case "oct":
		if !allowOct {
			return nil, fmt.Errorf("%w: a fetched key set may not hold secret (oct) keys", ErrKey)
		}
		var secret []byte
		if secret, err = b64.DecodeString(j.K); err == nil && len(secret) < minSecretBytes {
			err = fmt.Errorf("%d bytes, at least %d needed", len(secret), minSecretBytes)
		}
		if err == nil {
			k = newSecretKey(j.Kid, secret)
		}
	default:
		return nil, errSkip
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JWK kty %s: %v", ErrKey, j.Kty, err)
	}
	k.kid, k.alg = j.Kid, j.Alg
	return k, nil
}

func (j *jwk) rsaKey() (*key, error) {
	n, err := b64.DecodeString(j.N)
	if err != nil {
		return nil, fmt.Errorf("n: %v", err)
	}
	e, err := b64.DecodeString(j.E)
	if err != nil {
		return nil, fmt.Errorf("e: %v", err)
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("e: bad size")
	}
	ev := 0
	for _, c := range e {
		ev = ev<<8 | int(c)
	}
	if ev < 3 || ev%2 == 0 {
		return nil, errors.New("e: bad exponent")
	}
	return newPublicKey("", &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev})
}

func curveByName(crv string) (elliptic.Curve, int, bool) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32, true
	case "P-384":
		return elliptic.P384(), 48, true
	case "P-521":
		return elliptic.P521(), 66, true
	}
	return nil, 0, false
}

func (j *jwk) ecKey() (*key, error) {
	curve, size, ok := curveByName(j.Crv)
	if !ok {
		return nil, fmt.Errorf("unsupported curve %q", j.Crv)
	}
	x, errX := b64.DecodeString(j.X)
	y, errY := b64.DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, errors.New("bad coordinates")
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, err
	}
	return newPublicKey("", pub)
}

func (j *jwk) okpKey() (*key, error) {
	if j.Crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported curve %q", j.Crv)
	}
	x, err := b64.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("bad x")
	}
	return newPublicKey("", ed25519.PublicKey(x))
}

// publicJWK returns the public members of pub's JWK (those RFC 7638
// section 3.2 requires), without kid, use or alg.
func publicJWK(pub crypto.PublicKey) (*jwk, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		e := big.NewInt(int64(p.E)).Bytes()
		return &jwk{Kty: "RSA", N: b64.EncodeToString(p.N.Bytes()), E: b64.EncodeToString(e)}, nil
	case *ecdsa.PublicKey:
		var crv string
		switch p.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return nil, fmt.Errorf("%w: unsupported ECDSA curve", ErrKey)
		}
		pt, err := p.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		size := (len(pt) - 1) / 2
		return &jwk{Kty: "EC", Crv: crv, X: b64.EncodeToString(pt[1 : 1+size]), Y: b64.EncodeToString(pt[1+size:])}, nil
	case ed25519.PublicKey:
		return &jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(p)}, nil
	}
	return nil, fmt.Errorf("%w: unsupported public key type %T", ErrKey, pub)
}

// PublicKeyID returns the RFC 7638 JWK thumbprint of pub (SHA-256,
// base64url): a stable kid for RSA, ECDSA and Ed25519 public keys. It
// returns "" for other types.
func PublicKeyID(pub crypto.PublicKey) string {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	j, err := publicJWK(pub)
	if err != nil {
		return ""
	}
	// The required members in lexicographic order, no whitespace. Their
	// values are base64url or fixed names, so no JSON escaping is needed.
	var s string
	switch j.Kty {
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		s = `{"crv":"Ed25519","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

// PublicJWK returns pub as a JWK JSON object with kid and alg (alg may be
// empty), e.g. to publish the cluster key or write test fixtures.
func PublicJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return nil, err
	}
	j.Kid, j.Alg, j.Use = kid, alg, "sig"
	return json.Marshal(j)
}
