package respcache

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Values the Recorder writes on a miss.
var (
	xCacheMiss      = []string{"MISS"}
	cacheStatusMiss = []string{"cairn-gateway; fwd=uri-miss"}
)

// Recorder is an http.ResponseWriter that passes a response through to the
// client as it is written (flushes included) while keeping a copy of the
// body of at most maxBody bytes for the cache. A longer body is streamed
// on but not stored. A Recorder serves one request, from one goroutine.
type Recorder struct {
	w       http.ResponseWriter
	c       *Cache
	max     int64
	status  int
	header  http.Header // snapshot at WriteHeader
	body    []byte
	over    bool  // the body outgrew max
	failed  bool  // a write to the client failed
	written int64 // body bytes passed to the client
}

// NewRecorder returns a Recorder in front of w that keeps at most maxBody
// bytes (maxBody <= 0: 1 MiB). It adds X-Cache: MISS and Cache-Status
// (fwd=uri-miss) to the response.
func (c *Cache) NewRecorder(w http.ResponseWriter, maxBody int64) *Recorder {
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return &Recorder{w: w, c: c, max: maxBody}
}

// Header returns the client response's header map.
func (rec *Recorder) Header() http.Header { return rec.w.Header() }

// WriteHeader records and sends the status. Informational (1xx) statuses
// pass through unrecorded.
func (rec *Recorder) WriteHeader(code int) {
	if rec.status != 0 {
		return
	}
	if code >= 100 && code < 200 {
		rec.w.WriteHeader(code)
		return
	}
	h := rec.w.Header()
	h["X-Cache"] = xCacheMiss
	h["Cache-Status"] = cacheStatusMiss
	rec.status = code
	rec.header = h.Clone()
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > 0 && n <= rec.max {
			rec.body = make([]byte, 0, n)
		} else if err == nil && n > rec.max {
			rec.over = true
		}
	}
	rec.w.WriteHeader(code)
}

// Write sends p to the client and keeps a copy while the body fits.
func (rec *Recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.w.Write(p)
	rec.written += int64(n)
	if err != nil {
		rec.failed = true
	}
	if !rec.over {
		if int64(len(rec.body)+n) > rec.max {
			rec.over, rec.body = true, nil
		} else {
			rec.body = append(rec.body, p[:n]...)
		}
	}
	return n, err
}

// Flush sends buffered data to the client, if the writer can.
func (rec *Recorder) Flush() {
	_ = http.NewResponseController(rec.w).Flush()
}

// Unwrap returns the client's writer, for http.ResponseController.
func (rec *Recorder) Unwrap() http.ResponseWriter { return rec.w }

// Status is the status written (0: none yet).
func (rec *Recorder) Status() int { return rec.status }

// Overflowed reports whether the body outgrew maxBody.
func (rec *Recorder) Overflowed() bool { return rec.over }

// Finish stores the recorded response under key for ttl (see Cache.Put)
// and returns the entry, or nil when nothing was stored: the body
// overflowed, the status is not final, a write to the client failed, or
// fewer bytes were written than a Content-Length promised (an interrupted
// response). The caller must not call Finish for a response the upstream
// did not complete (a proxy error after the header): without a
// Content-Length the Recorder cannot tell. status 0 and a nil
// header mean those the Recorder saw; the gateway passes the upstream's,
// so that headers it added for this request only are not stored. Finish
// never fails the request: the shared store is written asynchronously and
// bounded in time.
func (rec *Recorder) Finish(ctx context.Context, key string, r *http.Request, status int, header http.Header, ttl time.Duration) *Entry {
	if rec.over || rec.failed || rec.status == 0 {
		return nil
	}
	if status == 0 {
		status = rec.status
	}
	if header == nil {
		header = rec.header
	}
	if cl := header.Get("Content-Length"); cl != "" && r.Method != http.MethodHead {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n != rec.written {
			return nil
		}
	}
	return rec.c.Put(ctx, key, r, status, header, rec.body, ttl)
}
