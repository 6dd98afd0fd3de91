package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
)

// Sign returns a compact JWS of claims signed with alg under key, with kid
// in the header when not empty and typ "JWT". key is a []byte HMAC secret of
// at least 32 bytes for HS*, and for the others a private key of the
// matching type: *rsa.PrivateKey (RS*, PS*; at least 2048 bits),
// *ecdsa.PrivateKey on the algorithm's curve (ES*), ed25519.PrivateKey
// (EdDSA), or any crypto.Signer whose public key has that type. Claims are
// marshalled with encoding/json; time claims should be Unix seconds.
func Sign(alg string, key any, kid string, claims map[string]any) (string, error) {
	a := algorithms[alg]
	if a == nil {
		return "", fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	hdr, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid,omitempty"`
		Typ string `json:"typ"`
	}{alg, kid, "JWT"})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt: claims: %w", err)
	}
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(body)
	sig, err := a.sign(key, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// sign signs input with key for a.
func (a *algorithm) sign(k any, input []byte) ([]byte, error) {
	if a.kty == ktyOct {
		secret, ok := k.([]byte)
		if !ok || len(secret) < minSecretBytes {
			return nil, fmt.Errorf("%w: %s needs a []byte secret of at least %d bytes", ErrKey, a.name, minSecretBytes)
		}
		m := hmac.New(a.hash.New, secret)
		m.Write(input)
		return m.Sum(nil), nil
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %s needs a private key, not %T", ErrKey, a.name, k)
	}
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		if a.kty != ktyRSA {
			break
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, at least %d needed", ErrKey, pub.N.BitLen(), minRSABits)
		}
		var opts crypto.SignerOpts = a.hash
		if a.pss {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash}
		}
		return signer.Sign(rand.Reader, hashOf(a.hash, input), opts)
	case *ecdsa.PublicKey:
		if a.kty != ktyEC || pub.Curve != a.curve {
			break
		}
		der, err := signer.Sign(rand.Reader, hashOf(a.hash, input), a.hash)
		if err != nil {
			return nil, err
		}
		return rawECDSA(der, a.size)
	case ed25519.PublicKey:
		if a.kty != ktyOKP {
			break
		}
		return signer.Sign(rand.Reader, input, crypto.Hash(0))
	}
	return nil, fmt.Errorf("%w: a %T key cannot sign %s", ErrKey, signer.Public(), a.name)
}

// AlgorithmFor returns the algorithm a token signed by signer should name:
// EdDSA for Ed25519, ES256/ES384/ES512 by curve, RS256 for RSA. It returns
// "" for keys Sign cannot use.
func AlgorithmFor(signer crypto.Signer) string {
	switch pub := signer.Public().(type) {
	case ed25519.PublicKey:
		return "EdDSA"
	case *ecdsa.PublicKey:
		for _, name := range []string{"ES256", "ES384", "ES512"} {
			if algorithms[name].curve == pub.Curve {
				return name
			}
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() >= minRSABits {
			return "RS256"
		}
	}
	return ""
}

// rawECDSA turns an ASN.1 DER ECDSA signature into the JOSE form: r and s
// as big-endian integers of size bytes each (RFC 7518 section 3.4).
func rawECDSA(der []byte, size int) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: bad ECDSA signature from signer", ErrKey)
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// LoadSigningKey reads a PKCS #8 PEM private key ("PRIVATE KEY") from path:
// RSA (at least 2048 bits), ECDSA P-256/384/521 or Ed25519.
func LoadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return ParseSigningKey(data)
}

// ParseSigningKey is LoadSigningKey on PEM bytes.
func ParseSigningKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: no PKCS #8 PEM block (PRIVATE KEY)", ErrKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrKey, k)
	}
	if _, err := newPublicKey("", signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// MarshalSigningKey encodes a private key as PKCS #8 PEM, the form
// LoadSigningKey reads (the cluster harness writes the issuer key with it).
func MarshalSigningKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as PKIX PEM ("PUBLIC KEY"), the form
// a provider's pem or file key takes.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
