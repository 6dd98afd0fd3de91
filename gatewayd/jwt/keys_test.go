package jwt

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// The examples of RFC 7638 section 3.1 (RSA) and RFC 8037 appendix A.3
// (Ed25519).
func TestPublicKeyIDRFCVectors(t *testing.T) {
	rsaJWK := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	k, err := parseJWK([]byte(rsaJWK), false)
	require.NoError(t, err)
	require.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", PublicKeyID(k.rsa))
	require.Equal(t, "2011-04-29", k.kid)
	require.Equal(t, "RS256", k.alg)

	edJWK := `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	k, err = parseJWK([]byte(edJWK), false)
	require.NoError(t, err)
	require.Equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", PublicKeyID(k.ed))

	// Private keys name their public half; unknown types have no id.
	f := fixtures(t)
	require.Equal(t, PublicKeyID(f.ec256.Public()), PublicKeyID(f.ec256))
	require.Empty(t, PublicKeyID("not a key"))
}

// PublicJWK and parseJWK round-trip every public key type.
func TestPublicJWKRoundTrip(t *testing.T) {
	f := fixtures(t)
	for _, alg := range []string{"RS256", "ES256", "ES384", "ES512", "EdDSA"} {
		_, pub := f.signerFor(alg)
		j, err := PublicJWK(pub, "kid-"+alg, alg)
		require.NoError(t, err)
		k, err := parseJWK(j, false)
		require.NoError(t, err, string(j))
		require.Equal(t, "kid-"+alg, k.kid)
		require.True(t, k.allows(algorithms[alg]))
		var back any
		switch k.kty {
		case ktyRSA:
			back = k.rsa
		case ktyEC:
			back = k.ec
		case ktyOKP:
			back = k.ed
		}
		require.Equal(t, PublicKeyID(pub), PublicKeyID(back))
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func selfSigned(t *testing.T) []byte {
	t.Helper()
	f := fixtures(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, f.ed.Public(), f.ed)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Every key source verifies a token of its algorithm.
func TestKeySources(t *testing.T) {
	f := fixtures(t)
	ecPEM := pemOf(t, &f.ec384.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&f.rsa.PublicKey)})
	jwkRSA, err := PublicJWK(&f.rsa.PublicKey, "r1", "")
	require.NoError(t, err)
	jwkEC, err := PublicJWK(&f.ec256.PublicKey, "e1", "ES256")
	require.NoError(t, err)
	set := []byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"unknown"},` + string(jwkRSA) + `,` + string(jwkEC) + `]}`)
	oct := []byte(`{"kty":"oct","kid":"s1","k":"` + b64.EncodeToString(f.secret) + `"}`)
	cases := []struct {
		name string
		algs []string
		key  gwconfig.Key
		alg  string
		sign any
		kid  string
	}{
		{"inline PEM", []string{"ES384"}, gwconfig.Key{PEM: ecPEM}, "ES384", f.ec384, ""},
		{"PEM file", []string{"ES384"}, gwconfig.Key{File: writeFile(t, "ec.pem", []byte(ecPEM))}, "ES384", f.ec384, ""},
		{"PKCS1 PEM file", []string{"PS512"}, gwconfig.Key{File: writeFile(t, "rsa.pem", pkcs1)}, "PS512", f.rsa, ""},
		{"certificate file", []string{"EdDSA"}, gwconfig.Key{File: writeFile(t, "cert.pem", selfSigned(t))}, "EdDSA", f.ed, ""},
		{"JWK file", []string{"RS384"}, gwconfig.Key{File: writeFile(t, "k.jwk", jwkRSA)}, "RS384", f.rsa, "r1"},
		{"JWKS file, RSA", []string{"RS256", "ES256"}, gwconfig.Key{File: writeFile(t, "k.jwks", set)}, "RS256", f.rsa, "r1"},
		{"JWKS file, EC", []string{"RS256", "ES256"}, gwconfig.Key{File: writeFile(t, "k.jwks", set)}, "ES256", f.ec256, "e1"},
		{"JWKS file, no kid", []string{"RS256", "ES256"}, gwconfig.Key{File: writeFile(t, "k.jwks", set)}, "ES256", f.ec256, ""},
		{"oct JWK file", []string{"HS512"}, gwconfig.Key{File: writeFile(t, "s.jwk", oct)}, "HS512", f.secret, "s1"},
		{"kid overrides the file's", []string{"RS256"}, gwconfig.Key{ID: "mine", File: writeFile(t, "k.jwk", jwkRSA)}, "RS256", f.rsa, "mine"},
		{"secret in url alphabet", []string{"HS256"}, gwconfig.Key{Secret: base64.RawURLEncoding.EncodeToString(f.secret)}, "HS256", f.secret, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := gwconfig.JWTProvider{Name: "p", Issuer: "https://issuer", Algorithms: tc.algs, Keys: []gwconfig.Key{tc.key}}
			v := newTestVerifier(t, spec)
			_, err := v.Verify(context.Background(), sign(t, tc.alg, tc.sign, tc.kid, baseClaims()), []string{"p"})
			require.NoError(t, err)
		})
	}
}

// A JWK's alg restricts it to that one algorithm.
func TestJWKAlgRestricts(t *testing.T) {
	f := fixtures(t)
	j, err := PublicJWK(&f.rsa.PublicKey, "", "RS256")
	require.NoError(t, err)
	spec := gwconfig.JWTProvider{Name: "p", Issuer: "https://issuer", Algorithms: []string{"RS256", "PS256"}, Keys: []gwconfig.Key{{File: writeFile(t, "k.jwk", j)}}}
	v := newTestVerifier(t, spec)
	_, err = v.Verify(context.Background(), sign(t, "RS256", f.rsa, "", baseClaims()), []string{"p"})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), sign(t, "PS256", f.rsa, "", baseClaims()), []string{"p"})
	require.ErrorIs(t, err, ErrUnknownKey)
}

func TestNewVerifierRefuses(t *testing.T) {
	f := fixtures(t)
	secret := base64.StdEncoding.EncodeToString(f.secret)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	privPEM, err := MarshalSigningKey(f.ec256)
	require.NoError(t, err)
	ok := func() gwconfig.JWTProvider {
		return gwconfig.JWTProvider{Name: "p", Issuer: "i", Algorithms: []string{"HS256"}, Keys: []gwconfig.Key{{Secret: secret}}}
	}
	cases := []struct {
		name string
		mod  func(*gwconfig.JWTProvider)
	}{
		{"no name", func(p *gwconfig.JWTProvider) { p.Name = "" }},
		{"no issuer", func(p *gwconfig.JWTProvider) { p.Issuer = "" }},
		{"no algorithms", func(p *gwconfig.JWTProvider) { p.Algorithms = nil }},
		{"none", func(p *gwconfig.JWTProvider) { p.Algorithms = []string{"none"} }},
		{"lowercase alg", func(p *gwconfig.JWTProvider) { p.Algorithms = []string{"hs256"} }},
		{"HS mixed with RS", func(p *gwconfig.JWTProvider) { p.Algorithms = []string{"HS256", "RS256"} }},
		{"short secret", func(p *gwconfig.JWTProvider) { p.Keys[0].Secret = base64.StdEncoding.EncodeToString(f.secret[:31]) }},
		{"secret not base64", func(p *gwconfig.JWTProvider) { p.Keys[0].Secret = "not base64!" }},
		{"two sources in one key", func(p *gwconfig.JWTProvider) { p.Keys[0].PEM = pemOf(t, &f.rsa.PublicKey) }},
		{"empty key", func(p *gwconfig.JWTProvider) { p.Keys[0] = gwconfig.Key{ID: "x"} }},
		{"secret for RS", func(p *gwconfig.JWTProvider) { p.Algorithms = []string{"RS256"} }},
		{"RSA key for ES", func(p *gwconfig.JWTProvider) {
			p.Algorithms = []string{"ES256"}
			p.Keys = []gwconfig.Key{{PEM: pemOf(t, &f.rsa.PublicKey)}}
		}},
		{"RSA key below 2048 bits", func(p *gwconfig.JWTProvider) {
			p.Algorithms = []string{"RS256"}
			p.Keys = []gwconfig.Key{{PEM: pemOf(t, &small.PublicKey)}}
		}},
		{"private key PEM", func(p *gwconfig.JWTProvider) {
			p.Algorithms = []string{"ES256"}
			p.Keys = []gwconfig.Key{{PEM: string(privPEM)}}
		}},
		{"PEM without blocks", func(p *gwconfig.JWTProvider) { p.Keys = []gwconfig.Key{{PEM: "hello"}} }},
		{"PEM with a bad block", func(p *gwconfig.JWTProvider) {
			p.Algorithms = []string{"RS256"}
			p.Keys = []gwconfig.Key{{PEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}
		}},
		{"missing file", func(p *gwconfig.JWTProvider) { p.Keys = []gwconfig.Key{{File: filepath.Join(t.TempDir(), "nope")}} }},
		{"bad JWK file", func(p *gwconfig.JWTProvider) {
			p.Keys = []gwconfig.Key{{File: writeFile(t, "k.jwk", []byte(`{"kty":"oct","k":"c2hvcnQ"}`))}}
		}},
		{"no key source", func(p *gwconfig.JWTProvider) { p.Keys = nil }},
		{"JWKS URL with HMAC", func(p *gwconfig.JWTProvider) { p.JWKSURL = "http://127.0.0.1:1/jwks" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.mod(&p)
			v, err := NewVerifier([]gwconfig.JWTProvider{p}, Options{})
			require.ErrorIs(t, err, ErrConfig)
			require.Nil(t, v)
			t.Log(err)
		})
	}
	cluster := ok()
	cluster.Keys, cluster.ClusterIssuer = nil, true
	_, err = NewVerifier([]gwconfig.JWTProvider{cluster}, Options{ClusterKey: f.ed.Public()})
	require.ErrorIs(t, err, ErrConfig, "an Ed25519 cluster key for an HS256 provider")
	bad := ok()
	bad.Keys[0].Secret = "c2hvcnQ="
	_, err = NewVerifier([]gwconfig.JWTProvider{bad}, Options{})
	require.ErrorIs(t, err, ErrKey)
	require.ErrorContains(t, err, "p: keys[0]")
	_, err = NewVerifier([]gwconfig.JWTProvider{ok(), ok()}, Options{})
	require.ErrorIs(t, err, ErrConfig, "duplicate names")
	v, err := NewVerifier([]gwconfig.JWTProvider{ok()}, Options{})
	require.NoError(t, err)
	v.Close()
}

func TestLoadSigningKey(t *testing.T) {
	f := fixtures(t)
	der, err := MarshalSigningKey(f.ed)
	require.NoError(t, err)
	s, err := LoadSigningKey(writeFile(t, "k.pem", der))
	require.NoError(t, err)
	require.Equal(t, PublicKeyID(f.ed.Public()), PublicKeyID(s.Public()))

	_, err = LoadSigningKey(writeFile(t, "pub.pem", []byte(pemOf(t, f.ed.Public()))))
	require.ErrorIs(t, err, ErrKey)
	_, err = LoadSigningKey(filepath.Join(t.TempDir(), "none"))
	require.ErrorIs(t, err, ErrKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(f.rsa)})
	_, err = LoadSigningKey(writeFile(t, "rsa.pem", pkcs1))
	require.ErrorIs(t, err, ErrKey, "PKCS #8 only")
}
