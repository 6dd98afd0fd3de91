package httpproxy

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoHandler answers "method path body" with a Content-Length.
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
})

// rawConn dials addr and returns the connection and a reader on it.
func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func readResp(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

func TestLoopPipelining(t *testing.T) {
	s := serve(t, ServerConfig{}, echoHandler)
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"+
		"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"+
		"GET /d HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, want := range []string{"GET /a ", "POST /b hello", "POST /c abcde", "GET /d "} {
		resp, body := readResp(t, br, "GET")
		if resp.StatusCode != 200 || body != want {
			t.Fatalf("got %d %q, want %q", resp.StatusCode, body, want)
		}
		if resp.ContentLength != int64(len(want)) {
			t.Errorf("%q: content length %d", want, resp.ContentLength)
		}
	}
}

func TestLoopChunkedStreaming(t *testing.T) {
	step := make(chan struct{})
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-step
		_, _ = io.WriteString(w, strings.Repeat("x", 3000)+"\n")
	}))
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("transfer encoding %v", resp.TransferEncoding)
	}
	rb := bufio.NewReader(resp.Body)
	if line, err := rb.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line %q %v (not streamed)", line, err)
	}
	close(step)
	if line, err := rb.ReadString('\n'); err != nil || len(line) != 3001 {
		t.Fatalf("second line %d bytes %v", len(line), err)
	}
	if _, err := rb.ReadByte(); err != io.EOF {
		t.Fatalf("body does not end: %v", err)
	}
}

func TestLoopExpectContinue(t *testing.T) {
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ignore" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		echoHandler(w, r)
	}))
	t.Run("body read", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		line, err := br.ReadString('\n')
		if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("got %q %v", line, err)
		}
		if l, _ := br.ReadString('\n'); l != "\r\n" {
			t.Fatalf("got %q", l)
		}
		_, _ = io.WriteString(c, "data")
		resp, body := readResp(t, br, "POST")
		if resp.StatusCode != 200 || body != "POST /x data" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	})
	t.Run("body refused", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "POST /ignore HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		resp, _ := readResp(t, br, "POST")
		if resp.StatusCode != 403 || !resp.Close {
			t.Fatalf("status %d close %v", resp.StatusCode, resp.Close)
		}
	})
	t.Run("unknown expectation", func(t *testing.T) {
		c2, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c2, "POST /x HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 4\r\n\r\ndata")
		resp, _ := readResp(t, br, "POST")
		if resp.StatusCode != http.StatusExpectationFailed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestLoopRefusals(t *testing.T) {
	s := serve(t, ServerConfig{MaxHeaderBytes: 8 << 10}, echoHandler)
	cases := []struct {
		name, raw string
		status    int
	}{
		{"garbage", "HELLO\r\n\r\n", 400},
		{"bad version", "GET / HTTP/9.9\r\nHost: h\r\n\r\n", 505},
		{"header over limit", "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 16<<10) + "\r\n\r\n", 431},
		{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"chunk size garbage", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, br := rawConn(t, s.Addr())
			_, _ = io.WriteString(c, tc.raw)
			resp, _ := readResp(t, br, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.name != "chunk size garbage" && !resp.Close {
				t.Error("no Connection: close")
			}
			if _, err := br.ReadByte(); err == nil {
				t.Error("connection still open")
			}
		})
	}
}

func TestLoopLargeHeaderWithinLimit(t *testing.T) {
	s := serve(t, ServerConfig{MaxHeaderBytes: 64 << 10}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strconv.Itoa(len(r.Header.Get("X-Big"))))
	}))
	c, br := rawConn(t, s.Addr())
	big := strings.Repeat("b", 20<<10)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: "+big+"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nX-Big: s\r\n\r\n")
	for _, want := range []string{strconv.Itoa(len(big)), "1"} {
		if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != want {
			t.Fatalf("got %d %q, want %q", resp.StatusCode, body, want)
		}
	}
}

func TestLoopUnreadBody(t *testing.T) {
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ignored")
	}))
	t.Run("small rest discarded, connection kept", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		for i := 0; i < 2; i++ {
			if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != "ignored" {
				t.Fatalf("%d: got %d %q", i, resp.StatusCode, body)
			}
		}
	})
	t.Run("large rest closes", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		go func() { // the client keeps sending; the server stops reading
			_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000\r\n\r\n")
			buf := make([]byte, 32<<10)
			for i := 0; i < 300; i++ {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		if resp, _ := readResp(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if _, err := br.ReadByte(); err == nil {
			t.Error("connection still open")
		}
	})
}

func TestLoopHTTP10AndHead(t *testing.T) {
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			_, _ = io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "b")
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	t.Run("1.0 keep-alive with length", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
		resp, body := readResp(t, br, "GET")
		if body != "hello" || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("got %q %v", body, resp.Header)
		}
		if _, body := readResp(t, br, "GET"); body != "hello" {
			t.Fatalf("got %q", body)
		}
		if _, err := br.ReadByte(); err == nil {
			t.Error("1.0 without keep-alive left open")
		}
	})
	t.Run("1.0 streamed ends with close", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		resp, body := readResp(t, br, "GET")
		if body != "ab" || resp.ContentLength != -1 || len(resp.TransferEncoding) != 0 {
			t.Fatalf("got %q %d %v", body, resp.ContentLength, resp.TransferEncoding)
		}
	})
	t.Run("head", func(t *testing.T) {
		c, br := rawConn(t, s.Addr())
		_, _ = io.WriteString(c, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
		resp, body := readResp(t, br, "HEAD")
		if body != "" || resp.ContentLength != 5 {
			t.Fatalf("head: %q length %d", body, resp.ContentLength)
		}
		if _, body := readResp(t, br, "GET"); body != "hello" {
			t.Fatalf("got %q", body)
		}
	})
}

func TestLoopTrailersAndInformational(t *testing.T) {
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	}))
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, body := readResp(t, br, "GET") // ReadResponse skips no 1xx: read it first
	if resp.StatusCode != http.StatusEarlyHints || resp.Header.Get("Link") == "" {
		t.Fatalf("first answer %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = readResp(t, br, "GET")
	if resp.StatusCode != 200 || body != "body" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if resp.Trailer.Get("X-Sum") != "42" || resp.Trailer.Get("X-Late") != "late" {
		t.Errorf("trailers %v", resp.Trailer)
	}
}

func TestLoopHijack(t *testing.T) {
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = io.WriteString(c, "echo "+line)
	}))
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("%v %v", resp, err)
	}
	if line, _ := br.ReadString('\n'); line != "echo early\n" {
		t.Fatalf("got %q", line)
	}
}

func TestLoopClientGoneCancels(t *testing.T) {
	cancelled := make(chan struct{})
	entered := make(chan struct{})
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	}))
	c, _ := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered
	_ = c.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("context not cancelled after the client left")
	}
}

func TestLoopShutdownClosesIdleAtOnce(t *testing.T) {
	s, err := Listen("idle", ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: 20 * time.Second}, echoHandler, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	readResp(t, br, "GET") // now idle in keep-alive
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve waits for an idle connection")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stop took %v", d)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("idle connection left open")
	}
}

func TestLoopIdleTimeout(t *testing.T) {
	s := serve(t, ServerConfig{IdleTimeout: 200 * time.Millisecond}, echoHandler)
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	readResp(t, br, "GET")
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("read a byte from an idle connection")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v", d)
	}
}

func TestLoopRequestFields(t *testing.T) {
	got := make(chan *http.Request, 1)
	s := serve(t, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 3)
		_, err := io.ReadAll(r.Body)
		if err == nil {
			t.Error("MaxBytesReader let 5 bytes through")
		}
		got <- r
	}))
	c, br := rawConn(t, s.Addr())
	_, _ = io.WriteString(c, "POST http://abs.test/p?q=1 HTTP/1.1\r\nHost: other\r\nContent-Length: 5\r\n\r\nhello")
	readResp(t, br, "POST")
	r := <-got
	if r.Host != "abs.test" || r.URL.Path != "/p" || r.URL.RawQuery != "q=1" || r.RemoteAddr != c.LocalAddr().String() || r.TLS != nil {
		t.Errorf("host %q url %v remote %q tls %v", r.Host, r.URL, r.RemoteAddr, r.TLS)
	}
	if _, ok := r.Header["Host"]; ok {
		t.Error("Host left in the header map")
	}
}
