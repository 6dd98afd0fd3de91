package httpcache

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hopByHop are the fields a cache never stores nor forwards (RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// storedHeader returns the header to store for a response: without
// hop-by-hop fields and Age (the meta keeps the age), with a Date.
func storedHeader(h http.Header, respTime time.Time) http.Header {
	out := h.Clone()
	for _, c := range h.Values("Connection") {
		for f := range strings.SplitSeq(c, ",") {
			out.Del(strings.TrimSpace(f))
		}
	}
	for _, f := range hopByHop {
		out.Del(f)
	}
	out.Del("Age")
	out.Del("Content-Length")
	if out.Get("Date") == "" {
		out.Set("Date", respTime.UTC().Format(http.TimeFormat))
	}
	return out
}

// writeHeader copies h to w's header without what the edge keeps to itself:
// Surrogate-Control always, Surrogate-Key unless the request carries
// Cairn-Debug: 1 — both are kept for a request Options.Downstream names.
func (c *Cache) writeHeader(w http.ResponseWriter, r *http.Request, h http.Header) {
	dst := w.Header()
	for k, v := range h {
		dst[k] = v
	}
	if c.opts.Downstream != nil && c.opts.Downstream(r) {
		return
	}
	dst.Del("Surrogate-Control")
	if r.Header.Get("Cairn-Debug") != "1" {
		dst.Del("Surrogate-Key")
	}
}

func ageSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(max(d, 0)/time.Second), 10)
}

// setStatusHeaders writes X-Cache and Cache-Status (RFC 9211).
func (c *Cache) setStatusHeaders(w http.ResponseWriter, o Outcome, status string) {
	w.Header().Set("X-Cache", string(o))
	w.Header().Set("Cache-Status", c.opts.Name+"; "+status)
}

// serveStored answers r from a stored response and closes body: 304 when
// the request's conditionals match, 206/416 for a single byte range of a
// 200, else the whole response.
func (c *Cache) serveStored(w http.ResponseWriter, r *http.Request, m *meta, body Body, o Outcome, status string) Outcome {
	defer body.Close()
	now := c.now()
	c.writeHeader(w, r, m.header)
	w.Header().Set("Age", ageSeconds(m.currentAge(now)))
	c.setStatusHeaders(w, o, status)
	size := body.Size()
	if notModified(r, m.header) {
		dropContentHeaders(w.Header())
		w.WriteHeader(http.StatusNotModified)
		return o
	}
	start, end, code := int64(0), size, m.status
	if m.status == http.StatusOK {
		w.Header().Set("Accept-Ranges", "bytes")
		if rs, re, kind := rangeOf(r, m.header, size); kind == rangeOne {
			start, end, code = rs, re, http.StatusPartialContent
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rs, re-1, size))
		} else if kind == rangeUnsatisfiable {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return o
		}
	}
	if bodyAllowed(code) {
		w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
	}
	w.WriteHeader(code)
	if r.Method == http.MethodHead || !bodyAllowed(code) {
		return o
	}
	var n int64
	var err error
	if b, ok := body.(byteser); ok {
		// A body in memory goes out in one write: the kernel takes as much
		// as the socket holds per call, with no copy through a buffer.
		var k int
		k, err = w.Write(b.Bytes()[start:end])
		n = int64(k)
	} else {
		buf := bufPool.Get().(*[]byte)
		n, err = io.CopyBuffer(w, io.NewSectionReader(body, start, end-start), *buf)
		bufPool.Put(buf)
	}
	c.st.bytesServed.Add(n)
	if err != nil {
		c.opts.Logger.Debug("httpcache: writing a stored body", "err", err)
	}
	return o
}

// byteser is a Body held in memory (cachestore's memory tier): Bytes is
// the whole body, never modified.
type byteser interface{ Bytes() []byte }

// bufPool holds the copy buffers of bodies.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func dropContentHeaders(h http.Header) {
	for _, f := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Content-Range", "Accept-Ranges"} {
		h.Del(f)
	}
}

// notModified evaluates If-None-Match, else If-Modified-Since, of a GET or
// HEAD against a response's validators (RFC 9110 §13.2.2).
func notModified(r *http.Request, h http.Header) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		etag := h.Get("Etag")
		for _, line := range inm {
			for t := range strings.SplitSeq(line, ",") {
				t = strings.TrimSpace(t)
				if t == "*" && etag != "" || etag != "" && weakEqual(t, etag) {
					return true
				}
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	if err != nil {
		return false
	}
	lm, err := http.ParseTime(h.Get("Last-Modified"))
	return err == nil && !lm.After(ims)
}

func weakEqual(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// Kinds of Range request.
const (
	rangeNone = iota
	rangeOne
	rangeUnsatisfiable
)

// rangeOf parses r's Range for a representation of size bytes with header
// h. It returns rangeNone (serve it all) for no Range, a malformed or
// multi-range one, a failed If-Range, or a HEAD.
func rangeOf(r *http.Request, h http.Header, size int64) (start, end int64, kind int) {
	v := r.Header.Get("Range")
	if v == "" || r.Method != http.MethodGet || !ifRangeHolds(r, h) {
		return 0, 0, rangeNone
	}
	unit, spec, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return 0, 0, rangeNone
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, rangeNone
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" { // suffix: the last b bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, rangeNone
		}
		if n == 0 || size == 0 {
			return 0, 0, rangeUnsatisfiable
		}
		return max(size-n, 0), size, rangeOne
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, rangeNone
	}
	e := size - 1
	if b != "" {
		if e, err = strconv.ParseInt(b, 10, 64); err != nil || e < s {
			return 0, 0, rangeNone
		}
	}
	if s >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return s, min(e, size-1) + 1, rangeOne
}

// ifRangeHolds evaluates If-Range: a strong ETag match or an exact
// Last-Modified date.
func ifRangeHolds(r *http.Request, h http.Header) bool {
	v := strings.TrimSpace(r.Header.Get("If-Range"))
	if v == "" {
		return true
	}
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		etag := h.Get("Etag")
		return !strings.HasPrefix(v, "W/") && !strings.HasPrefix(etag, "W/") && v == etag
	}
	return v == h.Get("Last-Modified")
}

// errorResponse answers an error of the cache itself.
func (c *Cache) errorResponse(w http.ResponseWriter, code int, detail string) Outcome {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.setStatusHeaders(w, Error, "fwd=miss; detail="+strings.ReplaceAll(detail, " ", "-"))
	w.WriteHeader(code)
	fmt.Fprintf(w, "httpcache: %s\n", detail)
	return Error
}

// windowWriter writes only bytes [start, end) of what passes through it to
// w, and reports every write as complete; err keeps w's first error.
type windowWriter struct {
	w          io.Writer
	start, end int64
	pos        int64
	n          int64 // bytes written to w
	err        error
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	lo, hi := ww.pos, ww.pos+int64(len(p))
	ww.pos = hi
	if ww.err != nil || hi <= ww.start || lo >= ww.end {
		return len(p), nil
	}
	from, to := max(ww.start-lo, 0), min(ww.end-lo, int64(len(p)))
	n, err := ww.w.Write(p[from:to])
	ww.n += int64(n)
	if err != nil {
		ww.err = err
	}
	return len(p), nil
}
