package jwt

import (
	"context"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// benchVerify measures Verify of one valid token of alg, the gateway's per
// request cost for a bearer token: "cached" is a client repeating its token
// (the common case), "uncached" the full parse and signature check.
func benchVerify(b *testing.B, alg string) {
	b.Run("cached", func(b *testing.B) { benchVerifyCache(b, alg, 0) })
	b.Run("uncached", func(b *testing.B) { benchVerifyCache(b, alg, -1) })
}

func benchVerifyCache(b *testing.B, alg string, cacheSize int) {
	k := fixtures(b)
	v, err := NewVerifier([]gwconfig.JWTProvider{providerFor(b, alg)}, Options{Now: func() time.Time { return testNow }, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	priv, _ := k.signerFor(alg)
	c := baseClaims()
	c["scope"] = "read write"
	c["aud"] = "api"
	tok := sign(b, alg, priv, "kid-1", c)
	ctx := context.Background()
	providers := []string{"p"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, providers); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHS256(b *testing.B) { benchVerify(b, "HS256") }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, "EdDSA") }
func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, "RS256") }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, "ES256") }

// BenchmarkVerifyParallel is HS256 from every CPU at once: the pooled HMAC
// states must not serialize callers.
func BenchmarkVerifyParallel(b *testing.B) {
	k := fixtures(b)
	v := newTestVerifier(b, providerFor(b, "HS256"))
	tok := sign(b, "HS256", k.secret, "", baseClaims())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(context.Background(), tok, []string{"p"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRejectMalformed is the cost of refusing garbage.
func BenchmarkRejectMalformed(b *testing.B) {
	v := newTestVerifier(b, providerFor(b, "HS256"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.AAAA", []string{"p"}); err == nil {
			b.Fatal("accepted")
		}
	}
}
