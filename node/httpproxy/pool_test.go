package httpproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUpstreamConnectionsAreReused checks that every kind of answer leaves
// its upstream connection reusable: sequential requests through the proxy
// open one upstream connection in all.
func TestUpstreamConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			_, _ = io.WriteString(w, "part one ")
			http.NewResponseController(w).Flush()
			_, _ = io.WriteString(w, "part two")
		case "/unavailable":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, strings.Repeat("busy ", 100))
		default:
			_, _ = io.WriteString(w, "fixed")
		}
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	target := up.Listener.Addr().String()

	p := newProxy(t, Config{})
	tr := newTransport(t, TransportConfig{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pick := func(int) (Upstream, bool) { return Upstream{Target: target, Transport: tr}, true }
		p.ForwardRetrying(w, r, pick, RetryPolicy{Attempts: 1, Statuses: []int{503}}, nil)
	})
	addr := serve(t, ServerConfig{}, h).Addr()
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	for i := 0; i < 30; i++ {
		for _, path := range []string{"/fixed", "/chunked", "/unavailable"} {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				req, _ := http.NewRequest(method, "http://"+addr+path, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the upstream saw %d connections for sequential requests, want 1", n)
	}
}
