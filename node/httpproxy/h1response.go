package httpproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// preBufferSize is how much body a handler may write before the headers
// are committed: an answer that fits and ends gets a Content-Length, a
// longer one without it is sent chunked (as net/http).
const preBufferSize = 2048

// h1Response is the http.ResponseWriter of the HTTP/1.1 loop. It also
// implements http.Flusher, http.Hijacker and the methods
// http.ResponseController looks for (FlushError, SetReadDeadline,
// SetWriteDeadline, EnableFullDuplex). The handler's goroutine owns it;
// only the request body's 100-continue touches it from elsewhere, under
// contMu.
type h1Response struct {
	c    *srvConn
	req  *http.Request
	hdr  http.Header
	body *srvBody // nil for a bodiless request

	status      int
	wroteHeader bool // a final status is chosen
	chunked     bool
	noBody      bool  // HEAD or a status without body: writes are dropped
	cl          int64 // the answer's Content-Length; -1 unknown
	written     int64
	pre         []byte
	closeAfter  bool
	trailers    []string
	hijacked    bool
	handlerDone bool
	wdeadline   bool
	err         error

	expectContinue bool
	contMu         sync.Mutex // orders 100 Continue against the commit
	committed      bool       // status line and headers are in bw
	wroteContinue  bool
}

func (c *srvConn) newResponse(req *http.Request) *h1Response {
	w := &h1Response{c: c, req: req, hdr: make(http.Header, 8), cl: -1}
	if req.Body != nil && req.Body != http.NoBody {
		w.body = &srvBody{c: c, w: w, rc: req.Body}
		req.Body = w.body
	}
	return w
}

// setExpect handles the Expect header; false means the connection was
// answered 417 and must close.
func (w *h1Response) setExpect() bool {
	ex, ok := w.req.Header["Expect"]
	if !ok {
		return true
	}
	if len(ex) == 1 && strings.EqualFold(strings.TrimSpace(ex[0]), "100-continue") {
		if w.req.ProtoAtLeast(1, 1) && w.body != nil {
			w.expectContinue = true
		}
		delete(w.req.Header, "Expect")
		return true
	}
	w.c.writeError(http.StatusExpectationFailed, "")
	return false
}

// Header implements http.ResponseWriter.
func (w *h1Response) Header() http.Header { return w.hdr }

// WriteHeader implements http.ResponseWriter. 1xx answers but 101 are
// written at once with the current headers; a final status is sent with
// the first body bytes, a flush or the end of the handler.
func (w *h1Response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		w.c.s.logger.Warn("handler wrote an invalid status; answering 500", "status", code)
		code = http.StatusInternalServerError
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.wroteHeader = true
	w.status = code
}

func (w *h1Response) writeInformational(code int) {
	if w.expectContinue {
		w.contMu.Lock()
		defer w.contMu.Unlock()
		if code == http.StatusContinue {
			if w.wroteContinue {
				return
			}
			w.wroteContinue = true
		}
	}
	bw := w.c.bw
	writeStatusLine(bw, code)
	for k, vv := range w.hdr {
		writeHeaderLines(bw, k, vv)
	}
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// Write implements http.ResponseWriter.
func (w *h1Response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.committed {
		if _, declared := w.hdr["Content-Length"]; !declared && len(w.pre)+len(p) <= preBufferSize {
			if w.pre == nil {
				w.pre = w.c.pre[:0]
			}
			w.pre = append(w.pre, p...)
			w.written += int64(len(p))
			return len(p), nil
		}
		pre := w.pre
		if len(pre) == 0 {
			pre = p
		}
		w.commit(pre)
		if len(w.pre) > 0 {
			w.writeBody(w.pre)
			w.pre = w.pre[:0]
		}
	}
	w.written += int64(len(p))
	if w.cl >= 0 && w.written > w.cl && !w.noBody {
		w.written -= int64(len(p))
		return 0, http.ErrContentLength
	}
	w.writeBody(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func (w *h1Response) writeBody(p []byte) {
	if w.noBody || len(p) == 0 || w.err != nil {
		return
	}
	bw := w.c.bw
	if w.chunked {
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
		bw.Write(p)
		_, w.err = bw.WriteString("\r\n")
		return
	}
	_, w.err = bw.Write(p)
}

// commit writes the status line and headers to bw; sniff is the first
// body bytes (for Content-Type and, once the handler is done, the
// Content-Length).
func (w *h1Response) commit(sniff []byte) {
	if w.expectContinue {
		w.contMu.Lock()
		w.committed = true
		if !w.wroteContinue && w.req.ContentLength != 0 {
			w.closeAfter = true // the client holds its body back
		}
		w.contMu.Unlock()
	} else {
		w.committed = true
	}
	h := w.hdr
	req := w.req
	status := w.status
	bodyOK := bodyAllowedForStatus(status)
	isHEAD := req.Method == http.MethodHead
	w.noBody = isHEAD || !bodyOK

	if tr, ok := h["Trailer"]; ok {
		for _, v := range tr {
			for _, k := range strings.Split(v, ",") {
				if k = strings.TrimSpace(k); k != "" {
					w.trailers = append(w.trailers, http.CanonicalHeaderKey(k))
				}
			}
		}
	}
	te := h["Transfer-Encoding"]
	teChunked := len(te) > 0 && te[len(te)-1] == "chunked"
	if cls, ok := h["Content-Length"]; ok {
		n := int64(-1)
		if len(cls) == 1 {
			if v, err := strconv.ParseUint(strings.TrimSpace(cls[0]), 10, 63); err == nil {
				n = int64(v)
			}
		}
		if n < 0 || teChunked {
			delete(h, "Content-Length")
		} else {
			w.cl = n
		}
	}
	setCL := false
	if w.cl < 0 && !teChunked && w.handlerDone && len(w.trailers) == 0 && bodyOK && (!isHEAD || len(sniff) > 0) {
		w.cl = int64(len(sniff))
		setCL = true
	}
	switch {
	case w.noBody:
	case w.cl >= 0:
	case req.ProtoAtLeast(1, 1):
		w.chunked = true
	default:
		w.closeAfter = true // HTTP/1.0 and no length: the close ends the body
	}
	if req.Close || w.c.s.shutting.Load() || hasToken(h["Connection"], "close") {
		w.closeAfter = true
	}
	keepAlive10 := false
	if !w.closeAfter && !req.ProtoAtLeast(1, 1) {
		if w.cl >= 0 || w.noBody {
			keepAlive10 = true
		} else {
			w.closeAfter = true
		}
	}
	bw := w.c.bw
	writeStatusLine(bw, status)
	for k, vv := range h {
		switch k {
		case "Transfer-Encoding", "Connection", "Trailer":
			continue
		}
		if strings.HasPrefix(k, http.TrailerPrefix) || w.isTrailer(k) {
			continue
		}
		writeHeaderLines(bw, k, vv)
	}
	if tr, ok := h["Trailer"]; ok && w.chunked {
		writeHeaderLines(bw, "Trailer", tr)
	}
	if !w.closeAfter {
		if c, ok := h["Connection"]; ok {
			writeHeaderLines(bw, "Connection", c)
		} else if keepAlive10 {
			bw.WriteString("Connection: keep-alive\r\n")
		}
	} else if req.ProtoAtLeast(1, 1) {
		bw.WriteString("Connection: close\r\n")
	}
	if setCL {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(w.c.num[:0], w.cl, 10))
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.WriteString(httpDate())
		bw.WriteString("\r\n")
	}
	if _, ok := h["Content-Type"]; !ok && bodyOK && !teChunked && len(sniff) > 0 {
		bw.WriteString("Content-Type: ")
		bw.WriteString(http.DetectContentType(sniff))
		bw.WriteString("\r\n")
	}
	_, w.err = bw.WriteString("\r\n")
}

func (w *h1Response) isTrailer(k string) bool {
	for _, t := range w.trailers {
		if t == k {
			return true
		}
	}
	return false
}

// finish completes the answer after the handler returned and reports
// whether the connection may serve another request.
func (w *h1Response) finish() bool {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pre)
		w.writeBody(w.pre)
	}
	w.pre = nil
	bw := w.c.bw
	if w.chunked && w.err == nil {
		bw.WriteString("0\r\n")
		for _, k := range w.trailers {
			if vv, ok := w.hdr[k]; ok {
				writeHeaderLines(bw, k, vv)
			}
		}
		for k, vv := range w.hdr {
			if strings.HasPrefix(k, http.TrailerPrefix) {
				writeHeaderLines(bw, k[len(http.TrailerPrefix):], vv)
			}
		}
		bw.WriteString("\r\n")
	}
	if w.err == nil {
		w.err = bw.Flush()
	}
	if w.cl >= 0 && w.written < w.cl && !w.noBody {
		w.closeAfter = true // the client waits for bytes that never come
	}
	if w.wdeadline {
		_ = w.c.nc.SetWriteDeadline(time.Time{})
	}
	if w.body != nil && !w.body.finish() {
		w.closeAfter = true
	}
	return !w.closeAfter && w.err == nil
}

// Flush implements http.Flusher.
func (w *h1Response) Flush() { _ = w.FlushError() }

// FlushError sends what is buffered (http.ResponseController uses it).
func (w *h1Response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pre)
		w.writeBody(w.pre)
		w.pre = w.pre[:0]
	}
	if w.err == nil {
		w.err = w.c.bw.Flush()
	}
	return w.err
}

// Hijack implements http.Hijacker: the handler takes the connection and
// its buffers; the loop forgets it.
func (w *h1Response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.committed {
		if err := w.c.bw.Flush(); err != nil {
			return nil, nil, err
		}
	}
	c := w.c
	c.stopBackgroundRead(true)
	c.state.Store(stateHijacked)
	w.hijacked = true
	_ = c.nc.SetDeadline(time.Time{})
	if c.rd.hasPending {
		_, _ = c.br.Peek(1) // the byte the background read took goes back in front
	}
	return c.nc, bufio.NewReadWriter(c.br, c.bw), nil
}

// SetReadDeadline sets the connection's read deadline (for the body).
func (w *h1Response) SetReadDeadline(t time.Time) error { return w.c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the connection's write deadline; it is cleared
// after the answer.
func (w *h1Response) SetWriteDeadline(t time.Time) error {
	w.wdeadline = true
	return w.c.nc.SetWriteDeadline(t)
}

// EnableFullDuplex: the loop already lets a handler read the body while
// it writes the answer.
func (w *h1Response) EnableFullDuplex() error { return nil }

// sendContinue writes 100 Continue before the body's first read, unless
// the answer is already committed.
func (w *h1Response) sendContinue() {
	w.contMu.Lock()
	defer w.contMu.Unlock()
	if w.wroteContinue || w.committed {
		return
	}
	w.wroteContinue = true
	_, _ = io.WriteString(w.c.nc, "HTTP/1.1 100 Continue\r\n\r\n")
}

// srvBody is a request body on the loop. Read and Close may run on another
// goroutine than the handler (an upstream writer); after the handler
// returns, finish takes it over.
type srvBody struct {
	mu     sync.Mutex
	c      *srvConn
	w      *h1Response
	rc     io.ReadCloser // http.ReadRequest's body; never closed (that would drain it unbounded)
	eof    bool
	closed bool
}

func (b *srvBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.eof {
		return 0, io.EOF
	}
	if b.w.expectContinue {
		b.w.sendContinue()
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
		b.c.bodyEOF(b.c.br.Buffered() > 0)
	}
	return n, err
}

// Close implements io.Closer; the unread rest is dealt with after the
// handler.
func (b *srvBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *srvBody) sawEOF() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eof
}

// finish ends the body after the handler: an unread rest of at most
// maxDiscardBody is read and dropped. It reports whether the connection
// is positioned at the next request.
func (b *srvBody) finish() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.eof {
		return true
	}
	b.w.contMu.Lock()
	held := b.w.expectContinue && !b.w.wroteContinue
	b.w.contMu.Unlock()
	if held {
		return false
	}
	_ = b.c.nc.SetReadDeadline(time.Now().Add(b.c.s.cfg.ReadHeaderTimeout))
	_, err := io.CopyN(io.Discard, b.rc, maxDiscardBody+1)
	if err == io.EOF {
		b.eof = true
		return true
	}
	return false
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

var statusLine200 = "HTTP/1.1 200 OK\r\n"

func writeStatusLine(bw *bufio.Writer, code int) {
	if code == http.StatusOK {
		bw.WriteString(statusLine200)
		return
	}
	bw.WriteString("HTTP/1.1 ")
	var b [8]byte
	bw.Write(strconv.AppendInt(b[:0], int64(code), 10))
	bw.WriteByte(' ')
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	bw.WriteString(text)
	bw.WriteString("\r\n")
}

// writeHeaderLines writes k's values; invalid names are skipped and line
// breaks in values become spaces (no response splitting).
func writeHeaderLines(bw *bufio.Writer, k string, vv []string) {
	if !validHeaderName(k) {
		return
	}
	for _, v := range vv {
		bw.WriteString(k)
		bw.WriteString(": ")
		if strings.ContainsAny(v, "\r\n") {
			v = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
		}
		bw.WriteString(strings.TrimSpace(v))
		bw.WriteString("\r\n")
	}
}

// dateCache holds the formatted Date of the current second.
type dateCache struct {
	sec int64
	s   string
}

var curDate atomic.Pointer[dateCache]

// httpDate returns the current time as an HTTP Date, formatted once per
// second.
func httpDate() string {
	now := time.Now()
	sec := now.Unix()
	if d := curDate.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &dateCache{sec: sec, s: now.UTC().Format(http.TimeFormat)}
	curDate.Store(d)
	return d.s
}
