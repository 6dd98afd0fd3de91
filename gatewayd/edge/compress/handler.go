package compress

import (
	"fmt"
	"net/http"
	"strings"
)

// Options configure Handler. The zero value is ready to use.
type Options struct {
	// Encodings the handler may produce, in order of preference for
	// equal q-values (nil: br, zstd, gzip).
	Encodings []string
	// GzipLevel, BrotliLevel and ZstdLevel choose each coding's level
	// (0: the coding's default; see NewWriter for the ranges).
	GzipLevel, BrotliLevel, ZstdLevel int
	// MinSize is the smallest body compressed (<= 0: DefaultMinSize). A
	// response without Content-Length is held back until MinSize bytes
	// arrived, it ended, or the handler flushed.
	MinSize int64
	// Types says whether a Content-Type is worth compressing (nil: the
	// list Compressible uses).
	Types func(contentType string) bool
}

// Validate reports the first invalid option, naming it.
func (o Options) Validate() error {
	for i, e := range o.Encodings {
		if e != Brotli && e != Zstd && e != Gzip {
			return fmt.Errorf("%w: encodings[%d] is %q (want br, zstd or gzip)", ErrUnknownEncoding, i, e)
		}
	}
	check := func(field string, level, lo, hi int) error {
		if level != 0 && (level < lo || level > hi) {
			return fmt.Errorf("%w: %s is %d, the range is %d..%d (0: default)", ErrBadLevel, field, level, lo, hi)
		}
		return nil
	}
	if err := check("gzip_level", o.GzipLevel, MinGzipLevel, MaxGzipLevel); err != nil {
		return err
	}
	if err := check("brotli_level", o.BrotliLevel, MinBrotliLevel, MaxBrotliLevel); err != nil {
		return err
	}
	return check("zstd_level", o.ZstdLevel, MinZstdLevel, MaxZstdLevel)
}

func (o Options) level(enc string) int {
	switch enc {
	case Gzip:
		return o.GzipLevel
	case Brotli:
		return o.BrotliLevel
	default:
		return o.ZstdLevel
	}
}

// Handler returns a handler that serves next and compresses its eligible
// responses with the coding Negotiate picks among opts.Encodings.
//
// A response is eligible when the request has no Range and is no
// protocol upgrade, its status is not 206, 204, 304 nor informational,
// it has no Content-Encoding (other than identity) nor Content-Range,
// its Cache-Control has no no-transform, its Content-Type (sniffed from
// the body when absent, as net/http does) passes opts.Types, and its body
// is at least opts.MinSize bytes (Content-Length, or what arrived before
// the end or a flush). An eligible response always gets Vary:
// Accept-Encoding appended (unless Vary already names it or is "*"),
// also when the client accepts no coding. A compressed one gets
// Content-Encoding, loses Content-Length, and a strong ETag "x" becomes
// W/"x" (next must compare If-None-Match weakly, as RFC 9110 requires
// and http.ServeContent does; a 304 answering If-None-Match: W/"x" gets
// ETag W/"x" and the Vary back). HEAD responses get the same headers as GET would when the
// decision can be made from the headers; their (empty) body passes
// through. Flush (through http.ResponseController) flushes the encoder.
//
// Options are expected to be valid (see Validate); an encoder the options
// make impossible leaves the response uncompressed rather than failing it.
func Handler(next http.Handler, opts Options) http.Handler {
	if opts.Encodings == nil {
		opts.Encodings = defaultEncodings
	}
	if opts.MinSize <= 0 {
		opts.MinSize = DefaultMinSize
	}
	if opts.Types == nil {
		opts.Types = compressibleType
	}
	return &handler{next: next, opts: opts}
}

type handler struct {
	next http.Handler
	opts Options
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Range") != "" || r.Header.Get("Upgrade") != "" {
		h.next.ServeHTTP(w, r)
		return
	}
	enc := negotiate(strings.Join(r.Header.Values("Accept-Encoding"), ","), h.opts.Encodings)
	cw := &compressWriter{rw: w, h: h, enc: enc, head: r.Method == http.MethodHead, inm: r.Header.Get("If-None-Match")}
	defer cw.finish()
	h.next.ServeHTTP(cw, r)
}

// writer states.
const (
	statePending  = iota // status known, body held back until eligibility is known
	statePass            // the response goes through unchanged
	stateCompress        // the body goes through the encoder
)

// compressWriter is the http.ResponseWriter next writes to. It serves one
// request from one goroutine.
type compressWriter struct {
	rw     http.ResponseWriter
	h      *handler
	enc    string // negotiated coding, "" for identity
	head   bool   // a HEAD request
	inm    string // the request's If-None-Match
	status int    // 0 until next wrote the header
	state  int
	buf    []byte // body held back while pending
	zw     *pooledWriter
	err    error // the first write error to the client
}

// Header returns the response header map.
func (cw *compressWriter) Header() http.Header { return cw.rw.Header() }

// Unwrap returns the underlying writer, for http.ResponseController.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.rw }

// WriteHeader records the status and decides, when the headers suffice,
// whether to compress.
func (cw *compressWriter) WriteHeader(code int) {
	if cw.status != 0 {
		return
	}
	if code < 200 {
		if code == http.StatusSwitchingProtocols {
			cw.status, cw.state = code, statePass
		}
		cw.rw.WriteHeader(code)
		return
	}
	cw.status = code
	hdr := cw.rw.Header()
	if code == http.StatusNotModified {
		cw.notModified(hdr)
		cw.pass()
		return
	}
	if !cw.eligibleHeaders(hdr) {
		cw.pass()
		return
	}
	ct, hasType := hdr["Content-Type"]
	if hasType {
		if len(ct) == 0 || !cw.h.opts.Types(ct[0]) {
			cw.pass() // an explicitly empty type means "do not sniff"
			return
		}
	}
	if cl := hdr.Get("Content-Length"); cl != "" {
		n, ok := parseLength(cl)
		if ok && n < cw.h.opts.MinSize {
			cw.pass()
			return
		}
		if ok && hasType {
			cw.compress()
			return
		}
	}
	if cw.head && hasType {
		cw.pass() // no body to measure: send HEAD's headers unchanged
		return
	}
	cw.state = statePending
}

// notModified gives a 304 the validator and Vary of the compressed
// response the client revalidates: when the client's If-None-Match holds
// the weakened form W/"x" of the 304's strong ETag "x", the client has
// the compressed representation, so the 304 says W/"x" and Vary:
// Accept-Encoding as the 200 did.
func (cw *compressWriter) notModified(hdr http.Header) {
	et := hdr.Get("ETag")
	if !strings.HasPrefix(et, `"`) || cw.inm == "" {
		return
	}
	weak := "W/" + et
	for tag := range strings.SplitSeq(cw.inm, ",") {
		if strings.TrimSpace(tag) == weak {
			hdr.Set("ETag", weak)
			addVary(hdr)
			return
		}
	}
}

// eligibleHeaders checks everything but the type and the size.
func (cw *compressWriter) eligibleHeaders(h http.Header) bool {
	switch cw.status {
	case http.StatusPartialContent, http.StatusNoContent, http.StatusNotModified:
		return false
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	if h.Get("Content-Range") != "" {
		return false
	}
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-transform") {
				return false
			}
		}
	}
	return true
}

// Write passes p on, compresses it, or holds it back while undecided.
func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	switch cw.state {
	case statePass:
		return cw.rw.Write(p)
	case stateCompress:
		if cw.zw == nil { // HEAD
			return len(p), nil
		}
		return cw.zw.Write(p)
	}
	cw.buf = append(cw.buf, p...)
	if int64(len(cw.buf)) >= cw.h.opts.MinSize {
		cw.decide(true)
		if err := cw.drain(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush decides (a streamed response is compressed whatever its size so
// far), flushes the encoder and then the client's writer.
func (cw *compressWriter) Flush() {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.state == statePending {
		cw.decide(true)
		if cw.drain() != nil {
			return
		}
	}
	if cw.zw != nil {
		if err := cw.zw.Flush(); err != nil {
			return
		}
	}
	_ = http.NewResponseController(cw.rw).Flush()
}

// decide leaves the pending state: it sniffs a missing Content-Type and
// compresses when the type qualifies and big says the size does.
func (cw *compressWriter) decide(big bool) {
	hdr := cw.rw.Header()
	if _, ok := hdr["Content-Type"]; !ok && len(cw.buf) > 0 {
		hdr.Set("Content-Type", http.DetectContentType(cw.buf))
	}
	if big && cw.h.opts.Types(hdr.Get("Content-Type")) {
		cw.compress()
		return
	}
	if !big && hdr.Get("Content-Length") == "" && !cw.head {
		hdr.Set("Content-Length", fmt.Sprint(len(cw.buf)))
	}
	cw.pass()
}

// drain writes the held-back body after the decision.
func (cw *compressWriter) drain() error {
	if len(cw.buf) == 0 {
		return nil
	}
	b := cw.buf
	cw.buf = nil
	var err error
	switch {
	case cw.state == stateCompress && cw.zw != nil:
		_, err = cw.zw.Write(b)
	case cw.state == statePass:
		_, err = cw.rw.Write(b)
	}
	return err
}

// pass sends the header unchanged; the body follows as written.
func (cw *compressWriter) pass() {
	cw.state = statePass
	cw.rw.WriteHeader(cw.status)
}

// compress rewrites the header for the negotiated coding and starts the
// encoder (identity: only Vary changes).
func (cw *compressWriter) compress() {
	hdr := cw.rw.Header()
	addVary(hdr)
	if cw.enc == "" {
		cw.pass()
		return
	}
	if !cw.head {
		w, err := NewWriter(cw.rw, cw.enc, cw.h.opts.level(cw.enc))
		if err != nil {
			cw.pass()
			return
		}
		cw.zw = w.(*pooledWriter)
	}
	hdr.Set("Content-Encoding", cw.enc)
	hdr.Del("Content-Length")
	if et := hdr.Get("ETag"); strings.HasPrefix(et, `"`) {
		hdr.Set("ETag", "W/"+et)
	}
	cw.state = stateCompress
	cw.rw.WriteHeader(cw.status)
}

// finish runs after next returned: it decides a still pending response
// by its complete size and ends the encoding.
func (cw *compressWriter) finish() {
	if cw.state == statePending && cw.status != 0 {
		cw.decide(int64(len(cw.buf)) >= cw.h.opts.MinSize)
		_ = cw.drain()
	}
	if cw.zw != nil {
		_ = cw.zw.Close()
		cw.zw = nil
	}
}

// addVary appends Accept-Encoding to Vary unless it is there or Vary is *.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

// parseLength parses a Content-Length value.
func parseLength(s string) (int64, bool) {
	var n int64
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
