package gatewaybench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
)

func startUpstream(t *testing.T) *Upstream {
	t.Helper()
	up, err := StartUpstream("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	return up
}

func get(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestUpstreamAnswers(t *testing.T) {
	up := startUpstream(t)
	base := "http://" + up.Addr()
	if len(Body) != 100 {
		t.Fatalf("Body is %d bytes, want 100", len(Body))
	}
	for _, tc := range []struct {
		method, path, cacheControl string
		status                     int
		body                       string
	}{
		{"GET", "/plain", "", 200, Body},
		{"GET", "/auth/plain", "", 200, Body},
		{"GET", "/cache/cacheable", CacheControl, 200, Body},
		{"GET", "/cacheable", CacheControl, 200, Body},
		{"HEAD", "/plain", "", 200, ""},
		{"POST", "/plain", "", 405, "method not allowed\n"},
	} {
		resp, body := get(t, tc.method, base+tc.path)
		if resp.StatusCode != tc.status || string(body) != tc.body || resp.Header.Get("Cache-Control") != tc.cacheControl {
			t.Errorf("%s %s: %d %q Cache-Control %q; want %d %q %q", tc.method, tc.path, resp.StatusCode, body,
				resp.Header.Get("Cache-Control"), tc.status, tc.body, tc.cacheControl)
		}
		if tc.status == 200 && resp.ContentLength != 100 {
			t.Errorf("%s %s: Content-Length %d, want 100", tc.method, tc.path, resp.ContentLength)
		}
	}
	if got := up.Requests(); got != 5 {
		t.Errorf("Requests() = %d, want 5 (the 405 is not served)", got)
	}
	if _, body := get(t, "GET", base+RequestsPath); string(body) != "5" {
		t.Errorf("GET %s = %q, want 5 (not counting itself)", RequestsPath, body)
	}
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	if err := up.Close(); err != ErrUpstreamClosed {
		t.Fatalf("second Close: %v, want ErrUpstreamClosed", err)
	}
	if _, err := net.DialTimeout("tcp", up.Addr(), time.Second); err == nil {
		t.Fatal("upstream still accepts after Close")
	}
}

func TestUpstreamShutdown(t *testing.T) {
	up, err := StartUpstream("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := up.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := up.Close(); err != ErrUpstreamClosed {
		t.Fatalf("Close after Shutdown: %v, want ErrUpstreamClosed", err)
	}
}

func quickConfig(url string, sc Scenario) Config {
	cfg := DefaultConfig()
	cfg.URL, cfg.Scenario = url, sc
	cfg.Conns, cfg.Warmup, cfg.Duration = 4, 50*time.Millisecond, 300*time.Millisecond
	return cfg
}

// TestRunDirect loads the upstream directly: every measured request is a
// 200, counted once, and the upstream saw at least as many.
func TestRunDirect(t *testing.T) {
	up := startUpstream(t)
	cfg := quickConfig("http://"+up.Addr()+"/", ScenarioPlain)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Statuses[200] != res.Requests || res.FirstError != "" {
		t.Fatalf("result %+v", res)
	}
	if served := up.Requests(); served < int64(res.Requests)+int64(cfg.Conns) {
		t.Fatalf("upstream served %d, fewer than %d measured + %d first requests", served, res.Requests, cfg.Conns)
	}
	if res.URL != "http://"+up.Addr()+"/plain" || res.Conns != 4 || res.Hits != 0 || res.HitRatio != 0 {
		t.Fatalf("result %+v", res)
	}
	if res.Duration < cfg.Duration || res.Duration > cfg.Duration+cfg.RequestTimeout {
		t.Fatalf("duration %v for a %v run", res.Duration, cfg.Duration)
	}
	if want := float64(res.Requests) / res.Duration.Seconds(); res.Throughput != want {
		t.Fatalf("throughput %v, want %v", res.Throughput, want)
	}
	l := res.Latency
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Mean <= l.Max) {
		t.Fatalf("latency %+v", l)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil || !strings.Contains(table.String(), "plain") {
		t.Fatalf("table %q: %v", table.String(), err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["requests"] != float64(res.Requests) || m["throughput"].(float64) <= 0 ||
		m["p99_ms"].(float64) <= 0 || m["statuses"].(map[string]any)["200"] != float64(res.Requests) {
		t.Fatalf("json %s: %v", b, err)
	}
}

// TestRunScenarios checks what each scenario sends and how answers count: a
// handler that wants the token on /auth, marks /cache answers as hits, and
// fails every third /plain request.
func TestRunScenarios(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/base/auth/plain":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Host != "api.example" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		case "/base/cache/cacheable":
			if n.Add(1)%2 == 0 {
				w.Header().Set("Cache-Status", "cairn-gateway; hit")
			} else {
				w.Header().Set("X-Cache", "HIT")
			}
		case "/base/plain":
			if n.Add(1)%3 == 0 {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, Body)
	}))
	defer srv.Close()

	cfg := quickConfig(srv.URL+"/base", ScenarioAuth)
	cfg.Token, cfg.Host = "tok", "api.example"
	res, err := Run(context.Background(), cfg)
	if err != nil || res.Errors != 0 || res.Requests == 0 {
		t.Fatalf("auth: %+v, %v", res, err)
	}

	res, err = Run(context.Background(), quickConfig(srv.URL+"/base", ScenarioCached))
	if err != nil || res.Errors != 0 || res.Hits != res.Requests || res.HitRatio != 1 {
		t.Fatalf("cached: %+v, %v", res, err)
	}

	res, err = Run(context.Background(), quickConfig(srv.URL+"/base", ScenarioPlain))
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors == 0 || res.Errors != res.Statuses[429] || res.Requests != res.Statuses[200]+res.Statuses[429] ||
		res.FirstError != "status 429" {
		t.Fatalf("plain with 429s: %+v", res)
	}
}

// TestRunTLS loads an HTTPS server trusted through Config.TLS, over
// HTTP/1.1 even though the server offers h2.
func TestRunTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 {
			w.WriteHeader(http.StatusHTTPVersionNotSupported)
			return
		}
		io.WriteString(w, Body)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	cfg := quickConfig(srv.URL, ScenarioPlain)
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Fatal("Run trusted a self-signed server without Config.TLS")
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg.TLS = &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}}
	res, err := Run(context.Background(), cfg)
	if err != nil || res.Errors != 0 || res.Requests == 0 {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestRunRefusesBadTargets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := quickConfig("http://"+addr, ScenarioPlain)
	cfg.RequestTimeout = 2 * time.Second
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	up := startUpstream(t)
	if _, err := Run(ctx, quickConfig("http://"+up.Addr(), ScenarioPlain)); err == nil {
		t.Fatal("Run with a cancelled context succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := quickConfig("http://127.0.0.1:1", ScenarioPlain)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"scenario":        func(c *Config) { c.Scenario = "mixed" },
		"no url":          func(c *Config) { c.URL = "" },
		"scheme":          func(c *Config) { c.URL = "ftp://127.0.0.1:1" },
		"no host":         func(c *Config) { c.URL = "http:///x" },
		"bad url":         func(c *Config) { c.URL = "http://[::1" },
		"auth no token":   func(c *Config) { c.Scenario = ScenarioAuth },
		"conns":           func(c *Config) { c.Conns = 0 },
		"warmup":          func(c *Config) { c.Warmup = -time.Second },
		"duration":        func(c *Config) { c.Duration = 0 },
		"request timeout": func(c *Config) { c.RequestTimeout = 0 },
	} {
		c := ok
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "gatewaybench: ") {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
	for _, sc := range Scenarios {
		if got, err := ParseScenario(string(sc)); err != nil || got != sc {
			t.Errorf("ParseScenario(%q) = %q, %v", sc, got, err)
		}
	}
}

func TestIsHit(t *testing.T) {
	for _, tc := range []struct {
		header map[string]string
		hit    bool
	}{
		{map[string]string{"X-Cache": "HIT"}, true},
		{map[string]string{"X-Cache": "Hit from cloudfront"}, true},
		{map[string]string{"X-Cache": "MISS"}, false},
		{map[string]string{"Cache-Status": "cairn-gateway; hit"}, true},
		{map[string]string{"Cache-Status": "edge; fwd=miss, cairn-gateway; hit; ttl=30"}, true},
		{map[string]string{"Cache-Status": "cairn-gateway; fwd=uri-miss"}, false},
		{map[string]string{"Cache-Status": "hit"}, false}, // a cache named "hit", no hit parameter
		{nil, false},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := isHit(h); got != tc.hit {
			t.Errorf("isHit(%v) = %v, want %v", tc.header, got, tc.hit)
		}
	}
}

// TestSignHS256 checks the token against an independent HMAC and the
// claims it must carry.
func TestSignHS256(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok, err := SignHS256(BenchSecret, BenchIssuer, BenchConsumer, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || strings.ContainsAny(tok, "=+/") {
		t.Fatalf("token %q is not compact base64url without padding", tok)
	}
	key, _ := base64.StdEncoding.DecodeString(BenchSecret)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatal("signature does not verify")
	}
	var header map[string]string
	var claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		t.Fatalf("header %s claims %s", hb, cb)
	}
	if header["alg"] != "HS256" || header["typ"] != "JWT" || claims["iss"] != BenchIssuer || claims["sub"] != BenchConsumer ||
		claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Fatalf("header %v claims %v", header, claims)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := SignHS256(bad, "i", "s", now, time.Hour); err == nil {
			t.Errorf("SignHS256 with secret %q succeeded", bad)
		}
	}
}

// TestGatewayConfig parses the generated YAML as gatewayd does (strict,
// validated) and checks the routes the scenarios rely on.
func TestGatewayConfig(t *testing.T) {
	b, err := GatewayConfig(GatewaySpec{Upstream: "127.0.0.1:28500", RateLimit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	pdoc, err := gwconfig.Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	doc := *pdoc
	if doc.Version != 1 || len(doc.Upstreams) != 1 || doc.Upstreams[0].Targets[0].Address != "127.0.0.1:28500" {
		t.Fatalf("upstreams %+v", doc.Upstreams)
	}
	p := doc.JWTProviders
	if len(p) != 1 || p[0].Issuer != BenchIssuer || p[0].Keys[0].Secret != BenchSecret || p[0].Algorithms[0] != "HS256" {
		t.Fatalf("providers %+v", p)
	}
	if len(doc.Consumers) != 1 || doc.Consumers[0].Name != BenchConsumer {
		t.Fatalf("consumers %+v", doc.Consumers)
	}
	routes := map[string]gwconfig.Route{}
	for _, r := range doc.Routes {
		routes[r.Name] = r
	}
	auth, cached := routes["auth"], routes["cached"]
	if routes["plain"].Match.Paths[0].Prefix != "/" || auth.Match.Paths[0].Prefix != "/auth" ||
		cached.Match.Paths[0].Prefix != "/cache" {
		t.Fatalf("routes %+v", doc.Routes)
	}
	if auth.Auth == nil || auth.Auth.JWT[0] != "bench" || len(auth.RateLimits) != 1 || auth.RateLimits[0].Limit != 5000 ||
		auth.RateLimits[0].By != "consumer" || auth.RateLimits[0].Scope != "local" {
		t.Fatalf("auth route %+v", auth)
	}
	if cached.Cache == nil || cached.Auth != nil || routes["plain"].Auth != nil {
		t.Fatalf("cached route %+v", cached)
	}
	for _, s := range []GatewaySpec{{Upstream: "no-port"}, {Upstream: "h:1", Secret: "c2hvcnQ="}, {Upstream: "h:1", RateLimit: -1}} {
		if _, err := GatewayConfig(s); err == nil {
			t.Errorf("GatewayConfig(%+v) succeeded", s)
		}
	}
}

// TestTokenVerifies: the gateway's verifier, configured from the generated
// document, accepts the auth scenario's token and finds the consumer.
func TestTokenVerifies(t *testing.T) {
	secret := base64.RawURLEncoding.EncodeToString([]byte("another-32-byte-benchmark-key!!!"))
	b, err := GatewayConfig(GatewaySpec{Upstream: "127.0.0.1:1", Secret: secret, Consumer: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := gwconfig.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(doc.JWTProviders, jwt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok, err := SignHS256(secret, BenchIssuer, "carol", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), tok, []string{"bench"})
	if err != nil || claims.Consumer != "carol" {
		t.Fatalf("Verify: %+v, %v", claims, err)
	}
	other, _ := SignHS256(BenchSecret, BenchIssuer, "carol", time.Now(), time.Hour)
	if _, err := v.Verify(context.Background(), other, []string{"bench"}); err == nil {
		t.Fatal("a token signed with another key verified")
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3}
	l := latencyOf(d)
	if l.P50 != 3 || l.P90 != 5 || l.P99 != 5 || l.Max != 5 || l.Mean != 3 {
		t.Fatalf("latency %+v", l)
	}
	if (latencyOf(nil) != Latency{}) {
		t.Fatal("empty latency not zero")
	}
}
