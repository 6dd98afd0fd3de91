package pgwire

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// conn is one client connection. Its serve goroutine owns every field but
// those under mu; a reader goroutine (started after authentication) frames
// incoming messages into msgs, so a dropped connection cancels the running
// statement and a CancelRequest can reach it.
type conn struct {
	srv    *Server
	raw    net.Conn // the accepted connection; kill closes it from any goroutine
	nc     net.Conn // raw, or the TLS connection over it (serve goroutine only)
	ctx    context.Context
	cancel context.CancelFunc // ends ctx: the connection is going away

	pid     uint32 // BackendKeyData; set by Server.admit
	secret  [4]byte
	counted bool // counted against MaxConns (guarded by srv.mu)
	user    string

	w       *bufio.Writer
	wbuf    []byte
	dataRow pgproto3.DataRow // reused by sendRow
	werr    error            // first write error; the connection is dead after it

	msgs    chan frame // frames from the reader goroutine; closed on read error
	readErr error      // why msgs was closed; read after msgs is drained

	sess           Session
	stmts          map[string]*prepared
	portals        map[string]*portal
	ignoreTillSync bool // extended protocol: an error happened, skip to Sync

	mu         sync.Mutex         // protects the following fields
	stmtCancel context.CancelFunc // cancels the running statement; nil between statements
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{srv: s, raw: nc, nc: nc, ctx: ctx, cancel: cancel, stmts: map[string]*prepared{}, portals: map[string]*portal{}}
	_, _ = rand.Read(c.secret[:])
	return c
}

// kill cancels whatever runs on c and closes its connection (hard stop);
// any goroutine may call it.
func (c *conn) kill() {
	c.cancel()
	_ = c.raw.Close()
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.cancel()
	defer func() { _ = c.nc.Close() }()
	br, ok := c.startup()
	if !ok {
		return
	}
	defer c.sess.Close()
	c.msgs = make(chan frame, 1)
	c.srv.wg.Add(1) // the caller holds a count, so Wait cannot have returned
	go func() {
		defer c.srv.wg.Done()
		c.readLoop(br)
	}()
	c.loop()
}

// readLoop frames messages into c.msgs until the connection fails or the
// client sends Terminate. A failed read (not a protocol error) cancels c.ctx:
// the client is gone, so is the point of the running statement.
func (c *conn) readLoop(br *bufio.Reader) {
	defer close(c.msgs)
	for {
		f, err := readFrame(br, c.srv.cfg.MaxMessageBytes)
		if err != nil {
			c.readErr = err
			var se *sqlerr.Error
			if !errors.As(err, &se) {
				c.cancel()
			}
			return
		}
		select {
		case c.msgs <- f:
		case <-c.ctx.Done():
			c.readErr = c.ctx.Err()
			return
		}
		if f.typ == 'X' {
			return
		}
	}
}

// next returns the next frontend message; ok is false when the connection
// ended: the reader closed msgs (c.readErr says why; it sent the FATAL for a
// protocol error already when idle), or the server is shutting down while
// c is idle (57P01 sent).
func (c *conn) next(idle bool) (frame, bool) {
	select {
	case f, ok := <-c.msgs:
		return c.received(f, ok, idle)
	default:
	}
	if !idle {
		f, ok := <-c.msgs
		return c.received(f, ok, idle)
	}
	select {
	case f, ok := <-c.msgs:
		return c.received(f, ok, idle)
	case <-c.srv.closing:
		c.sendFatal(sqlerr.New(codeAdminShutdown, "terminating connection due to administrator command"))
		return frame{}, false
	}
}

// received reports a protocol error of the reader (msgs closed) as FATAL
// when c is idle; in COPY the caller reports it.
func (c *conn) received(f frame, ok, idle bool) (frame, bool) {
	if !ok && idle {
		var se *sqlerr.Error
		if errors.As(c.readErr, &se) {
			c.sendFatal(se)
		}
	}
	return f, ok
}

// loop dispatches messages until the connection ends. Output is flushed on
// ReadyForQuery, Flush, CopyInResponse and a full buffer only, as
// PostgreSQL does.
func (c *conn) loop() {
	for {
		f, ok := c.next(true)
		if !ok {
			return
		}
		if !c.dispatch(f) {
			return
		}
		if c.werr != nil {
			return
		}
	}
}

// dispatch handles one message; false ends the connection.
func (c *conn) dispatch(f frame) bool {
	switch f.typ {
	case 'X':
		return false
	case 'S':
		c.ignoreTillSync = false
		c.sync()
		return c.werr == nil
	case 'd', 'c', 'f':
		// Stray COPY data after a failed COPY: dropped, as PostgreSQL does.
		return true
	}
	if c.ignoreTillSync {
		return true
	}
	var err error
	switch f.typ {
	case 'Q':
		err = c.simpleQuery(f)
	case 'P':
		err = c.parse(f)
	case 'B':
		err = c.bind(f)
	case 'D':
		err = c.describe(f)
	case 'E':
		err = c.execute(f)
	case 'C':
		err = c.closeMsg(f)
	case 'H':
		c.flush()
		return c.werr == nil
	case 'F':
		err = sqlerr.New(sqlerr.FeatureNotSupported, "the function call protocol message is not supported")
	default:
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid frontend message type %d", f.typ))
		return false
	}
	if err != nil {
		var fatal *fatalError
		if errors.As(err, &fatal) {
			c.sendFatal(fatal.err)
			return false
		}
		c.sendError(err)
		if f.typ != 'Q' {
			c.ignoreTillSync = true
		}
	}
	return true
}

// fatalError ends the connection with a FATAL ErrorResponse.
type fatalError struct{ err *sqlerr.Error }

func (e *fatalError) Error() string { return e.err.Error() }

func fatal(code, format string, args ...any) error {
	return &fatalError{sqlerr.New(code, format, args...)}
}

// decode decodes f's body into msg; a malformed body is fatal (08P01).
func decode(f frame, msg pgproto3.FrontendMessage) error {
	if err := msg.Decode(f.body); err != nil {
		return fatal(sqlerr.ProtocolViolation, "invalid %q message: %v", f.typ, err)
	}
	return nil
}

// send buffers msg for the client.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.werr != nil {
		return
	}
	var err error
	c.wbuf, err = msg.Encode(c.wbuf[:0])
	if err != nil {
		c.werr = fmt.Errorf("pgwire: encode %T: %w", msg, err)
		return
	}
	if _, err := c.w.Write(c.wbuf); err != nil {
		c.werr = err
	}
	if cap(c.wbuf) > 1<<20 {
		c.wbuf = nil
	}
}

// flush writes the buffered messages.
func (c *conn) flush() {
	if c.werr != nil {
		return
	}
	if err := c.w.Flush(); err != nil {
		c.werr = err
	}
}

// sync answers Sync (and ends a simple query): ReadyForQuery, flushed. An
// idle session has no open transaction, so its portals are dropped.
func (c *conn) sync() {
	st := c.sess.TxStatus()
	if st == 'I' {
		clear(c.portals)
	}
	c.send(&pgproto3.ReadyForQuery{TxStatus: st})
	c.flush()
}

// sendError sends err as an ErrorResponse (severity ERROR).
func (c *conn) sendError(err error) {
	c.send(errorResponse(c.classify(err), "ERROR"))
}

// sendFatal sends a FATAL ErrorResponse and flushes; the caller closes.
func (c *conn) sendFatal(e *sqlerr.Error) {
	c.srv.log.Debug("pgwire: closing connection", "code", e.Code, "err", e.Message, "remote", c.raw.RemoteAddr())
	c.send(errorResponse(e, "FATAL"))
	c.flush()
}

// classify turns err into the *sqlerr.Error the client sees: context
// errors from a cancelled statement become 57014.
func (c *conn) classify(err error) *sqlerr.Error {
	var se *sqlerr.Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sqlerr.Wrap(sqlerr.QueryCanceled, err, "canceling statement due to user request")
	}
	return sqlerr.As(err)
}

func errorResponse(e *sqlerr.Error, severity string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                e.Code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Position:            e.Position,
	}
}

// stmtContext returns the context of one statement: cancelled by a
// CancelRequest, by the connection ending, and by done.
func (c *conn) stmtContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	c.stmtCancel = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.stmtCancel = nil
		c.mu.Unlock()
		cancel()
	}
}

// cancelStatement cancels the running statement, if any (CancelRequest).
func (c *conn) cancelStatement() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmtCancel != nil {
		c.stmtCancel()
	}
}

// reportParams sends the ParameterStatus changes the session reports.
func (c *conn) reportParams() {
	if pr, ok := c.sess.(ParamReporter); ok {
		for k, v := range pr.ReportParams() {
			c.send(&pgproto3.ParameterStatus{Name: k, Value: v})
		}
	}
}
