package cached

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/cached/resp"
)

// respServer is the Redis-protocol listener. One goroutine accepts; the
// connections are served in one of two ways (Config.RESPIO):
//
//   - "loop": event loops (respLoop, Linux) own the connections' sockets.
//     Each reads every ready connection, runs the commands that need no other
//     node inline and writes all the replies, like redis-server; a command
//     that must wait for another node moves the connection to a goroutine
//     until its replies are written (see respLoop).
//   - "goroutine": one goroutine per connection reads commands, executes
//     them and writes the replies in order, flushing once the reader has no
//     more complete command buffered, so a pipeline of commands is answered
//     with one write.
//
// Either way, within a pipeline the commands owned by other nodes are sent to
// each owner in one batch (see pipeline). It owns its goroutines: close stops
// the listener, closes every connection and waits for them.
type respServer struct {
	s      *Server
	lis    net.Listener
	nextID atomic.Int64
	start  time.Time
	loops  []*respLoop // resp_io loop; nil: one goroutine per connection

	mu      sync.Mutex // protects conns, closed, running and next
	conns   map[*respConn]struct{}
	closed  bool
	running bool // the loops' goroutines were started
	next    int  // the loop the next connection goes to

	wg        sync.WaitGroup // loop, connection and worker goroutines
	closeOnce sync.Once
}

// newRESPServer returns the listener's server; with resp_io loop it creates
// the event loops, which run once serve is called.
func newRESPServer(s *Server, lis net.Listener) (*respServer, error) {
	r := &respServer{s: s, lis: lis, conns: map[*respConn]struct{}{}, start: time.Now()}
	if s.cfg.RESPIO == respIOLoop {
		for range s.cfg.RESPLoops {
			l, err := newRESPLoop(r)
			if err != nil {
				for _, l := range r.loops {
					l.release()
				}
				return nil, err
			}
			r.loops = append(r.loops, l)
		}
	}
	return r, nil
}

// serve starts the event loops, if any, and accepts connections until
// close; it returns nil after close and the listener's error otherwise.
func (r *respServer) serve() error {
	r.mu.Lock()
	if !r.closed && !r.running {
		r.running = true
		for _, l := range r.loops {
			r.wg.Add(1)
			go l.run()
		}
	}
	r.mu.Unlock()
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
	if r.loops != nil {
		l := r.loops[r.next]
		r.next = (r.next + 1) % len(r.loops)
		c, err := l.adopt(nc)
		if err != nil {
			r.s.logger.Warn("resp: cannot move a connection to the event loop", "remote", nc.RemoteAddr().String(), "err", err)
			_ = nc.Close()
			return
		}
		m.respTotal.Add(1)
		m.respConns.Add(1)
		r.conns[c] = struct{}{}
		return
	}
	m.respTotal.Add(1)
	m.respConns.Add(1)
	c := &respConn{nc: nc}
	r.initConn(c, resp.NewReader(nc), nc, nc.RemoteAddr().String())
	r.conns[c] = struct{}{}
	r.wg.Add(1)
	go c.serve()
}

// connClosed removes c, whose socket is closed, from the open connections
// and cancels its context.
func (r *respServer) connClosed(c *respConn) {
	c.cancel()
	r.mu.Lock()
	delete(r.conns, c)
	r.s.metrics.respConns.Add(-1) // under mu, so the gauge never runs ahead of conns
	r.mu.Unlock()
}

// close stops accepting, closes every connection and waits for the
// goroutines. Idempotent.
func (r *respServer) close() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		_ = r.lis.Close()
		for c := range r.conns {
			c.cancel() // calls to other nodes end
			if c.nc != nil {
				_ = c.nc.Close()
			}
		}
		running := r.running
		r.mu.Unlock()
		for _, l := range r.loops {
			if running {
				l.stop()
			} else {
				l.release()
			}
		}
	})
	r.wg.Wait()
}

func (r *respServer) clients() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// respConn is one client connection: its parser, its command state and its
// pipeline. In goroutine mode it is owned by its goroutine; in loop mode it
// is part of a loopConn.
type respConn struct {
	r      *respServer
	nc     net.Conn // goroutine mode only
	rd     *resp.Reader
	x      execCtx
	pipe   pipeline
	cancel context.CancelFunc
}

// initConn sets c up to read commands with rd and write replies to w.
func (r *respServer) initConn(c *respConn, rd *resp.Reader, w io.Writer, addr string) {
	ctx, cancel := context.WithCancel(context.Background())
	c.r, c.rd, c.cancel = r, rd, cancel
	c.rd.MaxBulk, c.rd.MaxBulkName = int64(r.s.cfg.RESPMaxBulk), "resp_max_bulk"
	c.rd.MaxDiscard, c.rd.MaxDiscardName = int64(r.s.cfg.RESPMaxDiscard), "resp_max_discard"
	c.x = execCtx{s: r.s, ctx: ctx, w: resp.NewWriter(w), id: r.nextID.Add(1), addr: addr, noauth: r.s.cfg.RESPPassword != "",
		clusterAware: r.s.cfg.RESPClusterRedirect == redirectAlways}
}

// refused reports whether err refuses one command that the Reader dropped (an
// argument over resp_max_bulk); if so it runs the commands queued before it
// and queues its error reply after theirs. The connection goes on.
func (c *respConn) refused(err error) bool {
	var tl *resp.TooLargeError
	if !errors.As(err, &tl) {
		return false
	}
	c.runPipeline()
	c.x.queueFailed() // inside MULTI, the refused command fails the transaction
	c.x.w.Error("ERR " + tl.Msg)
	return true
}

// serve is the goroutine of a connection in goroutine mode. It waits for a
// command, runs it and every complete command buffered after it, then
// writes their replies at once.
func (c *respConn) serve() {
	defer c.r.wg.Done()
	defer func() {
		_ = c.nc.Close()
		c.r.connClosed(c)
	}()
	s, w := c.r.s, c.x.w
	var n int64
	args, err := c.rd.ReadCommand()
	for {
		if err == resp.ErrIncomplete { // all that was buffered has run
			c.runPipeline()
			s.metrics.commands.Add(n)
			n = 0
			if w.Flush() != nil {
				return
			}
			args, err = c.rd.ReadCommand()
			continue
		}
		if c.refused(err) {
			args, err = c.rd.ReadBufferedCommand()
			continue
		}
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
		args, err = c.rd.ReadBufferedCommand()
	}
}
