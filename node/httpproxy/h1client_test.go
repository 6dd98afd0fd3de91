package httpproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCountingUpstream is an httptest server counting the connections it saw.
type connCountingUpstream struct {
	srv   *httptest.Server
	conns atomic.Int32
}

func newCountingUpstream(t *testing.T, h http.HandlerFunc) *connCountingUpstream {
	t.Helper()
	u := &connCountingUpstream{srv: httptest.NewUnstartedServer(h)}
	u.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			u.conns.Add(1)
		}
	}
	u.srv.Start()
	t.Cleanup(u.srv.Close)
	return u
}

func (u *connCountingUpstream) target() string { return u.srv.Listener.Addr().String() }

// h1Transport returns an HTTP/1.1 Transport and checks it uses the h1Client.
func h1Transport(t *testing.T, cfg TransportConfig) *Transport {
	t.Helper()
	tr := newTransport(t, cfg)
	if tr.h1 == nil {
		t.Fatal("http1 Transport without the h1 client")
	}
	return tr
}

func get(t *testing.T, tr http.RoundTripper, ctx context.Context, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr.RoundTrip(req)
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestH1SequentialRequestsShareOneConnection(t *testing.T) {
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("i"))
	})
	tr := h1Transport(t, TransportConfig{})
	for i := 0; i < 50; i++ {
		resp, err := get(t, tr, context.Background(), fmt.Sprintf("http://%s/x?i=%d", up.target(), i))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bodyOf(t, resp), fmt.Sprintf("hello %d", i); got != want {
			t.Fatalf("body %q, want %q", got, want)
		}
	}
	if n := up.conns.Load(); n != 1 {
		t.Errorf("upstream saw %d connections, want 1", n)
	}
	if n := tr.h1.idleCount(up.target()); n != 1 {
		t.Errorf("idle connections %d, want 1", n)
	}
}

// closingUpstream answers each connection's first request with a
// keep-alive response, then closes that connection; closed receives a
// value after each close.
func closingUpstream(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{}, 16)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { closed <- struct{}{} }()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	return ln.Addr().String(), closed
}

func TestH1StaleConnectionIsRetriedOnce(t *testing.T) {
	target, closed := closingUpstream(t)
	tr := h1Transport(t, TransportConfig{})
	url := "http://" + target + "/"
	resp, err := get(t, tr, context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	bodyOf(t, resp)
	<-closed // the pooled connection is now stale
	if n := tr.h1.idleCount(target); n != 1 {
		t.Fatalf("idle connections %d, want 1", n)
	}
	resp, err = get(t, tr, context.Background(), url)
	if err != nil {
		t.Fatalf("GET on a stale connection was not retried: %v", err)
	}
	if got := bodyOf(t, resp); got != "ok" {
		t.Fatalf("body %q", got)
	}
	<-closed

	// A request with a body is not retried: it fails as a connect failure.
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("data"))
	_, err = tr.RoundTrip(req)
	if !errors.Is(err, errStaleConn) {
		t.Fatalf("POST on a stale connection: %v, want errStaleConn", err)
	}
	if k := classify(err, context.Background()); k != Connect {
		t.Errorf("classified %v, want connect", k)
	}
}

func TestH1EarlyBodyClose(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
			return
		}
		if r.URL.Path == "/chunked" {
			http.NewResponseController(w).Flush()
		}
		_, _ = io.WriteString(w, big[:1<<10])
	})
	tr := h1Transport(t, TransportConfig{})
	read10 := func(path string) {
		resp, err := get(t, tr, context.Background(), "http://"+up.target()+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, path := range []string{"/small", "/chunked"} {
		read10(path) // a 1 KiB remainder is drained: the connection stays
		if n := tr.h1.idleCount(up.target()); n != 1 {
			t.Fatalf("after a small early close of %s: %d idle, want 1", path, n)
		}
	}
	read10("/big") // 1 MiB left: the connection is closed
	if n := tr.h1.idleCount(up.target()); n != 0 {
		t.Fatalf("after a large early close: %d idle, want 0", n)
	}
	read10("/small")
	if n := up.conns.Load(); n != 2 {
		t.Errorf("upstream saw %d connections, want 2", n)
	}
}

func TestH1ChunkedBodiesBothWays(t *testing.T) {
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
			t.Errorf("request transfer encoding %v, want chunked", r.TransferEncoding)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Trailer", "X-Sum")
		for _, part := range strings.SplitAfter(string(b), " ") {
			_, _ = io.WriteString(w, strings.ToUpper(part))
			http.NewResponseController(w).Flush()
		}
		w.Header().Set("X-Sum", fmt.Sprint(len(b), r.Trailer.Get("X-Client")))
	})
	tr := h1Transport(t, TransportConfig{})
	for i := 0; i < 3; i++ {
		pr, pw := io.Pipe()
		go func() {
			for _, s := range []string{"one ", "two ", "three"} {
				_, _ = io.WriteString(pw, s)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, "http://"+up.target()+"/echo", pr)
		req.ContentLength = -1
		req.Trailer = http.Header{"X-Client": {"t"}}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != -1 {
			t.Errorf("response length %d, want chunked", resp.ContentLength)
		}
		if got := bodyOf(t, resp); got != "ONE TWO THREE" {
			t.Errorf("body %q", got)
		}
		if got := resp.Trailer.Get("X-Sum"); got != "13t" {
			t.Errorf("trailer %q, want 13t", got)
		}
	}
	if n := up.conns.Load(); n != 1 {
		t.Errorf("upstream saw %d connections, want 1", n)
	}
}

func TestH1CancellationClosesTheUpstreamConnection(t *testing.T) {
	gone := make(chan string, 2)
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/midbody" {
			_, _ = io.WriteString(w, "start")
			http.NewResponseController(w).Flush()
		}
		<-r.Context().Done() // the connection closed
		gone <- r.URL.Path
	})
	tr := h1Transport(t, TransportConfig{})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := get(t, tr, ctx, "http://"+up.target()+"/headers")
		errc <- err
	}()
	waitFor(t, "the request to reach the upstream", func() bool { return up.conns.Load() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if p := <-gone; p != "/headers" {
		t.Errorf("gone %q", p)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	resp, err := get(t, tr, ctx, "http://"+up.target()+"/midbody")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := resp.Body.Read(make([]byte, 10)); err == nil {
		t.Error("body read after cancel succeeded")
	}
	resp.Body.Close()
	if p := <-gone; p != "/midbody" {
		t.Errorf("gone %q", p)
	}
	if n := tr.h1.idleCount(up.target()); n != 0 {
		t.Errorf("%d idle connections after cancellations, want 0", n)
	}
}

func TestH1ResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "late")
	})
	defer close(release)
	tr := h1Transport(t, TransportConfig{ResponseHeaderTimeout: 50 * time.Millisecond})
	_, err := get(t, tr, context.Background(), "http://"+up.target()+"/slow")
	if err == nil {
		t.Fatal("no error from a silent upstream")
	}
	if k := classify(err, context.Background()); k != Timeout {
		t.Errorf("classified %v (%v), want timeout", k, err)
	}
	// The deadline does not outlive the headers: a later fast request on a
	// new connection, then a slow body, still work.
	resp, err := get(t, tr, context.Background(), "http://"+up.target()+"/fast")
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "late" {
		t.Errorf("body %q", got)
	}
}

func TestH1IdlePoolIsBounded(t *testing.T) {
	const inFlight, maxIdle = 6, 2
	var arrived sync.WaitGroup
	arrived.Add(inFlight)
	release := make(chan struct{})
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release
		_, _ = io.WriteString(w, "ok")
	})
	tr := h1Transport(t, TransportConfig{MaxIdleConnsPerHost: maxIdle})
	var wg sync.WaitGroup
	for i := 0; i < inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := get(t, tr, context.Background(), "http://"+up.target()+"/")
			if err != nil {
				t.Error(err)
				return
			}
			bodyOf(t, resp)
		}()
	}
	arrived.Wait() // all six on their own connections
	close(release)
	wg.Wait()
	if n := tr.h1.idleCount(up.target()); n != maxIdle {
		t.Errorf("%d idle connections, want %d", n, maxIdle)
	}
	if n := up.conns.Load(); n != inFlight {
		t.Errorf("upstream saw %d connections, want %d", n, inFlight)
	}
}

func TestH1IdleConnectionsExpire(t *testing.T) {
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	tr := h1Transport(t, TransportConfig{IdleConnTimeout: 30 * time.Millisecond})
	resp, err := get(t, tr, context.Background(), "http://"+up.target()+"/")
	if err != nil {
		t.Fatal(err)
	}
	bodyOf(t, resp)
	waitFor(t, "the idle connection to expire", func() bool { return tr.h1.idleCount(up.target()) == 0 })
}

func TestH1ResponseHeadersAreBounded(t *testing.T) {
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := 1 << 10 // under the limit
		if r.URL.Path == "/huge" {
			n = maxHeaderBytes + 1
		}
		w.Header().Set("X-Big", strings.Repeat("h", n))
	})
	tr := h1Transport(t, TransportConfig{})
	resp, err := get(t, tr, context.Background(), "http://"+up.target()+"/small")
	if err != nil {
		t.Fatal(err)
	}
	bodyOf(t, resp)
	if _, err := get(t, tr, context.Background(), "http://"+up.target()+"/huge"); !errors.Is(err, errHeaderTooLarge) {
		t.Errorf("error %v, want errHeaderTooLarge", err)
	}
}

func TestH1ContentLengthBodyAndShortBody(t *testing.T) {
	up := newCountingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d:%s", r.ContentLength, b)
	})
	tr := h1Transport(t, TransportConfig{})
	req, _ := http.NewRequest(http.MethodPut, "http://"+up.target()+"/", strings.NewReader("hello"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "5:hello" {
		t.Errorf("body %q", got)
	}
	// A body shorter than its declared length fails without reaching a
	// handler with a truncated body.
	req, _ = http.NewRequest(http.MethodPut, "http://"+up.target()+"/", io.NopCloser(strings.NewReader("hel")))
	req.ContentLength = 5
	if _, err := tr.RoundTrip(req); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short body: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestH1StalePostIsAConnectFailureOfTheProxy checks the proxy's view of a
// stale pooled connection under a POST: a Connect failure, which a policy
// retrying connect failures may send again.
func TestH1StalePostIsAConnectFailureOfTheProxy(t *testing.T) {
	target, closed := closingUpstream(t)
	tr := h1Transport(t, TransportConfig{})
	p := newProxy(t, Config{})
	up := Upstream{Name: "u", Target: target, Transport: tr}
	post := func() Outcome {
		r := httptest.NewRequest(http.MethodPost, "http://front.test/", strings.NewReader("data"))
		w := httptest.NewRecorder()
		return p.Forward(w, r, up)
	}
	if o := post(); o.Status != http.StatusOK {
		t.Fatalf("first POST: %+v", o)
	}
	<-closed
	o := post()
	if o.Kind != Connect || o.Status != http.StatusBadGateway {
		t.Errorf("POST on a stale connection: kind %v status %d (%v), want connect 502", o.Kind, o.Status, o.Err)
	}
}
