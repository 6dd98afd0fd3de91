package edgebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StatsPath is the origin's counters endpoint (GET, JSON OriginStats); it
// is not counted itself.
const StatsPath = "/stats"

// maxObjectSize bounds the size an object path may ask for (1 GiB, the
// size mix's limit too).
const maxObjectSize = 1 << 30

// maxObjects bounds OriginConfig.Objects and Config.Objects.
const maxObjects = 100_000_000

// OriginConfig configures the benchmark origin. Build it from
// DefaultOriginConfig.
type OriginConfig struct {
	// Objects is the number of objects: ids 0..Objects-1 exist, others 404.
	Objects int
	// MaxSize bounds the size a path may name (larger: 404).
	MaxSize int64
	// MaxAge is the max-age of every answer's Cache-Control
	// ("public, max-age=<seconds>"); 0 sends "public, max-age=0".
	MaxAge time.Duration
	// LastModified is every object's Last-Modified (zero: the start time,
	// to the second).
	LastModified time.Time
}

// DefaultOriginConfig returns the defaults of `cairn bench edge origin`.
func DefaultOriginConfig() OriginConfig {
	return OriginConfig{Objects: 100_000, MaxSize: 64 << 20, MaxAge: time.Hour}
}

// Validate reports the first invalid field.
func (c OriginConfig) Validate() error {
	switch {
	case c.Objects < 1 || c.Objects > maxObjects:
		return fmt.Errorf("edgebench: origin objects %d: must be in [1, %d]", c.Objects, maxObjects)
	case c.MaxSize < 1 || c.MaxSize > maxObjectSize:
		return fmt.Errorf("edgebench: origin max size %d: must be in [1, %d]", c.MaxSize, maxObjectSize)
	case c.MaxAge < 0 || c.MaxAge > 365*24*time.Hour:
		return fmt.Errorf("edgebench: origin max age %v: must be in [0, 8760h]", c.MaxAge)
	case c.MaxAge%time.Second != 0:
		return fmt.Errorf("edgebench: origin max age %v: must be whole seconds", c.MaxAge)
	}
	return nil
}

// OriginStats are the origin's counters since it started. Requests counts
// every object request (GET or HEAD, whatever the answer); the others
// split it.
type OriginStats struct {
	Requests    int64 `json:"requests"`
	Gets        int64 `json:"gets"`
	Heads       int64 `json:"heads"`
	NotModified int64 `json:"not_modified"`
	NotFound    int64 `json:"not_found"`
	// BodyBytes is the body bytes written.
	BodyBytes int64 `json:"body_bytes"`
}

// ErrOriginClosed is returned by Origin.Close when called twice.
var ErrOriginClosed = errors.New("edgebench: origin already closed")

// Origin is the benchmark's HTTP/1.1 origin server. It is safe for
// concurrent use; Close (or Shutdown) stops it.
type Origin struct {
	cfg          OriginConfig
	cacheControl string
	lastModified string
	srv          *http.Server
	ln           net.Listener
	wg           sync.WaitGroup // the serving goroutine
	closed       atomic.Bool

	requests, gets, heads, notModified, notFound, bodyBytes atomic.Int64
}

// StartOrigin validates cfg, listens on addr ("127.0.0.1:0" for any free
// port) and serves until Close.
func StartOrigin(addr string, cfg OriginConfig) (*Origin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.LastModified.IsZero() {
		cfg.LastModified = time.Now().Truncate(time.Second)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("edgebench: origin: %w", err)
	}
	o := &Origin{
		cfg:          cfg,
		cacheControl: fmt.Sprintf("public, max-age=%d", int64(cfg.MaxAge/time.Second)),
		lastModified: cfg.LastModified.UTC().Format(http.TimeFormat),
		ln:           ln,
	}
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		_ = o.srv.Serve(ln) // ErrServerClosed after Close or Shutdown
	}()
	return o, nil
}

// Addr is the host:port the origin listens on.
func (o *Origin) Addr() string { return o.ln.Addr().String() }

// Stats returns the counters so far.
func (o *Origin) Stats() OriginStats {
	return OriginStats{
		Requests: o.requests.Load(), Gets: o.gets.Load(), Heads: o.heads.Load(),
		NotModified: o.notModified.Load(), NotFound: o.notFound.Load(), BodyBytes: o.bodyBytes.Load(),
	}
}

// Close stops accepting, closes every connection and waits for the serving
// goroutine.
func (o *Origin) Close() error {
	if !o.closed.CompareAndSwap(false, true) {
		return ErrOriginClosed
	}
	err := o.srv.Close()
	o.wg.Wait()
	return err
}

// Shutdown stops accepting and waits for the requests in flight, or for ctx.
func (o *Origin) Shutdown(ctx context.Context) error {
	if !o.closed.CompareAndSwap(false, true) {
		return ErrOriginClosed
	}
	err := o.srv.Shutdown(ctx)
	o.wg.Wait()
	return err
}

// ETag is the strong entity tag of an object.
func ETag(id int, size int64) string { return fmt.Sprintf(`"eb-%d-%d"`, id, size) }

// ObjectPath is the path of object id of size bytes under prefix ("" or a
// path starting with "/", no trailing slash).
func ObjectPath(prefix string, id int, size int64) string {
	return prefix + "/" + strconv.FormatInt(size, 10) + "/" + strconv.Itoa(id)
}

// parseObjectPath reads the last two segments of p: size and id.
func parseObjectPath(p string) (id int, size int64, ok bool) {
	rest, idStr, ok1 := cutLast(p)
	_, sizeStr, ok2 := cutLast(rest)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	id, err1 := strconv.Atoi(idStr)
	size, err2 := strconv.ParseInt(sizeStr, 10, 64)
	if err1 != nil || err2 != nil || id < 0 || size < 0 {
		return 0, 0, false
	}
	return id, size, true
}

// cutLast splits p at its last "/".
func cutLast(p string) (before, after string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

// ServeHTTP answers GET /stats and GET/HEAD of object paths.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatsPath {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(o.Stats())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "edgebench origin: GET or HEAD only", http.StatusMethodNotAllowed)
		return
	}
	o.requests.Add(1)
	if r.Method == http.MethodHead {
		o.heads.Add(1)
	} else {
		o.gets.Add(1)
	}
	id, size, ok := parseObjectPath(r.URL.Path)
	if !ok || id >= o.cfg.Objects || size > o.cfg.MaxSize {
		o.notFound.Add(1)
		http.Error(w, fmt.Sprintf("edgebench origin: no object %q: want [/prefix]/<size 0..%d>/<id 0..%d>",
			r.URL.Path, o.cfg.MaxSize, o.cfg.Objects-1), http.StatusNotFound)
		return
	}
	h := w.Header()
	etag := ETag(id, size)
	h.Set("Cache-Control", o.cacheControl)
	h.Set("ETag", etag)
	h.Set("Last-Modified", o.lastModified)
	h.Set("Content-Type", "application/octet-stream")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		o.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	n, _ := writeBody(w, id, size) // a write error is the client leaving
	o.bodyBytes.Add(n)
}

// etagMatches applies If-None-Match's weak comparison (W/ ignored) to a
// list; etag is strong.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// patternSize is the length of the shared pseudo-random block bodies are
// cut from.
const patternSize = 64 << 10

// pattern is a fixed pseudo-random block (SplitMix64 output from 0).
var pattern = func() []byte {
	b := make([]byte, patternSize)
	for i := 0; i < patternSize; i += 8 {
		v := splitmix64(uint64(i))
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}()

// BodyHeader is how every body begins (cut to the object's size): it names
// the object, so a cache that mixed up two objects is caught.
func BodyHeader(id int, size int64) string {
	return fmt.Sprintf("edgebench object %d size %d\n", id, size)
}

// writeBody writes the deterministic body of (id, size): BodyHeader, then
// the pattern cycled from an offset that depends on both.
func writeBody(w io.Writer, id int, size int64) (int64, error) {
	var written int64
	head := BodyHeader(id, size)
	if int64(len(head)) > size {
		head = head[:size]
	}
	n, err := io.WriteString(w, head)
	written += int64(n)
	if err != nil {
		return written, err
	}
	off := int(splitmix64(uint64(id)<<20^uint64(size)) % patternSize)
	for written < size {
		chunk := pattern[off:]
		if rem := size - written; int64(len(chunk)) > rem {
			chunk = chunk[:rem]
		}
		n, err := w.Write(chunk)
		written += int64(n)
		if err != nil {
			return written, err
		}
		off = 0
	}
	return written, nil
}

// Body returns the whole body of (id, size), for checks.
func Body(id int, size int64) []byte {
	var b strings.Builder
	_, _ = writeBody(&b, id, size)
	return []byte(b.String())
}
