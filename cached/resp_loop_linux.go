//go:build linux

package cached

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"cairn.dev/cairn/cached/resp"
)

const (
	defaultRESPIO     = respIOLoop
	respLoopSupported = true
)

const (
	// loopOutMax is how many bytes of replies a connection may have
	// waiting before its loop stops running its commands (and reading its
	// input) until the client has read some.
	loopOutMax = 256 << 10
	// loopOutKeep is the largest reply buffer kept once it is empty.
	loopOutKeep = 64 << 10
	// loopEvents is the most events one epoll_wait returns.
	loopEvents = 256
	// loopYield is how often a busy loop goroutine yields to the scheduler.
	// A goroutine that only ever blocks in system calls looks stuck to the
	// runtime after 10ms (forcePreemptNS), which then preempts it, takes its
	// P away and polls every 20µs for a while (sysmon); yielding a little
	// more often than that avoids it.
	loopYield = 5 * time.Millisecond
	// A connection's score is a decaying count of its rounds that needed a
	// worker: every round takes 1/8 off and one that needed a worker adds
	// loopScoreStep, so it tends to 8*loopScoreStep times the share of such
	// rounds. At loopMoveScore (about half of its recent rounds) the
	// connection leaves the loop for a goroutine of its own.
	loopScoreStep = 32
	loopMoveScore = 128
)

// respLoop is one event loop of the RESP listener (resp_io loop). It owns an
// epoll instance and the sockets of its connections, taken off Go's
// netpoller when they are accepted (see adopt), each registered
// edge-triggered for input and output.
//
// A round: wait for events; for each ready connection read once what the
// socket holds, parse the complete commands in the buffer and run those that
// need no other node (Server.execNoWait), appending the replies to the
// connection's buffer; then write every connection's replies. A write the
// socket does not take whole waits for EPOLLOUT; a connection whose unwritten
// replies exceed loopOutMax is not read until they drain. This is how
// redis-server serves clients, and it makes a one-node cached as cheap for
// the client as redis is: one read and one write per request, no hand-off
// between threads.
//
// A command that must wait for another node (a key another node owns, a
// multi-key command over several owners, FLUSHALL, a write with replicas)
// would stall every connection of the loop. The loop hands the connection
// to a worker goroutine instead: the worker runs that command and the rest
// of the buffered input the way a connection goroutine does (a pipeline's
// commands for other nodes go out in one batch per owner, see pipeline),
// writes the replies, and hands the connection back. Meanwhile the loop
// neither reads nor writes it, so replies stay in request order. A hand-off
// costs two thread wake-ups, which a connection whose commands mostly go to
// other nodes (a client of one node of several, unaware of the ring) would
// pay on most requests: once about half of its recent rounds needed a worker,
// the loop gives the connection up to a goroutine of its own, as in
// resp_io goroutine (see move).
//
// The loop goroutine owns conns and every loopConn field marked so; a
// worker owns its connection's command state until it hands it back through
// resumed, under mu. Workers and the loop goroutine belong to the
// respServer's WaitGroup. Stopping (stop) closes every connection once its
// worker, if any, is done; the last thing the loop does is close its epoll
// and eventfd descriptors.
type respLoop struct {
	r    *respServer
	epfd int
	wake int // eventfd: adopt, resume and stop wake the loop through it

	// mu protects the following fields. Lock order: respServer.mu, then mu.
	mu       sync.Mutex
	incoming []*loopConn // adopted, to register
	resumed  []*loopConn // handed back by their workers
	stopping bool
	woken    bool // wake was written and the loop has not looked yet
	released bool // the descriptors are closed

	// Owned by the loop goroutine.
	conns    map[int32]*loopConn // by socket
	busy     int                 // connections with a worker
	round    uint64
	ready    []*loopConn    // connections to serve this round
	again    []*loopConn    // connections with input left for the next round
	spare    [2][]*loopConn // swapped with incoming and resumed
	cmds     int64          // commands run this round
	quitting bool
}

// loopConn is one connection of a respLoop.
type loopConn struct {
	respConn
	l  *respLoop
	fd int

	// Owned by the loop, or by the worker while busy.
	out     []byte // replies not yet written are out[off:], then x.w's buffer
	off     int
	closing bool  // close once the replies are written (QUIT, protocol error, end of input)
	werr    error // the worker's write failed

	// Owned by the loop goroutine.
	busy     bool   // a worker serves the connection
	readable bool   // an input edge was seen and the socket not read empty since
	writable bool   // the socket took the last write whole
	hup      bool   // the client shut down its side: read until EOF
	eof      bool   // read returned EOF
	backlog  bool   // commands were left unrun, the replies being over loopOutMax
	dead     bool   // closed, or moved to a goroutine
	round    uint64 // the round the connection was last queued in
	score    int    // how many of its recent rounds needed a worker (see loopMoveScore)
}

// newRESPLoop creates a loop's epoll and eventfd descriptors; run serves.
func newRESPLoop(r *respServer) (*respLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("cached: resp event loop: epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("cached: resp event loop: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		_ = unix.Close(wake)
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("cached: resp event loop: epoll_ctl: %w", err)
	}
	return &respLoop{r: r, epfd: epfd, wake: wake, conns: map[int32]*loopConn{}}, nil
}

// adopt takes nc's socket off Go's netpoller and gives it to the loop,
// which starts serving it at its next round. nc is closed either way.
// Called by the accepting goroutine with r.mu held.
func (l *respLoop) adopt(nc net.Conn) (*respConn, error) {
	addr := nc.RemoteAddr().String()
	fd, err := detach(nc)
	if err != nil {
		return nil, err
	}
	c := &loopConn{l: l, fd: fd}
	l.r.initConn(&c.respConn, resp.NewBufferReader(), c, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released { // the loop failed and is gone
		_ = unix.Close(fd)
		return nil, errors.New("cached: resp event loop stopped")
	}
	l.incoming = append(l.incoming, c)
	l.wakeLocked()
	return &c.respConn, nil
}

// detach returns a non-blocking duplicate of nc's socket and closes nc,
// which removes nc's descriptor from Go's netpoller; the socket stays open
// through the duplicate.
func detach(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		_ = nc.Close()
		return -1, fmt.Errorf("cached: %T has no socket", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		_ = nc.Close()
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		derr = err
	}
	if err := nc.Close(); err != nil && derr == nil {
		derr = err
	}
	if derr == nil {
		derr = unix.SetNonblock(fd, true)
	}
	if derr != nil {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		return -1, derr
	}
	return fd, nil
}

// stop makes the loop close its connections and return once their workers
// are done.
func (l *respLoop) stop() {
	l.mu.Lock()
	l.stopping = true
	l.wakeLocked()
	l.mu.Unlock()
}

// wakeLocked makes the loop's epoll_wait return. l.mu must be held.
func (l *respLoop) wakeLocked() {
	if l.woken || l.released {
		return
	}
	l.woken = true
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(l.wake, one[:])
}

// release closes the loop's descriptors and any connection it was given but
// never served. It is called by the loop goroutine as it returns, or by
// respServer.close when the loop never ran.
func (l *respLoop) release() {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return
	}
	l.released = true
	_ = unix.Close(l.wake)
	_ = unix.Close(l.epfd)
	orphans := l.incoming
	l.incoming = nil
	l.mu.Unlock()
	for _, c := range orphans {
		_ = unix.Close(c.fd)
		l.r.connClosed(&c.respConn)
	}
}

// run is the loop goroutine.
func (l *respLoop) run() {
	defer l.r.wg.Done()
	defer l.release()
	events := make([]unix.EpollEvent, loopEvents)
	yielded := time.Now()
	var lastEvent time.Time
	for {
		now := time.Now()
		if now.Sub(yielded) >= loopYield {
			runtime.Gosched()
			yielded = now
		}
		timeout := -1 // the loop goroutine holds a thread while it waits
		if len(l.again) > 0 || now.Sub(lastEvent) < l.r.s.cfg.RESPLoopSpin {
			timeout = 0
		}
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if n > 0 {
			lastEvent = time.Now()
		}
		if err != nil && err != unix.EINTR && !l.quitting {
			l.r.s.logger.Error("resp: event loop failed; closing its connections", "err", err)
			l.quitting = true
		}
		l.round++
		l.ready = l.ready[:0]
		for _, c := range l.again {
			l.queue(c)
		}
		l.again = l.again[:0]
		for _, ev := range events[:max(n, 0)] {
			if ev.Fd == int32(l.wake) {
				l.woke()
				continue
			}
			c := l.conns[ev.Fd]
			if c == nil {
				continue
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				c.readable = true
			}
			if ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				c.hup = true
			}
			if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				c.writable = true
			}
			l.queue(c)
		}
		if l.quitting {
			for _, c := range l.conns {
				if c.busy {
					c.cancel() // its calls to other nodes end
				} else {
					l.closeConn(c)
				}
			}
			if l.busy == 0 {
				return
			}
			continue
		}
		for _, c := range l.ready {
			l.serve(c)
		}
		if l.cmds > 0 { // counted before the replies go out
			l.r.s.metrics.commands.Add(l.cmds)
			l.cmds = 0
		}
		for _, c := range l.ready {
			l.flush(c)
		}
	}
}

// queue adds c to this round's ready connections, once.
func (l *respLoop) queue(c *loopConn) {
	if c.round != l.round {
		c.round = l.round
		l.ready = append(l.ready, c)
	}
}

// woke takes what adopt, resume and stop left for the loop.
func (l *respLoop) woke() {
	var buf [8]byte
	_, _ = unix.Read(l.wake, buf[:])
	l.mu.Lock()
	l.woken = false
	incoming, resumed := l.incoming, l.resumed
	l.incoming, l.resumed = l.spare[0][:0], l.spare[1][:0]
	l.spare[0], l.spare[1] = incoming, resumed
	if l.stopping {
		l.quitting = true
	}
	l.mu.Unlock()
	for _, c := range incoming {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			l.r.s.logger.Warn("resp: epoll_ctl failed; closing the connection", "remote", c.x.addr, "err", err)
			l.closeConn(c)
			continue
		}
		l.conns[int32(c.fd)] = c
		c.readable, c.writable = true, true
		l.queue(c)
	}
	for _, c := range resumed {
		c.busy = false
		l.busy--
		switch {
		case c.werr != nil:
			l.closeConn(c)
		case c.score >= loopMoveScore && !c.closing && !l.quitting && !l.r.s.cfg.respStay:
			l.move(c)
		default:
			l.queue(c)
		}
	}
	clear(incoming)
	clear(resumed)
}

// serve reads c once, if it may have input and its replies are not backed
// up, and runs the commands buffered (see runBuffered).
func (l *respLoop) serve(c *loopConn) {
	if c.busy || c.dead || c.closing {
		return
	}
	if c.readable && !c.eof && c.outLen() < loopOutMax {
		_, full, err := c.rd.Fill(c)
		switch {
		case err == nil:
			c.readable = full || c.hup // after a shutdown, read on to the EOF
		case err == io.EOF:
			c.readable, c.eof = false, true
		case err == unix.EAGAIN:
			c.readable = false
		default:
			l.closeConn(c)
			return
		}
	}
	if l.runBuffered(c) && !c.busy {
		c.score -= c.score / 8
	}
}

// runBuffered runs the complete commands in c's buffer until a command needs
// a worker (handed off: c is busy) or the replies exceed loopOutMax; it
// reports whether it ran any.
func (l *respLoop) runBuffered(c *loopConn) (ran bool) {
	s := l.r.s
	c.backlog = false
	for {
		if c.outLen() >= loopOutMax {
			c.backlog = true
			return ran
		}
		args, err := c.rd.ReadCommand()
		if err == resp.ErrIncomplete {
			c.closing = c.eof // a partial command at the end is dropped
			return ran
		}
		if c.refused(err) {
			ran = true
			continue
		}
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.x.w.Error("ERR " + pe.Msg)
			}
			c.closing = true
			return ran
		}
		ran = true
		if !s.execNoWait(&c.x, args) {
			c.score += loopScoreStep - c.score/8
			l.handoff(c, args)
			return ran
		}
		l.cmds++
		if c.x.quit {
			c.closing = true
			return ran
		}
	}
}

// flush writes c's replies, closes c when it is done, and keeps c for the
// next round when input is left.
func (l *respLoop) flush(c *loopConn) {
	if c.busy || c.dead {
		return
	}
	if c.writable {
		done, err := c.writeOut()
		if err != nil {
			l.closeConn(c)
			return
		}
		c.writable = done
	}
	if c.closing {
		if c.outLen() == 0 {
			l.closeConn(c)
		}
		return
	}
	if (c.readable && !c.eof || c.backlog) && c.outLen() < loopOutMax {
		l.again = append(l.again, c)
	}
}

// handoff gives c to a worker goroutine that runs args, then the rest of
// c's buffered commands, writes the replies and hands c back.
func (l *respLoop) handoff(c *loopConn, args [][]byte) {
	c.busy = true
	l.busy++
	l.r.wg.Add(1) // the loop goroutine holds the WaitGroup above zero
	go func() {
		defer l.r.wg.Done()
		c.work(args)
		l.mu.Lock()
		l.resumed = append(l.resumed, c)
		l.wakeLocked()
		l.mu.Unlock()
	}()
}

// work runs args and the commands after it in c's buffer as a connection
// goroutine does (see respConn.serve), until the buffer holds no complete
// command, QUIT, a protocol error, or the replies exceed loopOutMax with
// nothing queued; then it writes what the socket takes.
func (c *loopConn) work(args [][]byte) {
	s := c.r.s
	var n int64
	for {
		if c.pipe.empty() && c.rd.Buffered() == 0 {
			s.exec(&c.x, args)
		} else {
			c.pipelined(args)
		}
		n++
		if c.x.quit { // a barrier: nothing is queued
			c.closing = true
			break
		}
		if c.pipe.empty() && c.outLen() >= loopOutMax {
			break
		}
		var err error
		args, err = c.rd.ReadCommand()
		for c.refused(err) {
			args, err = c.rd.ReadCommand()
		}
		if err != nil {
			c.runPipeline()
			if err != resp.ErrIncomplete {
				var pe *resp.ProtocolError
				if errors.As(err, &pe) {
					c.x.w.Error("ERR " + pe.Msg)
				}
				c.closing = true
			}
			break
		}
	}
	s.metrics.commands.Add(n)
	if _, err := c.writeOut(); err != nil {
		c.werr = err
	}
}

// move gives c, which must not be busy, to a goroutine of its own that
// serves it as in resp_io goroutine, through Go's netpoller.
func (l *respLoop) move(c *loopConn) {
	// The socket leaves this epoll before the duplicate FileConn makes
	// keeps it open past closing c.fd.
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, &unix.EpollEvent{})
	delete(l.conns, int32(c.fd))
	c.dead = true
	f := os.NewFile(uintptr(c.fd), "resp")
	nc, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		l.r.s.logger.Warn("resp: cannot move a connection off the event loop", "remote", c.x.addr, "err", err)
		l.r.connClosed(&c.respConn)
		return
	}
	r := l.r
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = nc.Close()
		r.connClosed(&c.respConn)
		return
	}
	c.nc = nc // under r.mu: close closes it
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		// The replies not yet written go first; then the connection is
		// served as any in resp_io goroutine, from the input buffered.
		_ = c.x.w.Flush() // into out
		if c.off < len(c.out) {
			_, _ = nc.Write(c.out[c.off:]) // on failure the next read or write fails too
		}
		c.out, c.off = nil, 0
		c.x.w.Reset(nc)
		c.rd.Attach(nc)
		c.serve()
	}()
}

// closeConn closes c's socket. c must not be busy.
func (l *respLoop) closeConn(c *loopConn) {
	if c.dead {
		return
	}
	c.dead = true
	delete(l.conns, int32(c.fd))
	_ = unix.Close(c.fd)
	l.r.connClosed(&c.respConn)
}

// Write appends p to the replies: it is the io.Writer of c.x.w.
func (c *loopConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	return len(p), nil
}

// Read reads from the socket without waiting: it is what c.rd is filled
// from. It returns io.EOF when the client shut down its side, and
// unix.EAGAIN when there is nothing to read.
func (c *loopConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// outLen is the number of reply bytes not yet written.
func (c *loopConn) outLen() int { return len(c.out) - c.off + c.x.w.Buffered() }

// writeOut writes the replies until they are all written (done) or the
// socket takes no more; err is an error other than EAGAIN.
func (c *loopConn) writeOut() (done bool, err error) {
	if c.x.w.Buffered() > 0 {
		_ = c.x.w.Flush() // into out; Write never fails
	}
	for c.off < len(c.out) {
		n, err := unix.Write(c.fd, c.out[c.off:])
		if n > 0 {
			c.off += n
		}
		switch {
		case err == unix.EAGAIN:
			return false, nil
		case err == unix.EINTR:
		case err != nil:
			return false, err
		}
	}
	c.off = 0
	if cap(c.out) > loopOutKeep {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return true, nil
}
