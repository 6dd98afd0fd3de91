package httpproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingUpstream counts the requests that reach it and keeps them.
type recordingUpstream struct {
	mu   sync.Mutex
	reqs []*http.Request
	hits atomic.Int32
}

func (u *recordingUpstream) start(t *testing.T) string {
	return upstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, r)
		u.mu.Unlock()
		u.hits.Add(1)
	})
}

// exchangeAll writes raw on one connection and reads responses until the
// connection closes or max arrived, returning their statuses.
func exchangeAll(t *testing.T, addr, raw string, max int) []int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var statuses []int
	for len(statuses) < max {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses
}

func TestServerRejectsBadRequestsBeforeTheUpstream(t *testing.T) {
	var up recordingUpstream
	target := up.start(t)
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: target}, ServerConfig{MaxHeaderBytes: 1024})
	big := strings.Repeat("a", 8<<10)
	cases := []struct {
		name   string
		raw    string
		status int
	}{
		{"two content lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
		{"content length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello", 400},
		{"signed content length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400},
		{"negative content length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
		{"CR in a header value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rInjected: 1\r\n\r\n", 400},
		{"NUL in a header value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n", 400},
		{"space in a header name", "GET / HTTP/1.1\r\nHost: h\r\nX A: a\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501},
		{"chunked not last", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 501},
		{"gzip transfer coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"oversize header", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\n\r\n", 431},
		{"oversize request line", "GET /" + big + " HTTP/1.1\r\nHost: h\r\n\r\n", 431},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			statuses := exchangeAll(t, addr, tc.raw, 2)
			if len(statuses) != 1 || statuses[0] != tc.status {
				t.Errorf("statuses %v, want [%d]", statuses, tc.status)
			}
		})
	}
	if n := up.hits.Load(); n != 0 {
		t.Errorf("%d bad requests reached the upstream", n)
	}
}

// TestServerReframesAmbiguousRequests covers the inputs net/http accepts
// by resolving them as RFC 9112 prescribes: the proxy forwards one
// unambiguous message, so the upstream cannot parse it differently.
func TestServerReframesAmbiguousRequests(t *testing.T) {
	t.Run("content-length with chunked", func(t *testing.T) {
		var up recordingUpstream
		target := up.start(t)
		p := newProxy(t, Config{})
		addr, _ := front(t, p, Upstream{Target: target}, ServerConfig{})
		// Transfer-Encoding wins; the bytes after the empty chunk are a
		// second request of this client, answered by the gateway itself
		// (here forwarded like any other), not hidden inside the first.
		statuses := exchangeAll(t, addr, "POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"0\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n", 2)
		if len(statuses) != 2 {
			t.Fatalf("statuses %v", statuses)
		}
		up.mu.Lock()
		defer up.mu.Unlock()
		if len(up.reqs) != 2 || up.reqs[0].URL.Path != "/first" || up.reqs[1].URL.Path != "/second" {
			t.Fatalf("upstream saw %d requests (statuses %v)", len(up.reqs), statuses)
		}
		first := up.reqs[0]
		if first.Header.Get("Content-Length") != "" || first.ContentLength > 0 {
			t.Errorf("the upstream got a Content-Length (%d) beside the chunked body", first.ContentLength)
		}
	})
	t.Run("obs-fold", func(t *testing.T) {
		var up recordingUpstream
		target := up.start(t)
		p := newProxy(t, Config{})
		addr, _ := front(t, p, Upstream{Target: target}, ServerConfig{})
		statuses := exchangeAll(t, addr, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 1)
		if len(statuses) != 1 || statuses[0] != 200 {
			t.Fatalf("statuses %v", statuses)
		}
		up.mu.Lock()
		defer up.mu.Unlock()
		if got := up.reqs[0].Header.Get("X-A"); strings.ContainsAny(got, "\r\n") || got != "a b" {
			t.Errorf("folded value forwarded as %q", got)
		}
	})
}

func TestServerSlowloris(t *testing.T) {
	var up recordingUpstream
	target := up.start(t)
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: target}, ServerConfig{ReadHeaderTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// Keep trickling bytes; the header deadline is absolute, not per byte.
	closed := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 512)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := c.Read(buf); err != nil {
				closed <- time.Since(start)
				return
			}
		}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-closed:
			if d > 5*time.Second {
				t.Errorf("closed after %v", d)
			}
			if n := up.hits.Load(); n != 0 {
				t.Errorf("%d requests reached the upstream", n)
			}
			return
		case <-tick.C:
			_, _ = io.WriteString(c, "x")
		}
	}
}

func TestServerGracefulStop(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	s, err := Listen("graceful", ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second}, h, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	cancel()
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", s.Addr())
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	if b := <-got; b != "done" {
		t.Errorf("in-flight request got %q", b)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("second Serve succeeded")
	}
}

func TestServerShutdownTimeoutCutsStragglers(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	s, err := Listen("cut", ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: 100 * time.Millisecond}, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	clientDone := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/")
		if err == nil {
			resp.Body.Close()
		}
		clientDone <- err
	}()
	<-entered
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
	if err := <-clientDone; err == nil {
		t.Error("the straggler got a response")
	}
}

func TestServerProtocols(t *testing.T) {
	pk := newTestPKI(t)
	store := pk.store(t, pk.issue(t, "front", "front.test"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) })
	tlsSrv := serve(t, ServerConfig{TLS: store}, h)
	h2cSrv := serve(t, ServerConfig{H2C: true}, h)
	plainSrv := serve(t, ServerConfig{}, h)

	client := func(p func(*http.Protocols), tlsCfg *tls.Config) *http.Client {
		var protos http.Protocols
		p(&protos)
		tr := &http.Transport{Protocols: &protos, TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	h1 := func(p *http.Protocols) { p.SetHTTP1(true) }
	h2 := func(p *http.Protocols) { p.SetHTTP2(true) }
	h2c := func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }
	cases := []struct {
		name   string
		client *http.Client
		url    string
		want   string // "" means the request must fail
	}{
		{"tls http1", client(h1, pk.clientTLS("front.test")), "https://" + tlsSrv.Addr(), "HTTP/1.1"},
		{"tls h2 by alpn", client(h2, pk.clientTLS("front.test")), "https://" + tlsSrv.Addr(), "HTTP/2.0"},
		{"h2c prior knowledge", client(h2c, nil), "http://" + h2cSrv.Addr(), "HTTP/2.0"},
		{"h2c server still speaks http1", client(h1, nil), "http://" + h2cSrv.Addr(), "HTTP/1.1"},
		{"no h2c unless enabled", client(h2c, nil), "http://" + plainSrv.Addr(), ""},
		{"plaintext to tls", client(h1, nil), "http://" + tlsSrv.Addr(), "400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.client.Get(tc.url + "/")
			if tc.want == "" {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tc.want == "400" {
				if resp.StatusCode != 400 {
					t.Errorf("status %d", resp.StatusCode)
				}
				return
			}
			if got := readAll(t, resp.Body); got != tc.want {
				t.Errorf("proto %q, want %q", got, tc.want)
			}
		})
	}
}
