package l7

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/httpproxy"
	"cairn.dev/cairn/node/nodetest"
)

// testBackend is an HTTP server that answers with its name (body and the
// X-Backend header) and counts the requests it got.
type testBackend struct {
	name   string
	addr   string
	srv    *httptest.Server // nil for a dead backend
	hits   atomic.Int64
	posts  atomic.Int64
	status atomic.Int64 // the status it answers; 0 means 200
}

func startBackend(t *testing.T, name string) *testBackend {
	t.Helper()
	b := &testBackend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if r.Method == http.MethodPost {
			b.posts.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Backend", b.name)
		if st := int(b.status.Load()); st != 0 {
			w.WriteHeader(st)
		}
		fmt.Fprint(w, b.name)
	}))
	b.addr = b.srv.Listener.Addr().String()
	t.Cleanup(b.srv.Close)
	return b
}

// deadBackend is a backend whose address refuses connections: a port that
// was listened on and closed again.
func deadBackend(t *testing.T, name string) *testBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return &testBackend{name: name, addr: addr}
}

// newPool builds a pool over bs without active checks and without its
// maintenance goroutine (pool.Options.Manual), with edit applied to its
// spec before the defaults.
func newPool(t *testing.T, name string, seed uint64, edit func(*lbconfig.Pool), bs ...*testBackend) *Pool {
	t.Helper()
	spec := lbconfig.Pool{Name: name, Health: lbconfig.Health{Type: lbconfig.CheckNone}}
	for _, b := range bs {
		spec.Backends = append(spec.Backends, lbconfig.Backend{Name: b.name, Address: b.addr})
	}
	if edit != nil {
		edit(&spec)
	}
	doc := &lbconfig.Document{Pools: []lbconfig.Pool{spec}}
	doc.SetDefaults()
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	spec = doc.Pools[0]
	p, err := pool.New(spec, pool.Options{Logger: nodetest.Logger(t), Seed: seed, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	tr := httpproxy.NewTransport(httpproxy.TransportConfig{Protocol: spec.Protocol, DialTimeout: spec.ConnectTimeout})
	t.Cleanup(tr.CloseIdleConnections)
	return &Pool{Pool: p, Transport: tr, Scheme: "http"}
}

// serveFrontend serves a Handler over pools on a test server and returns
// its base URL.
func serveFrontend(t *testing.T, routes []lbconfig.Route, defaultPool string, pools ...*Pool) string {
	t.Helper()
	byName := map[string]*Pool{}
	for _, p := range pools {
		byName[p.Name()] = p
	}
	proxy := httpproxy.New(httpproxy.Config{Logger: nodetest.Logger(t)})
	t.Cleanup(func() { _ = proxy.Close() })
	h := New(Config{
		Name: "web", Routes: routes, DefaultPool: defaultPool,
		Pools: func(name string) *Pool { return byName[name] }, Proxy: proxy,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// answer is what a client saw.
type answer struct {
	status  int
	body    string
	backend string // the X-Backend header
	header  http.Header
	cookies []*http.Cookie
}

var client = &http.Client{Timeout: 10 * time.Second}

// send makes one request; host, when set, replaces the Host header; header
// entries are added.
func send(t *testing.T, method, url, host string, header map[string]string, cookies ...*http.Cookie) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s (host %q): %v", method, url, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, body: string(body), backend: resp.Header.Get("X-Backend"), header: resp.Header, cookies: resp.Cookies()}
}

// cookie returns the named cookie the answer set, nil if none.
func (a answer) cookie(name string) *http.Cookie {
	for _, c := range a.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}
