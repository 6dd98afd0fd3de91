package cached

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/cached/resp"
)

// respServer is the Redis-protocol listener: one goroutine accepts, one
// goroutine per connection reads commands, executes them and writes the
// replies in order, flushing once the reader has no more buffered input, so a
// pipeline of commands is answered with one write. Within a pipeline the
// commands owned by other nodes are sent to each owner in one batch (see
// pipeline). It owns its goroutines:
// close stops the listener, closes every connection and waits for them.
type respServer struct {
	s      *Server
	lis    net.Listener
	nextID atomic.Int64
	start  time.Time

	mu     sync.Mutex // protects conns and closed
	conns  map[*respConn]struct{}
	closed bool

	wg        sync.WaitGroup // connection goroutines
	closeOnce sync.Once
}

func newRESPServer(s *Server, lis net.Listener) *respServer {
	return &respServer{s: s, lis: lis, conns: map[*respConn]struct{}{}, start: time.Now()}
}

// serve accepts connections until close; it returns nil after close and the
// listener's error otherwise.
func (r *respServer) serve() error {
	var delay time.Duration
	for {
		nc, err := r.lis.Accept()
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // e.g. EMFILE surfaces as temporary
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		r.accept(nc)
	}
}

func (r *respServer) accept(nc net.Conn) {
	m := r.s.metrics
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = nc.Close()
		return
	}
	if len(r.conns) >= r.s.cfg.RESPMaxClients {
		m.respRefused.Add(1)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte("-ERR max number of clients reached\r\n"))
		_ = nc.Close()
		return
	}
	m.respTotal.Add(1)
	m.respConns.Add(1)
	c := newRESPConn(r, nc)
	r.conns[c] = struct{}{}
	r.wg.Add(1)
	go c.serve()
}

// close stops accepting, closes every connection and waits for their
// goroutines. Idempotent.
func (r *respServer) close() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		_ = r.lis.Close()
		for c := range r.conns {
			_ = c.nc.Close()
		}
		r.mu.Unlock()
	})
	r.wg.Wait()
}

func (r *respServer) clients() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// respConn is one client connection, owned by its goroutine.
type respConn struct {
	r      *respServer
	nc     net.Conn
	rd     *resp.Reader
	x      execCtx
	pipe   pipeline
	cancel context.CancelFunc
}

func newRESPConn(r *respServer, nc net.Conn) *respConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &respConn{r: r, nc: nc, rd: resp.NewReader(nc), cancel: cancel}
	c.rd.MaxBulk = int64(r.s.cfg.RESPMaxBulk)
	c.x = execCtx{s: r.s, ctx: ctx, w: resp.NewWriter(nc), id: r.nextID.Add(1), addr: nc.RemoteAddr().String()}
	return c
}

func (c *respConn) serve() {
	defer c.r.wg.Done()
	defer func() {
		c.cancel()
		_ = c.nc.Close()
		c.r.mu.Lock()
		delete(c.r.conns, c)
		c.r.mu.Unlock()
		c.r.s.metrics.respConns.Add(-1)
	}()
	s, w := c.r.s, c.x.w
	var n int64
	for {
		args, err := c.rd.ReadCommand()
		if err != nil {
			c.runPipeline()
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				w.Error("ERR " + pe.Msg)
			}
			_ = w.Flush()
			s.metrics.commands.Add(n)
			return
		}
		if c.pipe.empty() && c.rd.Buffered() == 0 {
			s.exec(&c.x, args) // one command at a time: no copies, no queue
		} else {
			c.pipelined(args)
		}
		n++
		if c.x.quit { // QUIT is a barrier: nothing is queued
			_ = w.Flush()
			s.metrics.commands.Add(n)
			return
		}
		if c.rd.Buffered() == 0 {
			c.runPipeline()
			s.metrics.commands.Add(n)
			n = 0
			if w.Flush() != nil {
				return
			}
		}
	}
}
