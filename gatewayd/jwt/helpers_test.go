package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// testNow is the fixed clock of the tests.
var testNow = time.Unix(1_800_000_000, 0)

// testKeys are generated once per test binary (RSA generation is slow).
type testKeys struct {
	rsa, rsa2    *rsa.PrivateKey
	ec256, ec384 *ecdsa.PrivateKey
	ec521        *ecdsa.PrivateKey
	ed, ed2      ed25519.PrivateKey
	secret       []byte
	secret2      []byte
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func fixtures(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if err == nil {
				err = e
			}
		}
		var e error
		keys.rsa, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		keys.rsa2, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		keys.ec256, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		keys.ec384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		keys.ec521, e = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(e)
		_, keys.ed, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		_, keys.ed2, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		keys.secret = make([]byte, 32)
		keys.secret2 = make([]byte, 64)
		_, _ = rand.Read(keys.secret)
		_, _ = rand.Read(keys.secret2)
		if err != nil {
			panic(err)
		}
	})
	return &keys
}

// signerFor returns the signing key and the public key of alg's family.
func (k *testKeys) signerFor(alg string) (any, crypto.PublicKey) {
	switch alg[:2] {
	case "HS":
		return k.secret, nil
	case "RS", "PS":
		return k.rsa, &k.rsa.PublicKey
	case "Ed":
		return k.ed, k.ed.Public()
	}
	switch alg {
	case "ES256":
		return k.ec256, &k.ec256.PublicKey
	case "ES384":
		return k.ec384, &k.ec384.PublicKey
	}
	return k.ec521, &k.ec521.PublicKey
}

func pemOf(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	b, err := MarshalPublicKey(pub)
	require.NoError(t, err)
	return string(b)
}

// providerFor is a provider named "p" for issuer "https://issuer" with
// alg's key inline.
func providerFor(t testing.TB, alg string) gwconfig.JWTProvider {
	t.Helper()
	k := fixtures(t)
	spec := gwconfig.JWTProvider{Name: "p", Issuer: "https://issuer", Algorithms: []string{alg}}
	if alg[:2] == "HS" {
		spec.Keys = []gwconfig.Key{{Secret: base64.StdEncoding.EncodeToString(k.secret)}}
	} else {
		_, pub := k.signerFor(alg)
		spec.Keys = []gwconfig.Key{{PEM: pemOf(t, pub)}}
	}
	return spec
}

func newTestVerifier(t testing.TB, specs ...gwconfig.JWTProvider) *Verifier {
	t.Helper()
	v, err := NewVerifier(specs, Options{Now: func() time.Time { return testNow }, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

// baseClaims are valid claims at testNow for provider "p".
func baseClaims() map[string]any {
	return map[string]any{
		"iss": "https://issuer",
		"sub": "alice",
		"exp": testNow.Add(time.Hour).Unix(),
		"iat": testNow.Add(-time.Minute).Unix(),
	}
}

func sign(t testing.TB, alg string, key any, kid string, claims map[string]any) string {
	t.Helper()
	tok, err := Sign(alg, key, kid, claims)
	require.NoError(t, err)
	return tok
}

// rawToken assembles a token from raw header and claims JSON and a
// signature computed by signFn over the signing input.
func rawToken(header, claims string, signFn func(input []byte) []byte) string {
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(claims))
	return input + "." + b64.EncodeToString(signFn([]byte(input)))
}
