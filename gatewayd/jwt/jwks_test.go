package jwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// jwksServer serves a key set the test changes, or an error status.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex // protects body and status
	body     string
	status   int
	requests atomic.Int64
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{status: http.StatusServiceUnavailable}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(status int, keys ...[]byte) {
	var parts []string
	for _, k := range keys {
		parts = append(parts, string(k))
	}
	s.mu.Lock()
	s.body, s.status = `{"keys":[`+strings.Join(parts, ",")+`]}`, status
	s.mu.Unlock()
}

func jwkOf(t *testing.T, pub any, kid string) []byte {
	t.Helper()
	j, err := PublicJWK(pub, kid, "")
	require.NoError(t, err)
	return j
}

func jwksVerifier(t *testing.T, url string, refresh time.Duration, now func() time.Time) *Verifier {
	t.Helper()
	spec := gwconfig.JWTProvider{Name: "p", Issuer: "https://issuer", Algorithms: []string{"EdDSA", "ES256"}, JWKSURL: url, JWKSRefresh: refresh}
	v, err := NewVerifier([]gwconfig.JWTProvider{spec}, Options{Now: now, Logger: nodetest.Logger(t), RetryBase: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

// A provider whose JWKS is down at start has no keys; the fetcher retries
// until it gets them; a token with a new kid makes it refetch early.
func TestJWKSRetryAndUnknownKid(t *testing.T) {
	f := fixtures(t)
	srv := newJWKSServer(t)
	var clock atomic.Int64 // seconds after testNow
	v := jwksVerifier(t, srv.URL, time.Hour, func() time.Time { return testNow.Add(time.Duration(clock.Load()) * time.Second) })
	ctx := context.Background()
	tok1 := sign(t, "EdDSA", f.ed, "k1", baseClaims())

	nodetest.WaitFor(t, 10*time.Second, "a failed fetch", func() bool { return srv.requests.Load() >= 1 })
	_, err := v.Verify(ctx, tok1, []string{"p"})
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, 0, v.Keys("p"))

	srv.serve(http.StatusOK, jwkOf(t, f.ed.Public(), "k1"))
	nodetest.WaitFor(t, 10*time.Second, "keys after a retry", func() bool { return v.Keys("p") == 1 })
	_, err = v.Verify(ctx, tok1, []string{"p"})
	require.NoError(t, err)

	// Rotation: k2 appears in the set; the first token with kid k2 fails and
	// wakes the fetcher (the refresh interval is an hour), once the last
	// early refetch (asked for by tok1 above) is RefetchInterval old.
	clock.Store(int64(RefetchInterval / time.Second))
	srv.serve(http.StatusOK, jwkOf(t, f.ed.Public(), "k1"), jwkOf(t, &f.ec256.PublicKey, "k2"))
	tok2 := sign(t, "ES256", f.ec256, "k2", baseClaims())
	_, err = v.Verify(ctx, tok2, []string{"p"})
	require.ErrorIs(t, err, ErrUnknownKey)
	nodetest.WaitFor(t, 10*time.Second, "k2 after the early refetch", func() bool {
		_, err := v.Verify(ctx, tok2, []string{"p"})
		return err == nil
	})
	require.Equal(t, 2, v.Keys("p"))
	require.Equal(t, -1, v.Keys("nope"))
}

// The set is refreshed every jwks_refresh; a failed refresh keeps the keys
// of the last good one.
func TestJWKSPeriodicRefresh(t *testing.T) {
	f := fixtures(t)
	srv := newJWKSServer(t)
	srv.serve(http.StatusOK, jwkOf(t, f.ed.Public(), ""))
	v := jwksVerifier(t, srv.URL, 10*time.Millisecond, func() time.Time { return testNow })
	ctx := context.Background()
	nodetest.WaitFor(t, 10*time.Second, "first key set", func() bool { return v.Keys("p") == 1 })

	// No kid: only the periodic refresh can bring the new key in.
	srv.serve(http.StatusOK, jwkOf(t, f.ed2.Public(), ""))
	tok := sign(t, "EdDSA", f.ed2, "", baseClaims())
	nodetest.WaitFor(t, 10*time.Second, "refreshed key set", func() bool {
		_, err := v.Verify(ctx, tok, []string{"p"})
		return err == nil
	})

	srv.serve(http.StatusInternalServerError)
	n := srv.requests.Load()
	nodetest.WaitFor(t, 10*time.Second, "two failed refreshes", func() bool { return srv.requests.Load() >= n+2 })
	_, err := v.Verify(ctx, tok, []string{"p"})
	require.NoError(t, err)
}

// Bad key sets install nothing: oversized, secret keys, not JSON.
func TestJWKSBadSets(t *testing.T) {
	f := fixtures(t)
	for name, body := range map[string]string{
		"oversized":  `{"keys":[` + string(jwkOf(t, f.ed.Public(), strings.Repeat("k", maxJWKSBytes))) + `]}`,
		"secret key": `{"keys":[{"kty":"oct","k":"` + b64.EncodeToString(f.secret) + `"}]}`,
		"not JSON":   `<html>`,
		"empty set":  `{"keys":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newJWKSServer(t)
			srv.mu.Lock()
			srv.body, srv.status = body, http.StatusOK
			srv.mu.Unlock()
			v := jwksVerifier(t, srv.URL, time.Hour, nil)
			nodetest.WaitFor(t, 10*time.Second, "two fetches", func() bool { return srv.requests.Load() >= 2 })
			require.Equal(t, 0, v.Keys("p"))
		})
	}
}

// Early refetches are asked for at most once per RefetchInterval.
func TestAskRefetchRateLimit(t *testing.T) {
	r := &remoteSet{kick: make(chan struct{}, 1)}
	kicked := func() bool {
		select {
		case <-r.kick:
			return true
		default:
			return false
		}
	}
	t0 := testNow
	r.askRefetch(t0)
	require.True(t, kicked())
	r.askRefetch(t0.Add(time.Second))
	r.askRefetch(t0.Add(RefetchInterval - time.Nanosecond))
	require.False(t, kicked())
	r.askRefetch(t0.Add(RefetchInterval))
	require.True(t, kicked())
	// A kick not yet consumed is not doubled.
	r.askRefetch(t0.Add(3 * RefetchInterval))
	r.askRefetch(t0.Add(5 * RefetchInterval))
	require.True(t, kicked())
	require.False(t, kicked())
}
