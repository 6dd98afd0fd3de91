package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// Every algorithm signs and verifies, and the claims come back.
func TestSignVerifyEveryAlgorithm(t *testing.T) {
	k := fixtures(t)
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			v := newTestVerifier(t, providerFor(t, alg))
			priv, _ := k.signerFor(alg)
			claims := baseClaims()
			claims["aud"] = []string{"api", "web"}
			claims["scope"] = "read write"
			claims["scp"] = []string{"admin"}
			claims["roles"] = "ops"
			claims["groups"] = []string{"eng"}
			tok := sign(t, alg, priv, "", claims)
			c, err := v.Verify(context.Background(), tok, []string{"p"})
			require.NoError(t, err)
			require.Equal(t, "p", c.Provider)
			require.Equal(t, "https://issuer", c.Issuer)
			require.Equal(t, "alice", c.Subject)
			require.Equal(t, "alice", c.Consumer)
			require.Equal(t, []string{"api", "web"}, c.Audience)
			require.Equal(t, []string{"read", "write", "admin"}, c.Scopes)
			require.Equal(t, []string{"ops"}, c.Roles)
			require.Equal(t, []string{"eng"}, c.Groups)
			require.Equal(t, testNow.Add(time.Hour), c.ExpiresAt)
			require.Equal(t, testNow.Add(-time.Minute), c.IssuedAt)
			require.True(t, c.NotBefore.IsZero())
			require.True(t, c.HasScope("write"))
			raw, ok := c.Claim("roles")
			require.True(t, ok)
			require.JSONEq(t, `"ops"`, string(raw))
		})
	}
}

// A signer whose public key is a crypto.Signer (not the concrete private
// key types) signs too: LoadSigningKey returns one.
func TestSignWithLoadedKey(t *testing.T) {
	k := fixtures(t)
	require.Equal(t, "RS256", AlgorithmFor(k.rsa))
	require.Equal(t, "ES256", AlgorithmFor(k.ec256))
	require.Equal(t, "ES384", AlgorithmFor(k.ec384))
	require.Equal(t, "ES512", AlgorithmFor(k.ec521))
	require.Equal(t, "EdDSA", AlgorithmFor(k.ed))
	for _, tc := range []struct {
		alg  string
		priv crypto.Signer
	}{{"RS256", k.rsa}, {"PS384", k.rsa}, {"ES512", k.ec521}, {"EdDSA", k.ed}} {
		der, err := MarshalSigningKey(tc.priv)
		require.NoError(t, err)
		signer, err := ParseSigningKey(der)
		require.NoError(t, err)
		tok := sign(t, tc.alg, signer, PublicKeyID(signer.Public()), baseClaims())
		spec := providerFor(t, tc.alg)
		spec.Keys[0].ID = PublicKeyID(signer.Public())
		_, err = newTestVerifier(t, spec).Verify(context.Background(), tok, []string{"p"})
		require.NoError(t, err, tc.alg)
	}
}

func TestSignRefusesWrongKeys(t *testing.T) {
	k := fixtures(t)
	for _, tc := range []struct {
		alg string
		key any
	}{
		{"none", k.secret},
		{"HS256", k.secret[:16]},
		{"HS256", k.rsa},
		{"RS256", k.secret},
		{"RS256", k.ec256},
		{"ES256", k.ec384},
		{"ES384", k.rsa},
		{"EdDSA", k.ec256},
		{"PS256", k.ed},
	} {
		_, err := Sign(tc.alg, tc.key, "", baseClaims())
		require.Error(t, err, "%s with %T", tc.alg, tc.key)
	}
}

func hs256(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

func mustJSON(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok := sign(t, "HS256", fixtures(t).secret, "", claims)
	b, err := b64.DecodeString(strings.Split(tok, ".")[1])
	require.NoError(t, err)
	return string(b)
}

// Each rule of RFC 8725 (and of the package contract) as one case.
func TestVerifyRules(t *testing.T) {
	k := fixtures(t)
	rsaPEM := pemOf(t, &k.rsa.PublicKey)
	with := func(mod func(map[string]any)) map[string]any {
		c := baseClaims()
		mod(c)
		return c
	}
	hsToken := func(t *testing.T, c map[string]any) string { return sign(t, "HS256", k.secret, "", c) }
	cases := []struct {
		name  string
		spec  func(*gwconfig.JWTProvider) // changes the HS256 provider "p"
		token func(t *testing.T) string
		want  error
	}{
		{name: "valid", token: func(t *testing.T) string { return hsToken(t, baseClaims()) }},
		{
			name: "alg none refused",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"none","typ":"JWT"}`, mustJSON(t, baseClaims()), func([]byte) []byte { return nil })
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg None with a signature refused",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"None"}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg confusion: HS256 signed with the RSA public key PEM",
			spec: func(p *gwconfig.JWTProvider) {
				p.Algorithms = []string{"RS256"}
				p.Keys = []gwconfig.Key{{PEM: rsaPEM}}
			},
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256","typ":"JWT"}`, mustJSON(t, baseClaims()), hs256([]byte(rsaPEM)))
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg confusion: an RSA key never verifies an HS token even when both are allowed",
			spec: func(p *gwconfig.JWTProvider) {
				p.Algorithms = []string{"RS256", "ES256"}
				p.Keys = []gwconfig.Key{{PEM: rsaPEM}}
			},
			token: func(t *testing.T) string { return sign(t, "ES256", k.ec256, "", baseClaims()) },
			want:  ErrUnknownKey,
		},
		{
			name:  "alg confusion: an HMAC secret never verifies RS",
			token: func(t *testing.T) string { return sign(t, "RS256", k.rsa, "", baseClaims()) },
			want:  ErrAlgorithm,
		},
		{
			name:  "supported alg outside the allowlist",
			token: func(t *testing.T) string { return sign(t, "HS384", k.secret, "", baseClaims()) },
			want:  ErrAlgorithm,
		},
		{
			name: "unknown alg",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS257"}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
			want: ErrAlgorithm,
		},
		{
			name: "crit header refused",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256","crit":["exp"],"exp":1}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
			want: ErrMalformed,
		},
		{
			name: "typ at+jwt accepted case-insensitively",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256","typ":"AT+JWT"}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
		},
		{
			name: "typ other than JWT refused",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256","typ":"JOSE+JSON"}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
			want: ErrMalformed,
		},
		{
			name:  "missing exp",
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { delete(c, "exp") })) },
			want:  ErrMissingClaim,
		},
		{
			name: "expired beyond leeway",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-31 * time.Second).Unix() }))
			},
			want: ErrExpired,
		},
		{
			name: "expired within leeway",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-29 * time.Second).Unix() }))
			},
		},
		{
			name: "expired within a custom leeway",
			spec: func(p *gwconfig.JWTProvider) { p.Leeway = 2 * time.Minute },
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Minute).Unix() }))
			},
		},
		{
			name: "fractional exp",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["exp"] = float64(testNow.Unix()) - 30.5 }))
			},
			want: ErrExpired,
		},
		{
			name: "nbf in the future beyond leeway",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["nbf"] = testNow.Add(31 * time.Second).Unix() }))
			},
			want: ErrNotYetValid,
		},
		{
			name: "nbf within leeway",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["nbf"] = testNow.Add(29 * time.Second).Unix() }))
			},
		},
		{
			name: "iat in the future",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["iat"] = testNow.Add(time.Minute).Unix() }))
			},
			want: ErrNotYetValid,
		},
		{
			name: "wrong iss",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["iss"] = "https://issuer/" }))
			},
			want: ErrIssuer,
		},
		{
			name:  "missing iss",
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { delete(c, "iss") })) },
			want:  ErrMissingClaim,
		},
		{
			name:  "missing aud when audiences are configured",
			spec:  func(p *gwconfig.JWTProvider) { p.Audiences = []string{"api"} },
			token: func(t *testing.T) string { return hsToken(t, baseClaims()) },
			want:  ErrAudience,
		},
		{
			name: "wrong aud",
			spec: func(p *gwconfig.JWTProvider) { p.Audiences = []string{"api"} },
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["aud"] = []string{"web", "apix"} }))
			},
			want: ErrAudience,
		},
		{
			name: "aud array holding a configured audience",
			spec: func(p *gwconfig.JWTProvider) { p.Audiences = []string{"other", "api"} },
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["aud"] = []string{"web", "api"} }))
			},
		},
		{
			name:  "aud string",
			spec:  func(p *gwconfig.JWTProvider) { p.Audiences = []string{"api"} },
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { c["aud"] = "api" })) },
		},
		{
			name:  "aud of the wrong type",
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { c["aud"] = 7 })) },
			want:  ErrMalformed,
		},
		{
			name:  "kid mismatch",
			spec:  func(p *gwconfig.JWTProvider) { p.Keys[0].ID = "k1" },
			token: func(t *testing.T) string { return sign(t, "HS256", k.secret, "k2", baseClaims()) },
			want:  ErrUnknownKey,
		},
		{
			name:  "kid match",
			spec:  func(p *gwconfig.JWTProvider) { p.Keys[0].ID = "k1" },
			token: func(t *testing.T) string { return sign(t, "HS256", k.secret, "k1", baseClaims()) },
		},
		{
			name: "kid picks the right one of two keys",
			spec: func(p *gwconfig.JWTProvider) {
				p.Keys = []gwconfig.Key{
					{ID: "old", Secret: base64.StdEncoding.EncodeToString(k.secret2)},
					{ID: "new", Secret: base64.StdEncoding.EncodeToString(k.secret)},
				}
			},
			token: func(t *testing.T) string { return sign(t, "HS256", k.secret, "new", baseClaims()) },
		},
		{
			name:  "wrong secret",
			token: func(t *testing.T) string { return sign(t, "HS256", k.secret2, "", baseClaims()) },
			want:  ErrSignature,
		},
		{
			name: "truncated signature",
			token: func(t *testing.T) string {
				parts := strings.Split(hsToken(t, baseClaims()), ".")
				sig, err := b64.DecodeString(parts[2])
				require.NoError(t, err)
				parts[2] = b64.EncodeToString(sig[:len(sig)-1])
				return strings.Join(parts, ".")
			},
			want: ErrSignature,
		},
		{
			name: "claims changed after signing",
			token: func(t *testing.T) string {
				parts := strings.Split(hsToken(t, baseClaims()), ".")
				parts[1] = b64.EncodeToString([]byte(mustJSON(t, with(func(c map[string]any) { c["sub"] = "mallory" }))))
				return strings.Join(parts, ".")
			},
			want: ErrSignature,
		},
		{
			name: "ES256 signature in DER form refused",
			spec: func(p *gwconfig.JWTProvider) {
				p.Algorithms = []string{"ES256"}
				p.Keys = []gwconfig.Key{{PEM: pemOf(t, &k.ec256.PublicKey)}}
			},
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"ES256"}`, mustJSON(t, baseClaims()), func(in []byte) []byte {
					sum := sha256.Sum256(in)
					der, err := ecdsa.SignASN1(rand.Reader, k.ec256, sum[:])
					require.NoError(t, err)
					return der
				})
			},
			want: ErrSignature,
		},
		{
			name: "a key embedded in the header (jwk) is never trusted",
			spec: func(p *gwconfig.JWTProvider) {
				p.Algorithms = []string{"ES256"}
				p.Keys = []gwconfig.Key{{PEM: pemOf(t, &k.ec256.PublicKey)}}
			},
			token: func(t *testing.T) string {
				attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				require.NoError(t, err)
				j, err := PublicJWK(&attacker.PublicKey, "", "ES256")
				require.NoError(t, err)
				return rawToken(`{"alg":"ES256","jwk":`+string(j)+`,"jku":"http://127.0.0.1:1/keys"}`, mustJSON(t, baseClaims()), func(in []byte) []byte {
					sum := sha256.Sum256(in)
					r, s, err := ecdsa.Sign(rand.Reader, attacker, sum[:])
					require.NoError(t, err)
					out := make([]byte, 64)
					r.FillBytes(out[:32])
					s.FillBytes(out[32:])
					return out
				})
			},
			want: ErrSignature,
		},
		{
			name: "RS256 token signed by another key",
			spec: func(p *gwconfig.JWTProvider) {
				p.Algorithms = []string{"RS256"}
				p.Keys = []gwconfig.Key{{PEM: rsaPEM}}
			},
			token: func(t *testing.T) string { return sign(t, "RS256", k.rsa2, "", baseClaims()) },
			want:  ErrSignature,
		},
		{
			name: "longer than 16 KiB",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["pad"] = strings.Repeat("x", MaxTokenBytes) }))
			},
			want: ErrMalformed,
		},
		{
			name: "two parts",
			token: func(t *testing.T) string {
				tok := hsToken(t, baseClaims())
				return tok[:strings.LastIndexByte(tok, '.')]
			},
			want: ErrMalformed,
		},
		{
			name:  "four parts",
			token: func(t *testing.T) string { return hsToken(t, baseClaims()) + ".e30" },
			want:  ErrMalformed,
		},
		{
			name:  "base64 padding",
			token: func(t *testing.T) string { return rawPadded(hsToken(t, baseClaims())) },
			want:  ErrMalformed,
		},
		{
			name: "newline inside a part",
			token: func(t *testing.T) string {
				tok := hsToken(t, baseClaims())
				return tok[:10] + "\n" + tok[10:]
			},
			want: ErrMalformed,
		},
		{
			name: "duplicate claim",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256"}`, dupClaims(t, `"sub":"mallory"`), hs256(k.secret))
			},
			want: ErrMalformed,
		},
		{
			name: "duplicate claim spelled with an escape",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256"}`, dupClaims(t, `"s\u0075b":"mallory"`), hs256(k.secret))
			},
			want: ErrMalformed,
		},
		{
			name: "duplicate header member",
			token: func(t *testing.T) string {
				return rawToken(`{"alg":"HS256","alg":"none"}`, mustJSON(t, baseClaims()), hs256(k.secret))
			},
			want: ErrMalformed,
		},
		{
			name:  "header is not an object",
			token: func(t *testing.T) string { return rawToken(`["HS256"]`, mustJSON(t, baseClaims()), hs256(k.secret)) },
			want:  ErrMalformed,
		},
		{
			name:  "claims are not JSON",
			token: func(t *testing.T) string { return rawToken(`{"alg":"HS256"}`, `{"iss":`, hs256(k.secret)) },
			want:  ErrMalformed,
		},
		{
			name:  "exp of the wrong type",
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { c["exp"] = "soon" })) },
			want:  ErrMalformed,
		},
		{
			name: "iss of the wrong type",
			token: func(t *testing.T) string {
				return hsToken(t, with(func(c map[string]any) { c["iss"] = []string{"https://issuer"} }))
			},
			want: ErrMalformed,
		},
		{
			name:  "lifetime above max_lifetime",
			spec:  func(p *gwconfig.JWTProvider) { p.MaxLifetime = 30 * time.Minute },
			token: func(t *testing.T) string { return hsToken(t, baseClaims()) },
			want:  ErrLifetime,
		},
		{
			name:  "lifetime within max_lifetime",
			spec:  func(p *gwconfig.JWTProvider) { p.MaxLifetime = 2 * time.Hour },
			token: func(t *testing.T) string { return hsToken(t, baseClaims()) },
		},
		{
			name:  "custom consumer claim missing",
			spec:  func(p *gwconfig.JWTProvider) { p.ConsumerClaim = "client_id" },
			token: func(t *testing.T) string { return hsToken(t, baseClaims()) },
			want:  ErrMissingClaim,
		},
		{
			name:  "missing sub",
			token: func(t *testing.T) string { return hsToken(t, with(func(c map[string]any) { delete(c, "sub") })) },
			want:  ErrMissingClaim,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := providerFor(t, "HS256")
			if tc.spec != nil {
				tc.spec(&spec)
			}
			v := newTestVerifier(t, spec)
			c, err := v.Verify(context.Background(), tc.token(t), []string{"p"})
			if tc.want == nil {
				require.NoError(t, err)
				require.NotEmpty(t, c.Consumer)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, c)
			for _, other := range []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrMissingClaim, ErrLifetime} {
				if other != tc.want {
					require.False(t, errors.Is(err, other), "%v also matches %v", err, other)
				}
			}
			require.NotEqual(t, "invalid token", Description(err))
		})
	}
}

func rawPadded(tok string) string {
	parts := strings.Split(tok, ".")
	for i, p := range parts {
		for len(p)%4 != 0 {
			p += "="
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// dupClaims returns valid claims JSON with extra appended as one more member.
func dupClaims(t *testing.T, extra string) string {
	c := mustJSON(t, baseClaims())
	return c[:len(c)-1] + "," + extra + "}"
}

func TestCustomConsumerClaim(t *testing.T) {
	k := fixtures(t)
	spec := providerFor(t, "HS256")
	spec.ConsumerClaim = "client_id"
	c := baseClaims()
	c["client_id"] = "billing-svc"
	got, err := newTestVerifier(t, spec).Verify(context.Background(), sign(t, "HS256", k.secret, "", c), []string{"p"})
	require.NoError(t, err)
	require.Equal(t, "billing-svc", got.Consumer)
	require.Equal(t, "alice", got.Subject)
}

// Verify only tries the providers it is given, and among them those whose
// issuer matches.
func TestVerifyProviderSelection(t *testing.T) {
	k := fixtures(t)
	a := providerFor(t, "HS256")
	b := providerFor(t, "HS256")
	b.Name = "q"
	b.Keys = []gwconfig.Key{{Secret: base64.StdEncoding.EncodeToString(k.secret2)}}
	c := providerFor(t, "EdDSA")
	c.Name, c.Issuer = "r", "https://other"
	v := newTestVerifier(t, a, b, c)
	ctx := context.Background()
	tok := sign(t, "HS256", k.secret2, "", baseClaims())

	got, err := v.Verify(ctx, tok, []string{"p", "q"})
	require.NoError(t, err)
	require.Equal(t, "q", got.Provider, "the second provider with the same issuer accepts it")
	_, err = v.Verify(ctx, tok, []string{"p"})
	require.ErrorIs(t, err, ErrSignature)
	_, err = v.Verify(ctx, tok, []string{"r"})
	require.ErrorIs(t, err, ErrIssuer)
	_, err = v.Verify(ctx, tok, nil)
	require.ErrorIs(t, err, ErrIssuer)
	_, err = v.Verify(ctx, tok, []string{"missing"})
	require.ErrorIs(t, err, ErrIssuer)
}

func TestClusterIssuer(t *testing.T) {
	k := fixtures(t)
	spec := gwconfig.JWTProvider{Name: "cluster", Issuer: "cairn", Algorithms: []string{"EdDSA"}, ClusterIssuer: true}
	v, err := NewVerifier([]gwconfig.JWTProvider{spec}, Options{ClusterKey: k.ed.Public(), Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	defer v.Close()
	claims := baseClaims()
	claims["iss"] = "cairn"
	got, err := v.Verify(context.Background(), sign(t, "EdDSA", k.ed, PublicKeyID(k.ed.Public()), claims), []string{"cluster"})
	require.NoError(t, err)
	require.Equal(t, "cluster", got.Provider)
	_, err = v.Verify(context.Background(), sign(t, "EdDSA", k.ed, "another-kid", claims), []string{"cluster"})
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = v.Verify(context.Background(), sign(t, "EdDSA", k.ed2, PublicKeyID(k.ed.Public()), claims), []string{"cluster"})
	require.ErrorIs(t, err, ErrSignature)

	// Without the cluster key the provider exists but verifies nothing.
	v2, err := NewVerifier([]gwconfig.JWTProvider{spec}, Options{Now: func() time.Time { return testNow }, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	defer v2.Close()
	_, err = v2.Verify(context.Background(), sign(t, "EdDSA", k.ed, "", claims), []string{"cluster"})
	require.ErrorIs(t, err, ErrUnknownKey)
}

func TestVerifyAfterClose(t *testing.T) {
	v := newTestVerifier(t, providerFor(t, "HS256"))
	v.Close()
	v.Close()
	_, err := v.Verify(context.Background(), sign(t, "HS256", fixtures(t).secret, "", baseClaims()), []string{"p"})
	require.ErrorIs(t, err, ErrClosed)
}

func TestDescriptionIsSafe(t *testing.T) {
	seen := map[string]bool{}
	for _, err := range []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrMissingClaim, ErrLifetime} {
		d := Description(fmt.Errorf("%w: detail with \"quotes\" and a kid", err))
		require.NotContains(t, d, "detail")
		require.NotContains(t, d, `"`, "it goes inside a quoted-string")
		require.False(t, seen[d], "one text per rule")
		seen[d] = true
	}
	require.Equal(t, "invalid token", Description(errors.New("something internal")))
	require.Equal(t, "invalid token", Description(ErrClosed))
	require.Equal(t, "malformed token", Description(errors.Join(errors.New("x"), ErrMalformed)))
}
