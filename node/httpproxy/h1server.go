package httpproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The package's own HTTP/1.1 server loop (h1server*.go) serves plaintext
// HTTP/1.1 and TLS connections that negotiated http/1.1: one goroutine per
// connection reads a request, runs the handler on that goroutine and
// writes the answer through a buffered writer flushed once per response
// (or when the handler flushes). h2 by ALPN and h2c with prior knowledge
// are handed to net/http through handoffListener.
//
// Client-gone detection: net/http starts a read on the connection for
// every request whose body is consumed, and aborts it after the handler,
// which costs a goroutine switch and extra syscalls per request. Here the
// read starts only when a handler is still running bgReadDelay after it
// started (a per-connection timer, re-armed per request, runs the read on
// its own goroutine), so fast requests pay nothing and a client that
// leaves during a slow one cancels the request's context within
// bgReadDelay.

// bgReadDelay is how long a handler runs before its client connection is
// watched for a close.
const bgReadDelay = 5 * time.Millisecond

// maxDiscardBody bounds the unread request body read after a response so
// the connection can be reused (net/http's maxPostHandlerReadBytes).
const maxDiscardBody = 256 << 10

// headerSlack is read beyond MaxHeaderBytes before refusing (as net/http).
const headerSlack = 4096

// lingerTime bounds the read of a client's leftover input before closing
// a connection whose request body was not read (so that the close does not
// reset the answer away).
const lingerTime = 500 * time.Millisecond

// errRequestHeaderTooLarge: a request line and headers beyond the limit.
var errRequestHeaderTooLarge = errors.New("httpproxy: request header too large")

var (
	srvReaderPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}
	srvWriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
)

// connection states for graceful stop.
const (
	stateNew int32 = iota
	stateActive
	stateIdle
	stateClosed // closed by the server while idle
	stateHijacked
)

// srvReader is the reader under a connection's bufio.Reader: it enforces
// the header limit and replays the byte the background read took.
type srvReader struct {
	nc         net.Conn
	limit      int64 // < 0: none
	pending    byte
	hasPending bool
}

func (r *srvReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.limit >= 0 {
		if r.limit == 0 {
			return 0, errRequestHeaderTooLarge
		}
		if int64(len(p)) > r.limit {
			p = p[:r.limit]
		}
	}
	if r.hasPending {
		p[0] = r.pending
		r.hasPending = false
		if r.limit > 0 {
			r.limit--
		}
		return 1, nil
	}
	n, err := r.nc.Read(p)
	if r.limit >= 0 {
		r.limit -= int64(n)
	}
	return n, err
}

// srvConn is one client connection served by the HTTP/1.1 loop.
type srvConn struct {
	s          *Server
	nc         net.Conn
	tlsState   *tls.ConnectionState
	remoteAddr string
	accepted   time.Time
	state      atomic.Int32

	rd        srvReader
	br        *bufio.Reader
	bw        *bufio.Writer
	ctx       context.Context // parent of the requests' contexts
	ctxCancel context.CancelFunc
	bigReader bool                // br is a one-off reader sized for a large header
	pre       [preBufferSize]byte // a response's body before its headers
	num       [20]byte

	// Background read (client-gone detection); see the package comment of
	// h1server.go. mu protects the fields below it.
	bgTimer    *time.Timer
	bgDone     chan struct{}
	mu         sync.Mutex
	reqActive  bool
	bodyDone   bool // the current request's body was read to its end
	pipelined  bool // bytes of a next request were buffered then
	bgWanted   bool // the timer fired before the body was done
	bgRunning  bool
	bgAborting bool
	cancel     context.CancelFunc
	hijacked   bool
}

func (s *Server) newSrvConn(nc net.Conn) *srvConn {
	c := &srvConn{s: s, nc: nc, remoteAddr: nc.RemoteAddr().String(), accepted: time.Now()}
	c.rd = srvReader{nc: nc, limit: -1}
	return c
}

// serve runs the connection until it closes or is hijacked.
func (c *srvConn) serve() {
	defer c.s.connWG.Done()
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			c.s.logger.Error("panic serving request", "remote", c.remoteAddr, "panic", v, "stack", string(buf))
		}
		c.s.untrack(c)
		if c.ctxCancel != nil {
			c.ctxCancel() // the handler has returned, hijacker or not
		}
		if c.isHijacked() {
			return
		}
		_ = c.nc.Close()
		c.release()
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		if !c.handshake(tc) {
			return
		}
	}
	c.br = srvReaderPool.Get().(*bufio.Reader)
	c.br.Reset(&c.rd)
	c.bw = srvWriterPool.Get().(*bufio.Writer)
	c.bw.Reset(c.nc)
	if c.s.cfg.H2C && c.isH2CPreface() {
		c.handoff(&prefixConn{Conn: c.nc, r: c.br})
		return
	}
	for first := true; ; first = false {
		if !c.serveOne(first) {
			return
		}
	}
}

// handshake runs the TLS handshake; on h2 it hands the connection to
// net/http and reports false, as on failure.
func (c *srvConn) handshake(tc *tls.Conn) bool {
	_ = tc.SetDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
	if err := tc.HandshakeContext(context.Background()); err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
			_ = re.Conn.Close()
		}
		return false
	}
	_ = tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.tlsState = &st
	if st.NegotiatedProtocol == "h2" {
		c.handoff(tc)
		return false
	}
	return true
}

func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// isH2CPreface reports whether the client starts with the HTTP/2
// connection preface ("PRI " is no HTTP/1 method this server serves).
func (c *srvConn) isH2CPreface() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
	p, err := c.br.Peek(4)
	if err != nil {
		return false
	}
	return string(p) == "PRI "
}

// handoff passes the connection to net/http; the loop lets go of it.
func (c *srvConn) handoff(nc net.Conn) {
	_ = nc.SetDeadline(time.Time{})
	c.mu.Lock()
	c.hijacked = true
	c.mu.Unlock()
	c.state.Store(stateHijacked)
	c.s.handoff.push(nc)
}

func (c *srvConn) isHijacked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hijacked
}

// release returns the connection's buffers to their pools (not after a
// hijack: the handler owns them then).
func (c *srvConn) release() {
	if c.br != nil {
		if !c.bigReader {
			c.br.Reset(nil)
			srvReaderPool.Put(c.br)
		}
		c.br = nil
	}
	if c.bw != nil {
		c.bw.Reset(nil)
		srvWriterPool.Put(c.bw)
		c.bw = nil
	}
	if c.bgTimer != nil {
		c.bgTimer.Stop()
	}

}

// waitRequest waits for the first byte of the next request (idle
// timeout, or the header timeout for the first) and marks the connection
// active. It reports false when the connection is to be closed.
func (c *srvConn) waitRequest(first bool) bool {
	cfg := &c.s.cfg
	if c.br.Buffered() == 0 {
		d := cfg.IdleTimeout
		if first {
			d = cfg.ReadHeaderTimeout
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(d))
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	if !c.state.CompareAndSwap(stateIdle, stateActive) && !c.state.CompareAndSwap(stateNew, stateActive) {
		return false
	}
	// A header already buffered whole needs no read deadline of its own
	// (the common case; serveOne clears the deadline after parsing).
	if b, _ := c.br.Peek(c.br.Buffered()); headerEnd(b) < 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(cfg.ReadHeaderTimeout))
	}
	return true
}

// serveOne reads and answers one request; it reports whether the
// connection stays open for another.
func (c *srvConn) serveOne(first bool) bool {
	if !c.waitRequest(first) {
		return false
	}
	c.rd.limit = int64(c.s.cfg.MaxHeaderBytes) + headerSlack
	hosts, err := c.peekHeader()
	var req *http.Request
	if err == nil {
		req, err = http.ReadRequest(c.br)
	}
	hitLimit := c.rd.limit == 0
	c.rd.limit = -1
	if err != nil {
		switch {
		case hitLimit || errors.Is(err, errRequestHeaderTooLarge):
			c.writeError(http.StatusRequestHeaderFieldsTooLarge, "")
		case isUnsupportedTE(err):
			c.writeError(http.StatusNotImplemented, "Unsupported transfer encoding")
		case isCommonReadError(err):
		default:
			c.writeError(http.StatusBadRequest, "")
		}
		return false
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	if status, msg := checkRequest(req, hosts); status != 0 {
		c.writeError(status, msg)
		return false
	}
	req.RemoteAddr = c.remoteAddr
	req.TLS = c.tlsState

	w := c.newResponse(req)
	if !w.setExpect() {
		return false
	}
	if c.ctx == nil {
		// Requests derive from a per-connection context, so that their
		// cancel registrations do not all share the server's.
		c.ctx, c.ctxCancel = context.WithCancel(c.s.baseCtx)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	req = req.WithContext(ctx)
	w.req = req
	c.beginRequest(req, w, cancel)
	c.s.handler.ServeHTTP(w, req)
	if c.endRequest() {
		cancel()
		return false // hijacked
	}
	keep := w.finish()
	cancel()
	if !keep {
		if w.body != nil && !w.body.sawEOF() {
			c.linger()
		}
		return false
	}
	c.state.Store(stateIdle)
	return !c.s.shutting.Load()
}

// beginRequest arms the client-gone watch for req.
func (c *srvConn) beginRequest(req *http.Request, w *h1Response, cancel context.CancelFunc) {
	c.mu.Lock()
	c.reqActive = true
	c.cancel = cancel
	c.bgWanted = false
	c.bodyDone = w.body == nil
	if c.bodyDone {
		c.pipelined = c.br.Buffered() > 0
	}
	c.mu.Unlock()
	if c.bgTimer == nil {
		c.bgTimer = time.AfterFunc(bgReadDelay, c.bgFire)
	} else {
		c.bgTimer.Reset(bgReadDelay)
	}
}

// endRequest stops the client-gone watch after the handler and reports
// whether the handler hijacked the connection.
func (c *srvConn) endRequest() bool {
	c.mu.Lock()
	c.reqActive = false // no background read starts after this
	hijacked := c.hijacked
	c.mu.Unlock()
	c.bgTimer.Stop()
	if !hijacked {
		c.stopBackgroundRead(false)
	}
	c.mu.Lock()
	c.cancel = nil
	c.mu.Unlock()
	return hijacked
}

// stopBackgroundRead aborts a running background read and waits for it.
// With hijack it also marks the connection hijacked, under the same lock,
// so that no new read starts.
func (c *srvConn) stopBackgroundRead(hijack bool) {
	c.mu.Lock()
	if hijack {
		c.hijacked = true
		c.reqActive = false
	}
	running := c.bgRunning
	if running {
		c.bgAborting = true
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	}
	done := c.bgDone
	c.mu.Unlock()
	if !running {
		return
	}
	<-done
	c.mu.Lock()
	c.bgRunning = false
	c.bgAborting = false
	c.mu.Unlock()
	_ = c.nc.SetReadDeadline(time.Time{})
}

// bgFire runs on the timer's goroutine bgReadDelay after a handler
// started.
func (c *srvConn) bgFire() {
	c.mu.Lock()
	if !c.reqActive || c.bgRunning || c.hijacked {
		c.mu.Unlock()
		return
	}
	if !c.bodyDone {
		c.bgWanted = true
		c.mu.Unlock()
		return
	}
	if c.pipelined {
		c.mu.Unlock()
		return
	}
	c.startBGLocked()
	c.mu.Unlock()
	c.backgroundRead()
}

// bodyEOF is called by the request body when it reaches its end.
func (c *srvConn) bodyEOF(pipelined bool) {
	c.mu.Lock()
	c.bodyDone = true
	c.pipelined = pipelined
	start := c.bgWanted && c.reqActive && !c.bgRunning && !c.hijacked && !pipelined
	if start {
		c.startBGLocked()
	}
	c.mu.Unlock()
	if start {
		go c.backgroundRead() // owned: endRequest and Hijack wait for it
	}
}

func (c *srvConn) startBGLocked() {
	c.bgRunning = true
	c.bgDone = make(chan struct{})
}

// backgroundRead reads one byte: a close or error cancels the request; a
// byte (the next pipelined request) is kept for the next read.
func (c *srvConn) backgroundRead() {
	var b [1]byte
	n, err := c.nc.Read(b[:])
	c.mu.Lock()
	if n == 1 {
		c.rd.pending, c.rd.hasPending = b[0], true
	} else if err != nil && !c.bgAborting && c.cancel != nil {
		c.cancel()
	}
	done := c.bgDone
	c.mu.Unlock()
	close(done)
}

// cancelRequest cancels the running request's context, if any.
func (c *srvConn) cancelRequest() {
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
}

// linger half-closes the connection and reads what the client still
// sends for a short while, so that closing does not reset the answer.
func (c *srvConn) linger() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.CopyN(io.Discard, c.nc, maxDiscardBody)
	}
}

// writeError answers a request that could not be read and is followed by
// a close.
func (c *srvConn) writeError(status int, msg string) {
	if msg == "" {
		msg = fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(msg), msg)
	_ = c.bw.Flush()
	c.linger()
}

// isUnsupportedTE reports http.ReadRequest's error for a transfer coding
// other than chunked (an unexported type: matched by name).
func isUnsupportedTE(err error) bool {
	return fmt.Sprintf("%T", err) == "*http.unsupportedTEError"
}

// isCommonReadError: the client went away or was too slow; nothing is
// answered.
func isCommonReadError(err error) bool {
	if err == io.EOF {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "read"
}

// checkRequest applies the checks net/http's server adds to ReadRequest
// (hosts counts the Host lines, which ReadRequest drops); it returns 0 or
// the status refusing req.
func checkRequest(req *http.Request, hosts int) (int, string) {
	if req.ProtoMajor != 1 {
		return http.StatusHTTPVersionNotSupported, ""
	}
	if req.ProtoAtLeast(1, 1) && hosts == 0 && req.Method != http.MethodConnect {
		return http.StatusBadRequest, "400 Bad Request: missing required Host header"
	}
	if hosts > 1 {
		return http.StatusBadRequest, "400 Bad Request: too many Host headers"
	}
	if !validHostHeader(req.Host) {
		return http.StatusBadRequest, "400 Bad Request: malformed Host header"
	}
	for k, vv := range req.Header {
		if !validHeaderName(k) {
			return http.StatusBadRequest, "400 Bad Request: invalid header name"
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return http.StatusBadRequest, "400 Bad Request: invalid header value"
			}
		}
	}
	return 0, ""
}

// validFieldValue: no control characters but tab.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// validHostHeader: the bytes RFC 3986 allows in a host and port.
func validHostHeader(h string) bool {
	for i := 0; i < len(h); i++ {
		b := h[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b >= 0x80: // as net/http: let IDNs through
		default:
			switch b {
			case '!', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', ':', ';', '=', '[', ']', '_', '~':
			default:
				return false
			}
		}
	}
	return true
}

// prefixConn is a connection whose first bytes were already read into r.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// handoffListener feeds connections the loop does not serve (h2, h2c) to
// net/http's server.
type handoffListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{ch: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (l *handoffListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// peekHeader waits until the request line and headers are buffered (so
// http.ReadRequest parses them without further reads) and counts the Host
// lines in them. A header larger than the buffer moves the connection to
// a reader as large as the header limit.
func (c *srvConn) peekHeader() (hosts int, err error) {
	for {
		n := c.br.Buffered()
		b, _ := c.br.Peek(n)
		if end := headerEnd(b); end >= 0 {
			return countHosts(b[:end]), nil
		}
		if n == c.br.Size() {
			if n >= c.s.cfg.MaxHeaderBytes+headerSlack {
				return 0, errRequestHeaderTooLarge
			}
			head := append([]byte(nil), b...)
			old := c.br
			c.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), &c.rd), c.s.cfg.MaxHeaderBytes+headerSlack)
			old.Reset(nil)
			srvReaderPool.Put(old)
			c.bigReader = true
			continue
		}
		if _, err := c.br.Peek(n + 1); err != nil {
			return 0, err
		}
	}
}

// headerEnd returns the index of the empty line ending a header block (LF
// or CRLF line ends), or -1.
func headerEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i
		}
	}
}

// countHosts counts the header lines named Host.
func countHosts(b []byte) int {
	n := 0
	for {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			return n
		}
		b = b[j+1:]
		if len(b) >= 5 && (b[0]|0x20) == 'h' && (b[1]|0x20) == 'o' && (b[2]|0x20) == 's' && (b[3]|0x20) == 't' && b[4] == ':' {
			n++
		}
	}
}
