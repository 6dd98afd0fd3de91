package gatewayd

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/jwt"
)

// benchDoc has a plain route, a JWT route with a local per-consumer limit
// far above the load, and a cached route, all to up.
func benchDoc(up string) string {
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
      - secret: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYtdGVzdC1zZWNyZXQ=
consumers:
  - name: alice
routes:
  - name: plain
    match: {paths: [{prefix: /plain}]}
    upstream: app
  - name: auth
    match: {paths: [{prefix: /auth}]}
    upstream: app
    auth: {jwt: [test]}
    rate_limits:
      - {by: consumer, limit: 1000000000, per: 1s, scope: local}
  - name: cached
    match: {paths: [{prefix: /cached}]}
    upstream: app
    cache: {ttl: 1h}
`, up)
}

// BenchmarkGateway measures one keep-alive client's requests through an
// in-process gateway to a local upstream (the gateway's own cost plus two
// loopback hops): plain proxying, JWT + rate limit, cached hits.
func BenchmarkGateway(b *testing.B) {
	up := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/cached" {
			w.Header().Set("Cache-Control", "public, max-age=3600")
		}
		io.WriteString(w, "hello from the upstream, a body of about a hundred bytes, as the benchmark's fixed answer\n")
	})}
	lis, addr := listenLoopback(b)
	go up.Serve(lis)
	defer up.Close()
	g := startFileGateway(b, benchDoc(addr), nil)
	tok, err := jwt.Sign("HS256", hsSecret, "", map[string]any{"iss": "test-issuer", "aud": "api", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for _, c := range []struct{ name, path, auth string }{{"plain", "/plain", ""}, {"auth", "/auth", "Bearer " + tok}, {"cached", "/cached", ""}} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", g.base+c.path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// listenLoopback binds a loopback port for a test server.
func listenLoopback(tb testing.TB) (net.Listener, string) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return lis, lis.Addr().String()
}
