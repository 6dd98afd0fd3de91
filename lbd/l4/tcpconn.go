package l4

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// handle serves one accepted client connection: it connects to a backend and
// relays both ways until both directions end or the connection is cut.
func (p *TCPProxy) handle(client net.Conn) {
	defer client.Close()
	cliAddr := addrPortOf(client.RemoteAddr())
	backend, lease, connectTime := p.connect(client, cliAddr)
	if backend == nil {
		p.stats.failed.Add(1)
		return
	}
	defer backend.Close()

	pc := &tcpConn{p: p, client: client, backend: backend}
	failed := pc.relay(lease)
	lease.Done(failed, connectTime)
}

// connect picks backends and dials them until one accepts (and took the PROXY
// header), up to ConnectAttempts different backends. It returns nil when none
// could be reached; every failed lease is Done by then.
func (p *TCPProxy) connect(client net.Conn, cliAddr netip.AddrPort) (net.Conn, Lease, time.Duration) {
	var tried []string
	for attempt := 0; attempt < p.cfg.ConnectAttempts; attempt++ {
		lease, err := p.cfg.Balancer.Pick(cliAddr, tried)
		if err != nil {
			p.log.Warn("l4: no backend", "client", cliAddr.String(), "tried", tried, "err", err)
			return nil, nil, 0
		}
		start := time.Now()
		conn, err := p.dial(lease.Addr(), client)
		d := time.Since(start)
		if err == nil {
			return conn, lease, d
		}
		lease.Done(true, d)
		tried = append(tried, lease.Name())
		if p.cutCtx.Err() != nil {
			return nil, nil, 0
		}
		p.log.Warn("l4: connect failed", "client", cliAddr.String(), "backend", lease.Name(), "addr", lease.Addr(), "err", err)
	}
	return nil, nil, 0
}

// dial connects to addr and sends the PROXY header for client, within
// ConnectTimeout; it aborts when the proxy cuts connections.
func (p *TCPProxy) dial(addr string, client net.Conn) (net.Conn, error) {
	conn, err := p.dialer.DialContext(p.cutCtx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if p.cfg.ProxyProtocol == 0 {
		return conn, nil
	}
	conn.SetWriteDeadline(time.Now().Add(p.cfg.ConnectTimeout))
	if err := WriteProxyHeader(conn, p.cfg.ProxyProtocol, client.RemoteAddr(), client.LocalAddr()); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

// tcpConn is one proxied connection: the client side, the backend side and
// the shared activity clock of its two copy directions.
type tcpConn struct {
	p       *TCPProxy
	client  net.Conn
	backend net.Conn
	lastIO  atomic.Int64 // unix nanoseconds of the last bytes seen moving, either way
	cutting atomic.Bool  // the watcher is closing both sides: copy errors are expected
}

// direction is one copier's result.
type direction struct {
	toBackend bool
	n         int64 // bytes moved
	err       error // nil: the source ended with EOF
}

// relay runs the two copiers and watches for the end, Expired, the proxy's cut
// and the idle timeout. It returns whether the backend reset the connection
// before sending any byte back.
func (c *tcpConn) relay(lease Lease) (failed bool) {
	p := c.p
	c.lastIO.Store(time.Now().UnixNano())
	period := statsPeriod
	if idle := p.cfg.IdleTimeout; idle > 0 {
		period = min(period, max(idle/4, time.Millisecond))
	}
	results := make(chan direction, 2)
	p.conns.Go(func() { results <- c.copy(c.backend, c.client, true, period) })
	p.conns.Go(func() { results <- c.copy(c.client, c.backend, false, period) })

	var idleT *time.Timer
	if idle := p.cfg.IdleTimeout; idle > 0 {
		idleT = time.NewTimer(idle)
		defer idleT.Stop()
	}
	return c.watch(lease, results, idleT)
}

// watch waits for both directions, cutting the connection when it must.
func (c *tcpConn) watch(lease Lease, results chan direction, idleT *time.Timer) (failed bool) {
	p := c.p
	var idleC <-chan time.Time
	if idleT != nil {
		idleC = idleT.C
	}
	pending := 2
	for pending > 0 {
		select {
		case r := <-results:
			pending--
			if !r.toBackend && r.n == 0 && errors.Is(r.err, syscall.ECONNRESET) && !c.cutting.Load() {
				failed = true
			}
			switch {
			case r.err != nil:
				// A reset or a broken side: nothing more can flow either way.
				if !c.cutting.Load() {
					p.log.Debug("l4: connection broken", "backend", lease.Name(), "err", r.err)
				}
				c.cut()
			case pending > 0:
				// One side finished sending: pass the end on, keep the other way open.
				dst := c.client
				if r.toBackend {
					dst = c.backend
				}
				if cw, ok := dst.(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
					c.cut()
				}
			}
		case <-lease.Expired():
			p.log.Info("l4: backend lease expired, cutting connection", "backend", lease.Name())
			c.cut()
		case <-p.cutCtx.Done():
			c.cut()
		case <-idleC:
			idle := p.cfg.IdleTimeout
			since := time.Since(time.Unix(0, c.lastIO.Load()))
			if since >= idle {
				p.log.Debug("l4: idle timeout, cutting connection", "backend", lease.Name(), "idle", since)
				c.cut()
			} else {
				idleT.Reset(idle - since)
			}
		}
	}
	return failed
}

// cut closes both sides, which ends both copiers.
func (c *tcpConn) cut() {
	if c.cutting.Swap(true) {
		return
	}
	c.client.Close()
	c.backend.Close()
}

// copy moves bytes from src to dst until src ends or fails. Between
// *net.TCPConn on Linux io.Copy splices (no copy through user space). A read
// deadline every period makes the copy return so that the bytes it moved are
// counted and the connection's activity clock advances; a timed-out read has
// moved nothing, so the copy simply resumes.
func (c *tcpConn) copy(dst, src net.Conn, toBackend bool, period time.Duration) direction {
	counter := &c.p.stats.bytesOut
	if toBackend {
		counter = &c.p.stats.bytesIn
	}
	var total int64
	for {
		src.SetReadDeadline(time.Now().Add(period))
		n, err := io.Copy(dst, src)
		if n > 0 {
			total += n
			counter.Add(uint64(n))
			c.lastIO.Store(time.Now().UnixNano())
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !c.cutting.Load() {
			continue
		}
		return direction{toBackend: toBackend, n: total, err: err}
	}
}
