package compress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve runs h for a request with the given headers and returns the
// recorded response.
func serve(h http.Handler, method string, reqHeader map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/x", nil)
	for k, v := range reqHeader {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// origin returns a handler answering status with headers and body,
// written in chunks of 1000 bytes.
func origin(status int, header map[string]string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		for i := 0; i < len(body); i += 1000 {
			w.Write(body[i:min(i+1000, len(body))])
		}
	})
}

func TestHandler(t *testing.T) {
	big := textBody(3, 20_000)
	small := textBody(4, 500)
	bigLen := strconv.Itoa(len(big))
	html := []byte("<!DOCTYPE html><html><body>" + strings.Repeat("<p>cairn edge</p>", 200) + "</body></html>")
	type want struct {
		enc, vary, etag, contentType string
		contentLength                string // "-": must be absent
	}
	cases := []struct {
		name   string
		method string
		req    map[string]string
		status int
		resp   map[string]string
		body   []byte
		want   want
	}{
		{name: "br with length", req: map[string]string{"Accept-Encoding": "gzip, br"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Length": bigLen, "ETag": `"v1"`}, body: big,
			want: want{enc: "br", vary: "Accept-Encoding", etag: `W/"v1"`, contentLength: "-"}},
		{name: "gzip without length", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "application/json"}, body: big,
			want: want{enc: "gzip", vary: "Accept-Encoding", contentLength: "-"}},
		{name: "zstd by q", req: map[string]string{"Accept-Encoding": "br;q=0.1, zstd"},
			status: 200, resp: map[string]string{"Content-Type": "text/css"}, body: big,
			want: want{enc: "zstd", vary: "Accept-Encoding"}},
		{name: "identity client still gets Vary", req: map[string]string{},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Length": bigLen, "ETag": `"v1"`}, body: big,
			want: want{vary: "Accept-Encoding", etag: `"v1"`, contentLength: bigLen}},
		{name: "already encoded", req: map[string]string{"Accept-Encoding": "br"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Encoding": "gzip", "ETag": `"v1"`}, body: big,
			want: want{enc: "gzip", etag: `"v1"`}},
		{name: "identity encoding header", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Encoding": "identity"}, body: big,
			want: want{enc: "gzip", vary: "Accept-Encoding"}},
		{name: "206", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 206, resp: map[string]string{"Content-Type": "text/plain", "Content-Range": "bytes 0-19999/40000"}, body: big,
			want: want{}},
		{name: "range request", req: map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Length": bigLen}, body: big,
			want: want{contentLength: bigLen}},
		{name: "no-transform", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Cache-Control": "public, No-Transform"}, body: big,
			want: want{}},
		{name: "small with length", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Length": strconv.Itoa(len(small))}, body: small,
			want: want{contentLength: strconv.Itoa(len(small))}},
		{name: "small without length gets one", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain"}, body: small,
			want: want{contentLength: strconv.Itoa(len(small))}},
		{name: "image", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "image/png"}, body: big,
			want: want{}},
		{name: "sniffed html", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{}, body: html,
			want: want{enc: "gzip", vary: "Accept-Encoding", contentType: "text/html; charset=utf-8"}},
		{name: "explicitly empty type", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": ""}, body: big,
			want: want{}},
		{name: "existing Vary kept", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Vary": "Origin"}, body: big,
			want: want{enc: "gzip", vary: "Origin,Accept-Encoding"}},
		{name: "Vary already names it", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Vary": "origin, accept-encoding"}, body: big,
			want: want{enc: "gzip", vary: "origin, accept-encoding"}},
		{name: "weak ETag unchanged", req: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "ETag": `W/"v2"`}, body: big,
			want: want{enc: "gzip", vary: "Accept-Encoding", etag: `W/"v2"`}},
		{name: "404 html", req: map[string]string{"Accept-Encoding": "br"},
			status: 404, resp: map[string]string{"Content-Type": "text/html"}, body: big,
			want: want{enc: "br", vary: "Accept-Encoding"}},
		{name: "304", req: map[string]string{"Accept-Encoding": "br"},
			status: 304, resp: map[string]string{"ETag": `"v1"`}, body: nil,
			want: want{etag: `"v1"`}},
		{name: "304 for the compressed variant", req: map[string]string{"Accept-Encoding": "br", "If-None-Match": `"v0", W/"v1"`},
			status: 304, resp: map[string]string{"ETag": `"v1"`}, body: nil,
			want: want{etag: `W/"v1"`, vary: "Accept-Encoding"}},
		{name: "304 for the identity variant", req: map[string]string{"Accept-Encoding": "br", "If-None-Match": `"v1"`},
			status: 304, resp: map[string]string{"ETag": `"v1"`}, body: nil,
			want: want{etag: `"v1"`}},
		{name: "HEAD with length", method: http.MethodHead, req: map[string]string{"Accept-Encoding": "br"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain", "Content-Length": bigLen}, body: nil,
			want: want{enc: "br", vary: "Accept-Encoding", contentLength: "-"}},
		{name: "upgrade", req: map[string]string{"Accept-Encoding": "br", "Upgrade": "websocket"},
			status: 200, resp: map[string]string{"Content-Type": "text/plain"}, body: big,
			want: want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			w := serve(Handler(origin(c.status, c.resp, c.body), Options{}), method, c.req)
			res := w.Result()
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			h := res.Header
			if got := h.Get("Content-Encoding"); got != c.want.enc {
				t.Errorf("Content-Encoding %q, want %q", got, c.want.enc)
			}
			if got := strings.Join(h.Values("Vary"), ","); got != c.want.vary {
				t.Errorf("Vary %q, want %q", got, c.want.vary)
			}
			if got := h.Get("ETag"); got != c.want.etag && !(c.want.etag == "" && got == c.resp["ETag"]) {
				t.Errorf("ETag %q, want %q", got, c.want.etag)
			}
			if c.want.contentType != "" && h.Get("Content-Type") != c.want.contentType {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), c.want.contentType)
			}
			switch cl := h.Get("Content-Length"); {
			case c.want.contentLength == "-" && cl != "":
				t.Errorf("Content-Length %q, want none", cl)
			case c.want.contentLength != "" && c.want.contentLength != "-" && cl != c.want.contentLength:
				t.Errorf("Content-Length %q, want %q", cl, c.want.contentLength)
			}
			body := w.Body.Bytes()
			if method == http.MethodHead {
				if len(body) != 0 {
					t.Errorf("HEAD body of %d bytes", len(body))
				}
				return
			}
			if c.want.enc != "" && c.want.enc != c.resp["Content-Encoding"] {
				body = decode(t, c.want.enc, body)
			}
			if !bytes.Equal(body, c.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(c.body))
			}
		})
	}
}

func TestHandlerOptions(t *testing.T) {
	body := textBody(5, 5000)
	next := origin(200, map[string]string{"Content-Type": "application/x-custom"}, body)
	h := Handler(next, Options{
		Encodings: []string{Gzip},
		GzipLevel: 1,
		MinSize:   100,
		Types:     func(ct string) bool { return ct == "application/x-custom" },
	})
	w := serve(h, http.MethodGet, map[string]string{"Accept-Encoding": "br, gzip;q=0.5"})
	if got := w.Header().Get("Content-Encoding"); got != Gzip {
		t.Fatalf("Content-Encoding %q, want gzip (br not allowed)", got)
	}
	if !bytes.Equal(decode(t, Gzip, w.Body.Bytes()), body) {
		t.Fatal("body mismatch")
	}
	// MinSize 100: a 150-byte body is compressed.
	w = serve(Handler(origin(200, map[string]string{"Content-Type": "text/plain"}, body[:150]), Options{MinSize: 100}),
		http.MethodGet, map[string]string{"Accept-Encoding": "gzip"})
	if w.Header().Get("Content-Encoding") != Gzip {
		t.Fatalf("150-byte body over MinSize 100 not compressed")
	}
	// An invalid level leaves responses uncompressed instead of failing them.
	w = serve(Handler(origin(200, map[string]string{"Content-Type": "text/plain"}, body), Options{GzipLevel: 42}),
		http.MethodGet, map[string]string{"Accept-Encoding": "gzip"})
	if w.Code != 200 || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), body) {
		t.Fatalf("invalid level: code %d, encoding %q", w.Code, w.Header().Get("Content-Encoding"))
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    Options
		want error
		text string
	}{
		{Options{Encodings: []string{"br", "deflate"}}, ErrUnknownEncoding, `encodings[1] is "deflate"`},
		{Options{GzipLevel: 10}, ErrBadLevel, "gzip_level is 10, the range is 1..9"},
		{Options{BrotliLevel: -3}, ErrBadLevel, "brotli_level is -3"},
		{Options{ZstdLevel: 99}, ErrBadLevel, "zstd_level is 99, the range is 1..22"},
	} {
		err := c.o.Validate()
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("Validate(%+v) = %v, want %v with %q", c.o, err, c.want, c.text)
		}
	}
}

// TestHandlerStreaming runs the handler behind a real server: a flushed
// event reaches the client, decodable, before the handler ends.
func TestHandlerStreaming(t *testing.T) {
	release := make(chan struct{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			t.Error("client never released the handler")
		}
		io.WriteString(w, "data: second\n\n")
	})
	srv := httptest.NewServer(Handler(next, Options{}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := srv.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != Gzip {
		t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	zr, err := newGzipReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(zr).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q, %v", line, err)
	}
	close(release)
}

func TestHandlerThroughServerRoundTrip(t *testing.T) {
	body := textBody(9, 300_000)
	next := origin(200, map[string]string{"Content-Type": "text/plain", "Content-Length": strconv.Itoa(len(body))}, body)
	srv := httptest.NewServer(Handler(next, Options{}))
	defer srv.Close()
	for _, enc := range []string{Brotli, Zstd, Gzip} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", enc)
		res, err := srv.Client().Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Header.Get("Content-Encoding") != enc || res.ContentLength != -1 {
			t.Fatalf("%s: Content-Encoding %q, length %d", enc, res.Header.Get("Content-Encoding"), res.ContentLength)
		}
		if !bytes.Equal(decode(t, enc, raw), body) {
			t.Fatalf("%s: body mismatch", enc)
		}
		t.Logf("%s: %d -> %d bytes", enc, len(body), len(raw))
	}
}

// TestHandlerConcurrent serves many requests at once with mixed codings:
// the pooled encoders never mix two responses.
func TestHandlerConcurrent(t *testing.T) {
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = textBody(uint64(100+i), 3000+i*997)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		w.Header().Set("Content-Type", "text/plain")
		w.Write(bodies[i])
	})
	h := Handler(next, Options{})
	encs := []string{Brotli, Zstd, Gzip, ""}
	errs := make(chan error, len(bodies))
	for g := range len(bodies) {
		go func() {
			for n := range 40 {
				i := (g + n) % len(bodies)
				enc := encs[n%len(encs)]
				r := httptest.NewRequest(http.MethodGet, "/?i="+strconv.Itoa(i), nil)
				r.Header.Set("Accept-Encoding", enc)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if got := w.Header().Get("Content-Encoding"); got != enc {
					errs <- fmt.Errorf("encoding %q, want %q", got, enc)
					return
				}
				got, err := decodeErr(enc, w.Body.Bytes())
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, bodies[i]) {
					errs <- fmt.Errorf("goroutine %d request %d (%q): body mismatch", g, n, enc)
					return
				}
			}
			errs <- nil
		}()
	}
	for range bodies {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestHandlerWithServeContent: in front of http.ServeContent, a compressed
// 200 revalidates to a 304 with the same weak validator, and a Range
// request gets the identity bytes.
func TestHandlerWithServeContent(t *testing.T) {
	body := textBody(21, 50_000)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"obj-7"`)
		http.ServeContent(w, r, "page.html", time.Time{}, bytes.NewReader(body))
	})
	h := Handler(next, Options{})

	w := serve(h, http.MethodGet, map[string]string{"Accept-Encoding": "gzip"})
	if w.Code != 200 || w.Header().Get("Content-Encoding") != Gzip || w.Header().Get("ETag") != `W/"obj-7"` {
		t.Fatalf("GET: %d, encoding %q, ETag %q", w.Code, w.Header().Get("Content-Encoding"), w.Header().Get("ETag"))
	}
	if !bytes.Equal(decode(t, Gzip, w.Body.Bytes()), body) {
		t.Fatal("GET body mismatch")
	}

	w = serve(h, http.MethodGet, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `W/"obj-7"`})
	if w.Code != 304 || w.Header().Get("ETag") != `W/"obj-7"` || w.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("revalidation: %d, ETag %q, Vary %q", w.Code, w.Header().Get("ETag"), w.Header().Get("Vary"))
	}

	w = serve(h, http.MethodGet, map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=100-199"})
	if w.Code != 206 || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), body[100:200]) {
		t.Fatalf("range: %d, encoding %q, %d bytes", w.Code, w.Header().Get("Content-Encoding"), w.Body.Len())
	}
}
