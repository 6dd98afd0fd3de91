package httpproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// front starts a proxy server forwarding every request to up and returns
// its address and the outcomes of the forwards.
func front(t testing.TB, p *Proxy, up Upstream, cfg ServerConfig) (string, <-chan Outcome) {
	t.Helper()
	outcomes := make(chan Outcome, 64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := p.Forward(w, r, up)
		outcomes <- o
		AbortIfTruncated(o)
	})
	return serve(t, cfg, h).Addr(), outcomes
}

// upstream starts a plain HTTP/1.1 upstream.
func upstream(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	return serve(t, ServerConfig{}, h).Addr()
}

// rawExchange writes req on a fresh TCP connection to addr and reads one
// response.
func rawExchange(t testing.TB, addr, req string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nextOutcome(t testing.TB, ch <-chan Outcome) Outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome")
		return Outcome{}
	}
}

func TestForwardHeaders(t *testing.T) {
	seen := make(chan *http.Request, 1)
	bodies := make(chan string, 1)
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		seen <- r
		h := w.Header()
		h.Set("Connection", "X-Secret")
		h.Set("X-Secret", "1")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("X-Up", "ok")
		_, _ = io.WriteString(w, "hello")
	})
	p := newProxy(t, Config{})
	addr, outcomes := front(t, p, Upstream{Name: "u", Target: up, Path: "/rewritten"}, ServerConfig{})
	body := "payload"
	resp := rawExchange(t, addr, "POST /orig?q=1&r=2 HTTP/1.1\r\nHost: front.test\r\n"+
		"Connection: X-Hop, keep-alive\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nProxy-Authorization: Basic x\r\n"+
		"TE: trailers, deflate\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=9.9.9.9\r\n"+
		"X-Request-Id: abc-123\r\nX-End: kept\r\n"+
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
	if got := readAll(t, resp.Body); got != "hello" {
		t.Fatalf("body %q", got)
	}
	r := <-seen
	if got := <-bodies; got != body {
		t.Errorf("upstream body %q, want %q", got, body)
	}
	checks := []struct{ name, got, want string }{
		{"path", r.URL.Path, "/rewritten"},
		{"query", r.URL.RawQuery, "q=1&r=2"},
		{"host", r.Host, "front.test"},
		{"X-Hop", r.Header.Get("X-Hop"), ""},
		{"Keep-Alive", r.Header.Get("Keep-Alive"), ""},
		{"Proxy-Authorization", r.Header.Get("Proxy-Authorization"), ""},
		{"Te", r.Header.Get("Te"), "trailers"},
		{"X-End", r.Header.Get("X-End"), "kept"},
		{"User-Agent", r.Header.Get("User-Agent"), ""},
		{"X-Forwarded-For", r.Header.Get("X-Forwarded-For"), "1.2.3.4, 127.0.0.1"},
		{"X-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"), "http"},
		{"X-Forwarded-Host", r.Header.Get("X-Forwarded-Host"), "front.test"},
		{"Forwarded", r.Header.Get("Forwarded"), "for=9.9.9.9, for=127.0.0.1;host=front.test;proto=http"},
		{"X-Request-Id", r.Header.Get("X-Request-Id"), "abc-123"},
		{"resp X-Up", resp.Header.Get("X-Up"), "ok"},
		{"resp X-Secret", resp.Header.Get("X-Secret"), ""},
		{"resp Keep-Alive", resp.Header.Get("Keep-Alive"), ""},
		{"resp Proxy-Authenticate", resp.Header.Get("Proxy-Authenticate"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if o := nextOutcome(t, outcomes); o.Status != 200 || o.Kind != None || o.Bytes != 5 || o.Attempts != 1 || !o.Started {
		t.Errorf("outcome %+v", o)
	}
}

func TestForwardHostAndRequestID(t *testing.T) {
	seen := make(chan *http.Request, 1)
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) { seen <- r })
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Name: "u", Target: up, Host: "backend.internal"}, ServerConfig{})
	resp := rawExchange(t, addr, "GET /a%2Fb HTTP/1.1\r\nHost: front.test\r\nX-Request-Id: bad id with spaces\r\n\r\n")
	_ = resp.Body.Close()
	r := <-seen
	if r.Host != "backend.internal" {
		t.Errorf("host %q", r.Host)
	}
	if r.URL.RawPath != "/a%2Fb" {
		t.Errorf("escaped path not kept: raw %q path %q", r.URL.RawPath, r.URL.Path)
	}
	id := r.Header.Get("X-Request-Id")
	if _, err := hex.DecodeString(id); err != nil || len(id) != 32 {
		t.Errorf("request id %q is not a fresh 32-hex id", id)
	}
}

func TestForwardStreamsEventsWithoutBuffering(t *testing.T) {
	release := make(chan struct{})
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "1000") // known length must not delay events
		_, _ = io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, strings.Repeat("x", 1000-len("data: one\n\n")))
	})
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: up}, ServerConfig{})
	resp, err := http.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v (the proxy held it back)", line, err)
	}
	close(release)
}

func TestForwardStreamsRequestBody(t *testing.T) {
	firstChunk := make(chan string, 1)
	sums := make(chan string, 1)
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		br := bufio.NewReader(r.Body)
		line, _ := br.ReadString('\n')
		firstChunk <- line
		h := sha256.New()
		h.Write([]byte(line))
		_, _ = io.Copy(h, br)
		sums <- hex.EncodeToString(h.Sum(nil))
	})
	p := newProxy(t, Config{})
	addr, outcomes := front(t, p, Upstream{Target: up}, ServerConfig{})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/upload", pr)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	want := sha256.New()
	first := "first line\n"
	_, _ = io.WriteString(pw, first)
	want.Write([]byte(first))
	select {
	case got := <-firstChunk:
		if got != first {
			t.Fatalf("first chunk %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream did not get the first chunk before the body ended: the proxy buffers")
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB more
	_, _ = pw.Write(big)
	want.Write(big)
	_ = pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := <-sums; got != hex.EncodeToString(want.Sum(nil)) {
		t.Error("upstream body differs")
	}
	if o := nextOutcome(t, outcomes); o.Kind != None || o.Status != 200 {
		t.Errorf("outcome %+v", o)
	}
}

func TestForwardLargeResponse(t *testing.T) {
	const size = 8 << 20
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := bytes.Repeat([]byte{'z'}, 64<<10)
		for i := 0; i < size/len(chunk); i++ {
			_, _ = w.Write(chunk)
		}
	})
	p := newProxy(t, Config{})
	addr, outcomes := front(t, p, Upstream{Target: up}, ServerConfig{})
	resp, err := http.Get("http://" + addr + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || resp.ContentLength != size {
		t.Fatalf("read %d (content-length %d), %v", n, resp.ContentLength, err)
	}
	if o := nextOutcome(t, outcomes); o.Bytes != size {
		t.Errorf("outcome bytes %d", o.Bytes)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestForwardFailures(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	slow := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	})
	hangup := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = c.Close()
		}
	})
	cases := []struct {
		name   string
		up     Upstream
		status int
		code   string
		kind   FailureKind
	}{
		{"connect", Upstream{Target: freeAddr(t)}, 502, "bad_gateway", Connect},
		{"timeout", Upstream{Target: slow, Timeout: 100 * time.Millisecond}, 504, "gateway_timeout", Timeout},
		{"reset", Upstream{Target: hangup}, 502, "bad_gateway", Reset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProxy(t, Config{})
			addr, outcomes := front(t, p, c.up, ServerConfig{})
			resp := rawExchange(t, addr, "GET /x HTTP/1.1\r\nHost: h\r\nX-Request-Id: rid-1\r\n\r\n")
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || body["error"] != c.code || body["request_id"] != "rid-1" || body["message"] == "" {
				t.Errorf("got %d %v", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			o := nextOutcome(t, outcomes)
			if o.Kind != c.kind || o.Status != c.status || o.Err == nil {
				t.Errorf("outcome %+v", o)
			}
		})
	}
}

func TestForwardTruncatedResponseIsBrokenForTheClient(t *testing.T) {
	for _, tc := range []struct{ name, head, part string }{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "only ten.."},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "a\r\nonly ten..\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				_, _ = brw.WriteString(tc.head + tc.part)
				_ = brw.Flush()
				_ = c.Close()
			})
			p := newProxy(t, Config{})
			addr, outcomes := front(t, p, Upstream{Target: up}, ServerConfig{})
			resp, err := http.Get("http://" + addr + "/")
			if err == nil { // the head may or may not have left before the abort
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Errorf("client read %q cleanly: a truncated response looked complete", b)
				}
			}
			o := nextOutcome(t, outcomes)
			if !o.Truncated() || o.Kind != Reset {
				t.Errorf("outcome %+v, want truncated reset", o)
			}
		})
	}
}

func TestForwardClientGone(t *testing.T) {
	upstreamSawCancel := make(chan struct{})
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		close(upstreamSawCancel)
	})
	p := newProxy(t, Config{})
	addr, outcomes := front(t, p, Upstream{Target: up}, ServerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	o := nextOutcome(t, outcomes)
	if o.Kind != ClientGone || o.Truncated() {
		t.Errorf("outcome %+v", o)
	}
	select {
	case <-upstreamSawCancel:
	case <-time.After(10 * time.Second):
		t.Error("upstream request not cancelled after the client left")
	}
}

func TestForwardTrailersHTTP1(t *testing.T) {
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "c0ffee")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: up}, ServerConfig{})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp.Body); got != "body" {
		t.Fatalf("body %q", got)
	}
	resp.Body.Close()
	if resp.Trailer.Get("X-Checksum") != "c0ffee" || resp.Trailer.Get("X-Late") != "late" {
		t.Errorf("trailers %v", resp.Trailer)
	}
}

func TestForwardModifyResponse(t *testing.T) {
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	errRefused := errors.New("refused")
	for _, tc := range []struct {
		name   string
		modify func(*http.Response) error
		status int
		header string
	}{
		{"edit", func(r *http.Response) error { r.Header.Set("X-Edited", "yes"); return nil }, 200, "yes"},
		{"refuse", func(*http.Response) error { return errRefused }, 502, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, Config{})
			addr, outcomes := front(t, p, Upstream{Target: up, ModifyResponse: tc.modify}, ServerConfig{})
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("X-Edited") != tc.header {
				t.Errorf("status %d header %q", resp.StatusCode, resp.Header.Get("X-Edited"))
			}
			o := nextOutcome(t, outcomes)
			if tc.status == 502 && (!errors.Is(o.Err, errRefused) || o.Kind != None) {
				t.Errorf("outcome %+v", o)
			}
		})
	}
}
