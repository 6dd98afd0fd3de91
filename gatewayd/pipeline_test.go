package gatewayd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/jwt"
)

// hsSecret is the HMAC secret of the tests' JWT provider.
var hsSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

func hsToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := jwt.Sign("HS256", hsSecret, "", claims)
	require.NoError(t, err)
	return tok
}

func validClaims(sub string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"iss": "test-issuer", "aud": "api", "sub": sub, "iat": now, "exp": now + 600, "scope": "read"}
}

// authDoc routes /api to up behind JWT auth with a scope, and /open to up
// without auth.
func authDoc(up string) string {
	return fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
jwt_providers:
  - name: test
    issuer: test-issuer
    audiences: [api]
    algorithms: [HS256]
    keys:
      - secret: %s
consumers:
  - name: alice
    groups: [staff]
  - name: bob
routes:
  - name: api
    match:
      paths: [{prefix: /api}]
    upstream: app
    auth: {jwt: [test]}
    authorize: {scopes: [read], groups: [staff]}
  - name: open
    match:
      paths: [{prefix: /open}]
      methods: [GET]
    upstream: app
    rewrite: {strip_prefix: /open}
`, up, base64.StdEncoding.EncodeToString(hsSecret))
}

func TestRoutingRewriteAndForwardedHeaders(t *testing.T) {
	up := startUpstream(t, nil)
	g := startFileGateway(t, authDoc(up.addr()), nil)

	resp, body := g.do(t, "GET", "/open/things/1?x=1", "", map[string]string{"X-Request-Id": "rid-1", "X-Consumer": "forged"})
	require.Equal(t, 200, resp.StatusCode, body)
	require.Equal(t, "ok /things/1", body)
	got := up.last.Load()
	require.Equal(t, "x=1", got.URL.RawQuery)
	require.Equal(t, "rid-1", got.Header.Get("X-Request-Id"))
	require.Equal(t, "rid-1", resp.Header.Get("X-Request-Id"))
	require.NotEmpty(t, got.Header.Get("X-Forwarded-For"))
	require.Contains(t, got.Header.Get("Via"), "cairn-gateway")
	require.Empty(t, got.Header.Get("X-Consumer"), "a client's identity header must not reach the upstream")

	resp, body = g.do(t, "GET", "/nowhere", "", nil)
	require.Equal(t, 404, resp.StatusCode)
	require.Contains(t, body, "no_route")

	resp, _ = g.do(t, "POST", "/open/x", "data", nil)
	require.Equal(t, 405, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Allow"), "GET")
	require.EqualValues(t, 1, up.hits.Load(), "nothing but the first request reaches the upstream")
}

func TestJWTAuthentication(t *testing.T) {
	up := startUpstream(t, nil)
	g := startFileGateway(t, authDoc(up.addr()), nil)

	resp, body := g.do(t, "GET", "/api/x", "", nil)
	require.Equal(t, 401, resp.StatusCode, body)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")

	bad := hsToken(t, validClaims("alice"))
	bad = bad[:len(bad)-2] + "AA"
	resp, _ = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + bad})
	require.Equal(t, 401, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	expired := validClaims("alice")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	resp, _ = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, expired)})
	require.Equal(t, 401, resp.StatusCode)

	wrongAud := validClaims("alice")
	wrongAud["aud"] = "other"
	resp, _ = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, wrongAud)})
	require.Equal(t, 401, resp.StatusCode)

	// An unknown consumer is not authenticated; a known one without the
	// group is authenticated but forbidden.
	resp, _ = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, validClaims("mallory"))})
	require.Equal(t, 401, resp.StatusCode)
	resp, body = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, validClaims("bob"))})
	require.Equal(t, 403, resp.StatusCode, body)
	noScope := validClaims("alice")
	delete(noScope, "scope")
	resp, _ = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, noScope)})
	require.Equal(t, 403, resp.StatusCode)
	require.EqualValues(t, 0, up.hits.Load(), "no refused request reaches the upstream")

	resp, body = g.do(t, "GET", "/api/x", "", map[string]string{"Authorization": "Bearer " + hsToken(t, validClaims("alice"))})
	require.Equal(t, 200, resp.StatusCode, body)
	require.Equal(t, "alice", up.last.Load().Header.Get("X-Consumer"))
	require.Equal(t, "staff", up.last.Load().Header.Get("X-Consumer-Groups"))
}

func TestLocalRateLimit(t *testing.T) {
	up := startUpstream(t, nil)
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
routes:
  - name: limited
    match: {paths: [{prefix: /}]}
    upstream: app
    rate_limits:
      - {by: ip, limit: 3, per: 1m, scope: local}
`, up.addr())
	g := startFileGateway(t, doc, nil)
	for i := 0; i < 3; i++ {
		resp, body := g.do(t, "GET", "/x", "", nil)
		require.Equal(t, 200, resp.StatusCode, body)
		require.Equal(t, "3", resp.Header.Get("RateLimit-Limit"))
	}
	resp, body := g.do(t, "GET", "/x", "", nil)
	require.Equal(t, 429, resp.StatusCode, body)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "0", resp.Header.Get("RateLimit-Remaining"))
	require.EqualValues(t, 3, up.hits.Load())
}

func TestTransforms(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Server", "secret-stack/1.0")
		io.WriteString(w, `{"id":1,"password_hash":"x","name":"n"}`)
	})
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
routes:
  - name: users
    match: {paths: [{prefix: /users}]}
    upstream: app
    request:
      headers: {add: {X-Added: "yes"}, remove: [X-Secret]}
      query: {add: {source: gateway}, remove: [debug]}
      json: {rename: {user_name: name}, remove: [internal]}
    response:
      headers: {remove: [Server], add: {X-Served-By: gateway}}
      json: {remove: [password_hash], add: {version: 2}}
`, up.addr())
	g := startFileGateway(t, doc, nil)
	resp, body := g.do(t, "POST", "/users?debug=1&q=a", `{"user_name":"ann","internal":true}`,
		map[string]string{"Content-Type": "application/json", "X-Secret": "s"})
	require.Equal(t, 200, resp.StatusCode, body)
	got := up.last.Load()
	require.Equal(t, "yes", got.Header.Get("X-Added"))
	require.Empty(t, got.Header.Get("X-Secret"))
	require.Equal(t, "gateway", got.URL.Query().Get("source"))
	require.Empty(t, got.URL.Query().Get("debug"))
	require.Equal(t, "a", got.URL.Query().Get("q"))
	require.JSONEq(t, `{"name":"ann"}`, *up.body.Load())
	require.Empty(t, resp.Header.Get("Server"))
	require.Equal(t, "gateway", resp.Header.Get("X-Served-By"))
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.NotContains(t, out, "password_hash")
	require.EqualValues(t, 2, out["version"])
}

func TestResponseCacheLocal(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, "fresh "+r.URL.Path)
	})
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
routes:
  - name: static
    match: {paths: [{prefix: /static}]}
    upstream: app
    cache: {ttl: 10s}
`, up.addr())
	g := startFileGateway(t, doc, nil)
	resp, body := g.do(t, "GET", "/static/a", "", nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "MISS", resp.Header.Get("X-Cache"))
	for i := 0; i < 3; i++ {
		resp, body2 := g.do(t, "GET", "/static/a", "", nil)
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
		require.Equal(t, body, body2)
	}
	resp, _ = g.do(t, "HEAD", "/static/a", "", nil)
	require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
	resp, _ = g.do(t, "GET", "/static/b", "", nil)
	require.Equal(t, "MISS", resp.Header.Get("X-Cache"))
	require.EqualValues(t, 2, up.hits.Load())
}

func TestCircuitBreakerFallback(t *testing.T) {
	dead := startUpstream(t, nil)
	addr := dead.addr()
	dead.Close() // connections are refused from now on
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
    retries: {attempts: 0}
    circuit_breaker: {consecutive_failures: 3, open_for: 1m, min_requests: 1000}
routes:
  - name: r
    match: {paths: [{prefix: /}]}
    upstream: app
    fallback: {status: 200, body: "degraded", headers: {X-Fallback: "1"}}
`, addr)
	g := startFileGateway(t, doc, nil)
	for i := 0; i < 3; i++ {
		resp, _ := g.do(t, "GET", "/x", "", nil)
		require.Equal(t, 502, resp.StatusCode, "attempt %d: a refused connection is a bad gateway", i)
	}
	resp, body := g.do(t, "GET", "/x", "", nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "degraded", body)
	require.Equal(t, "1", resp.Header.Get("X-Fallback"))
	st := upstreamStats("app", g.srv.live.Load().pools["app"])
	require.Equal(t, "open", st.GetBreaker())
}

func TestBodyLimit(t *testing.T) {
	up := startUpstream(t, nil)
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
routes:
  - name: r
    match: {paths: [{prefix: /}]}
    upstream: app
    max_body: 1KiB
`, up.addr())
	g := startFileGateway(t, doc, nil)
	resp, body := g.do(t, "POST", "/x", strings.Repeat("a", 2048), nil)
	require.Equal(t, 413, resp.StatusCode, body)
	require.Contains(t, body, "max_body")
	require.EqualValues(t, 0, up.hits.Load())
}

// A configuration change under load drops no request: requests that began
// on the old version finish on it, the next ones run on the new one.
func TestConfigChangeDropsNoRequest(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // keep requests in flight across the swap
		io.WriteString(w, "ok")
	})
	doc := func(gen int) string {
		return fmt.Sprintf(`version: 1
upstreams:
  - name: app
    targets: [{address: %q}]
routes:
  - name: r
    match: {paths: [{prefix: /}]}
    upstream: app
    response: {headers: {add: {X-Gen: "%d"}}}
`, up.addr(), gen)
	}
	g := startFileGateway(t, doc(1), nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	seen := map[string]bool{}
	for c := 0; c < 4; c++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(g.base + "/x")
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode != 200 {
					failures = append(failures, resp.Status)
				}
				seen[resp.Header.Get("X-Gen")] = true
				mu.Unlock()
			}
		})
	}
	for gen := 2; gen <= 4; gen++ {
		g.rewrite(t, doc(gen))
	}
	resp, _ := g.do(t, "GET", "/x", "", nil)
	close(stop)
	wg.Wait()
	require.Empty(t, failures)
	require.Equal(t, "4", resp.Header.Get("X-Gen"), "a request after the last change runs on it")
	require.True(t, seen["1"], "requests ran on the first version: %v", seen)
}

// Escaped paths keep their meaning: %2F stays an escaped slash and %25 a
// percent, both for matching and upstream; dot segments are resolved.
func TestEscapedPaths(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.EscapedPath()) })
	g := startFileGateway(t, authDoc(up.addr()), nil)
	for _, c := range []struct{ in, want string }{
		{"/open/a%2Fb", "/a%2Fb"},
		{"/open/100%25", "/100%25"},
		{"/open/x/../y", "/y"},
	} {
		resp, body := g.do(t, "GET", c.in, "", nil)
		require.Equal(t, 200, resp.StatusCode, c.in)
		require.Equal(t, c.want, body, c.in)
	}
	resp, _ := g.do(t, "GET", "/open/../../etc", "", nil)
	require.Equal(t, 400, resp.StatusCode)
}
