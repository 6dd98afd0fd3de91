package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for HS256, RS256, PS256, ES256
	_ "crypto/sha512" // SHA-384 and SHA-512 for the *384 and *512 algorithms
	"math/big"
)

// keyType is the family of key an algorithm needs (RFC 7518 section 3.1 and
// RFC 8037): a key verifies only algorithms of its own type.
type keyType uint8

const (
	ktyNone keyType = iota
	ktyOct          // HMAC secret
	ktyRSA          // RSA public key (RS* and PS*)
	ktyEC           // ECDSA public key on the algorithm's curve
	ktyOKP          // Ed25519 public key
)

func (k keyType) String() string {
	switch k {
	case ktyOct:
		return "oct"
	case ktyRSA:
		return "RSA"
	case ktyEC:
		return "EC"
	case ktyOKP:
		return "OKP"
	}
	return "none"
}

// algorithm is one JWS "alg" value the package implements.
type algorithm struct {
	name  string
	kty   keyType
	hash  crypto.Hash // zero for EdDSA, which signs the message itself
	pss   bool        // RSASSA-PSS instead of PKCS #1 v1.5
	curve elliptic.Curve
	size  int // ECDSA: bytes of r and of s in the raw signature
}

// algorithms are the supported algorithms by name. "none" is deliberately
// absent: it cannot be allowed, named or signed.
var algorithms = map[string]*algorithm{
	"HS256": {name: "HS256", kty: ktyOct, hash: crypto.SHA256},
	"HS384": {name: "HS384", kty: ktyOct, hash: crypto.SHA384},
	"HS512": {name: "HS512", kty: ktyOct, hash: crypto.SHA512},
	"RS256": {name: "RS256", kty: ktyRSA, hash: crypto.SHA256},
	"RS384": {name: "RS384", kty: ktyRSA, hash: crypto.SHA384},
	"RS512": {name: "RS512", kty: ktyRSA, hash: crypto.SHA512},
	"PS256": {name: "PS256", kty: ktyRSA, hash: crypto.SHA256, pss: true},
	"PS384": {name: "PS384", kty: ktyRSA, hash: crypto.SHA384, pss: true},
	"PS512": {name: "PS512", kty: ktyRSA, hash: crypto.SHA512, pss: true},
	"ES256": {name: "ES256", kty: ktyEC, hash: crypto.SHA256, curve: elliptic.P256(), size: 32},
	"ES384": {name: "ES384", kty: ktyEC, hash: crypto.SHA384, curve: elliptic.P384(), size: 48},
	"ES512": {name: "ES512", kty: ktyEC, hash: crypto.SHA512, curve: elliptic.P521(), size: 66},
	"EdDSA": {name: "EdDSA", kty: ktyOKP},
}

// Algorithms returns the names of the supported algorithms.
func Algorithms() []string {
	return []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 section 3.3).
const minRSABits = 2048

// verify reports whether sig is a valid signature of input under k. The
// caller has checked that k.kty == a.kty and that k allows a.
func (a *algorithm) verify(k *key, input, sig []byte) bool {
	switch a.kty {
	case ktyOct:
		return k.verifyHMAC(a, input, sig)
	case ktyRSA:
		if len(sig) != k.rsa.Size() {
			return false
		}
		digest := hashOf(a.hash, input)
		if a.pss {
			return rsa.VerifyPSS(k.rsa, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(k.rsa, a.hash, digest, sig) == nil
	case ktyEC:
		// JOSE signatures are r||s, each exactly the curve's size: a DER
		// signature, or one of another curve, has another length.
		if k.ec.Curve != a.curve || len(sig) != 2*a.size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:a.size])
		s := new(big.Int).SetBytes(sig[a.size:])
		return ecdsa.Verify(k.ec, hashOf(a.hash, input), r, s)
	case ktyOKP:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, input, sig)
	}
	return false
}

// verifyHMAC computes the MAC with a pooled hash.Hash of k and compares it in
// constant time.
func (k *key) verifyHMAC(a *algorithm, input, sig []byte) bool {
	if len(sig) != a.hash.Size() {
		return false
	}
	pool := k.macPool(a.hash)
	h := pool.Get().(*macState)
	h.mac.Reset()
	h.mac.Write(input)
	h.sum = h.mac.Sum(h.sum[:0])
	ok := hmac.Equal(h.sum, sig)
	pool.Put(h)
	return ok
}

func hashOf(h crypto.Hash, input []byte) []byte {
	hh := h.New()
	hh.Write(input)
	return hh.Sum(nil)
}
