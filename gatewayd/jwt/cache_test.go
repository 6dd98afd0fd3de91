package jwt

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// A cached token is checked against the clock on every hit.
func TestCacheRechecksTime(t *testing.T) {
	k := fixtures(t)
	var clock atomic.Int64
	v, err := NewVerifier([]gwconfig.JWTProvider{providerFor(t, "HS256")}, Options{Now: func() time.Time { return testNow.Add(time.Duration(clock.Load())) }})
	require.NoError(t, err)
	defer v.Close()
	tok := sign(t, "HS256", k.secret, "", baseClaims())
	first, err := v.Verify(context.Background(), tok, []string{"p"})
	require.NoError(t, err)
	second, err := v.Verify(context.Background(), tok, []string{"p"})
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.NotSame(t, first, second)

	// Appending to one answer's slices never shows in another's.
	first.Scopes = append(first.Scopes, "injected")
	third, err := v.Verify(context.Background(), tok, []string{"p"})
	require.NoError(t, err)
	require.NotContains(t, third.Scopes, "injected")

	clock.Store(int64(time.Hour + DefaultLeeway))
	_, err = v.Verify(context.Background(), tok, []string{"p"})
	require.ErrorIs(t, err, ErrExpired)
}

// A token cached for one provider is not accepted for providers that would
// refuse it, or where another provider of the same issuer comes first.
func TestCacheRespectsProviders(t *testing.T) {
	k := fixtures(t)
	p := providerFor(t, "HS256")
	q := providerFor(t, "HS256")
	q.Name = "q"
	q.Keys = []gwconfig.Key{{Secret: base64.StdEncoding.EncodeToString(k.secret2)}}
	v := newTestVerifier(t, p, q)
	tok := sign(t, "HS256", k.secret2, "", baseClaims())
	c, err := v.Verify(context.Background(), tok, []string{"q"})
	require.NoError(t, err)
	require.Equal(t, "q", c.Provider)
	_, err = v.Verify(context.Background(), tok, []string{"p"})
	require.ErrorIs(t, err, ErrSignature)
	c, err = v.Verify(context.Background(), tok, []string{"p", "q"})
	require.NoError(t, err)
	require.Equal(t, "q", c.Provider)
	_, err = v.Verify(context.Background(), tok, nil)
	require.ErrorIs(t, err, ErrIssuer)
}

// A token cached while its key was in the JWKS stops verifying once a
// refresh removes the key.
func TestCacheForgetsRotatedKeys(t *testing.T) {
	f := fixtures(t)
	srv := newJWKSServer(t)
	srv.serve(http.StatusOK, jwkOf(t, f.ed.Public(), "old"))
	spec := gwconfig.JWTProvider{Name: "p", Issuer: "https://issuer", Algorithms: []string{"EdDSA"}, JWKSURL: srv.URL, JWKSRefresh: 10 * time.Millisecond}
	v, err := NewVerifier([]gwconfig.JWTProvider{spec}, Options{Now: func() time.Time { return testNow }, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	defer v.Close()
	tok := sign(t, "EdDSA", f.ed, "old", baseClaims())
	nodetest.WaitFor(t, 10*time.Second, "key set", func() bool {
		_, err := v.Verify(context.Background(), tok, []string{"p"})
		return err == nil
	})
	srv.serve(http.StatusOK, jwkOf(t, f.ed2.Public(), "new"))
	nodetest.WaitFor(t, 10*time.Second, "the old key to stop working", func() bool {
		_, err := v.Verify(context.Background(), tok, []string{"p"})
		return err != nil
	})
}

func TestCacheDisabled(t *testing.T) {
	require.Nil(t, newTokenCache(-1))
	require.Len(t, newTokenCache(0).slots, DefaultCacheSize)
	require.Len(t, newTokenCache(1000).slots, 1024)
}

// Many goroutines verify a mix of tokens (cached, uncached, refused) while
// the cache churns: run with -race.
func TestVerifyConcurrent(t *testing.T) {
	k := fixtures(t)
	v, err := NewVerifier([]gwconfig.JWTProvider{providerFor(t, "HS256")}, Options{Now: func() time.Time { return testNow }, CacheSize: 4})
	require.NoError(t, err)
	defer v.Close()
	var toks []string
	for i := range 16 {
		c := baseClaims()
		c["sub"] = fmt.Sprintf("user-%d", i)
		toks = append(toks, sign(t, "HS256", k.secret, "", c))
	}
	bad := sign(t, "HS256", k.secret2, "", baseClaims())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				tok := toks[(g+i)%len(toks)]
				c, err := v.Verify(context.Background(), tok, []string{"p"})
				if err != nil || c.Consumer != fmt.Sprintf("user-%d", (g+i)%len(toks)) {
					errs <- fmt.Errorf("token %d: %v %v", (g+i)%len(toks), c, err)
					return
				}
				if _, err := v.Verify(context.Background(), bad, []string{"p"}); err == nil {
					errs <- fmt.Errorf("bad token accepted")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Long tokens are verified every time rather than kept.
func TestCacheSkipsLongTokens(t *testing.T) {
	k := fixtures(t)
	v := newTestVerifier(t, providerFor(t, "HS256"))
	c := baseClaims()
	c["pad"] = strings.Repeat("x", maxCachedToken)
	tok := sign(t, "HS256", k.secret, "", c)
	_, err := v.Verify(context.Background(), tok, []string{"p"})
	require.NoError(t, err)
	require.Nil(t, v.cache.get(tok))
	short := sign(t, "HS256", k.secret, "", baseClaims())
	_, err = v.Verify(context.Background(), short, []string{"p"})
	require.NoError(t, err)
	require.NotNil(t, v.cache.get(short))
}
