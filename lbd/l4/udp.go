package l4

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// UDPConfig configures a UDPProxy. The zero value of each optional field takes
// the default documented beside it.
type UDPConfig struct {
	Name           string        // the frontend's name, for logs and stats
	Balancer       Balancer      // required; one pick per client address (session affinity)
	SessionTimeout time.Duration // a session idle both ways this long ends; default 30s
	MaxSessions    int           // default 10000; datagrams of further clients are dropped (counted)
	MaxDatagram    int           // largest datagram relayed, 1..65535; default 65535; larger ones are dropped (counted)
	Logger         *slog.Logger  // nil: discard
}

// Defaults and limits of UDPConfig.
const (
	DefaultSessionTimeout = 30 * time.Second
	DefaultMaxSessions    = 10000
	MaxDatagramLimit      = 65535
)

func (c UDPConfig) withDefaults() (UDPConfig, error) {
	switch {
	case c.Balancer == nil:
		return c, fmt.Errorf("%w: UDPConfig.Balancer is nil", ErrConfig)
	case c.SessionTimeout < 0:
		return c, fmt.Errorf("%w: UDPConfig.SessionTimeout is %v, want ≥ 0 (0 = %v)", ErrConfig, c.SessionTimeout, DefaultSessionTimeout)
	case c.MaxSessions < 0:
		return c, fmt.Errorf("%w: UDPConfig.MaxSessions is %d, want ≥ 0 (0 = %d)", ErrConfig, c.MaxSessions, DefaultMaxSessions)
	case c.MaxDatagram < 0 || c.MaxDatagram > MaxDatagramLimit:
		return c, fmt.Errorf("%w: UDPConfig.MaxDatagram is %d, want 0..%d (0 = %d)", ErrConfig, c.MaxDatagram, MaxDatagramLimit, MaxDatagramLimit)
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxDatagram == 0 {
		c.MaxDatagram = MaxDatagramLimit
	}
	c.Logger = orDiscard(c.Logger).With("frontend", c.Name)
	return c, nil
}

// udpConnectAttempts bounds the backends tried when opening a session; a UDP
// "connect" fails only locally (no route, no address), so this is rarely used.
const udpConnectAttempts = 3

// UDPProxy forwards datagrams from clients to backends. Each client address
// gets a session: one Balancer pick and a UDP socket connected to that backend,
// whose replies go back to the client from the proxy's address. A session ends
// when idle both ways for SessionTimeout, when its lease expires, or on Close.
// Its methods are safe for concurrent use; every goroutine it starts (one
// reader per session, one watcher per session whose lease can expire) ends
// before Close returns.
type UDPProxy struct {
	cfg     UDPConfig
	log     *slog.Logger
	bufSize int       // MaxDatagram+1, so that an oversize datagram shows
	bufs    sync.Pool // *[]byte of bufSize for session readers

	closing chan struct{} // closed when Close begins

	mu       sync.Mutex                  // protects closed, pcs, sessions and serving.Add
	closed   bool                        // Close has begun
	pcs      map[net.PacketConn]struct{} // sockets of running Serve calls
	sessions map[sessionKey]*udpSession  // open sessions
	serving  sync.WaitGroup              // running Serve calls
	workers  sync.WaitGroup              // session goroutines
	stats    counters
}

// sessionKey identifies a session: the client's address on one frontend socket.
type sessionKey struct {
	pc     net.PacketConn
	client netip.AddrPort
}

// udpSession is one client's association with one backend.
type udpSession struct {
	key     sessionKey
	lease   Lease
	conn    *net.UDPConn // connected to the backend
	connect time.Duration
	lastIO  atomic.Int64  // unix nanoseconds of the last datagram either way
	replied atomic.Bool   // the backend has sent something back
	ended   chan struct{} // closed when the reader returns
}

// NewUDP returns a proxy for cfg; it serves once Serve is given a socket.
func NewUDP(cfg UDPConfig) (*UDPProxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &UDPProxy{
		cfg:      cfg,
		log:      cfg.Logger,
		bufSize:  cfg.MaxDatagram + 1,
		closing:  make(chan struct{}),
		pcs:      make(map[net.PacketConn]struct{}),
		sessions: make(map[sessionKey]*udpSession),
	}
	p.bufs.New = func() any { b := make([]byte, p.bufSize); return &b }
	return p, nil
}

// Stats returns a snapshot of the proxy's counters; Active is the number of
// open sessions.
func (p *UDPProxy) Stats() Stats { return p.stats.snapshot() }

// Serve reads datagrams from pc and forwards them until Close or until pc is
// closed. It may be called for several sockets at once. The proxy owns pc from
// then on and closes it on Close. It returns nil after Close or pc's close,
// ErrClosed when the proxy was closed before the call, or pc's read error.
func (p *UDPProxy) Serve(pc net.PacketConn) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pc.Close()
		return ErrClosed
	}
	p.pcs[pc] = struct{}{}
	p.serving.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pcs, pc)
		p.mu.Unlock()
		p.serving.Done()
	}()

	p.log.Info("l4: serving udp", "addr", pc.LocalAddr().String())
	udp, _ := pc.(*net.UDPConn)
	buf := make([]byte, p.bufSize)
	for {
		var n int
		var client netip.AddrPort
		var err error
		if udp != nil {
			n, client, err = udp.ReadFromUDPAddrPort(buf)
			client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		} else {
			var a net.Addr
			n, a, err = pc.ReadFrom(buf)
			client = addrPortOf(a)
		}
		if err != nil {
			select {
			case <-p.closing:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			p.log.Error("l4: udp read failed", "err", err)
			return err
		}
		if n > p.cfg.MaxDatagram {
			p.stats.dropped.Add(1)
			continue
		}
		// A session may end between the lookup and the write; then the
		// datagram opens a new one.
		sent := false
		for range 2 {
			s := p.session(pc, client)
			if s == nil {
				break
			}
			if _, err := s.conn.Write(buf[:n]); err != nil {
				if errors.Is(err, net.ErrClosed) {
					continue
				}
				break
			}
			s.lastIO.Store(time.Now().UnixNano())
			p.stats.bytesIn.Add(uint64(n))
			sent = true
			break
		}
		if !sent {
			p.stats.dropped.Add(1)
		}
	}
}

// session returns client's open session on pc, or opens one; nil when the
// session limit is reached or no backend can be had.
func (p *UDPProxy) session(pc net.PacketConn, client netip.AddrPort) *udpSession {
	key := sessionKey{pc, client}
	p.mu.Lock()
	s := p.sessions[key]
	full := len(p.sessions) >= p.cfg.MaxSessions
	p.mu.Unlock()
	if s != nil {
		return s
	}
	if full {
		return nil
	}
	// Only this Serve loop opens sessions for key, so nobody races us to it.
	var tried []string
	for range udpConnectAttempts {
		lease, err := p.cfg.Balancer.Pick(client, tried)
		if err != nil {
			p.log.Warn("l4: no backend", "client", client.String(), "tried", tried, "err", err)
			break
		}
		start := time.Now()
		conn, err := dialUDP(lease.Addr())
		d := time.Since(start)
		if err != nil {
			lease.Done(true, d)
			tried = append(tried, lease.Name())
			p.log.Warn("l4: udp connect failed", "backend", lease.Name(), "addr", lease.Addr(), "err", err)
			continue
		}
		s = &udpSession{key: key, lease: lease, conn: conn, connect: d, ended: make(chan struct{})}
		s.lastIO.Store(time.Now().UnixNano())
		p.mu.Lock()
		if p.closed || len(p.sessions) >= p.cfg.MaxSessions {
			p.mu.Unlock()
			conn.Close()
			lease.Done(false, d)
			return nil
		}
		p.sessions[key] = s
		p.workers.Add(2)
		p.mu.Unlock()
		p.stats.accepted.Add(1)
		p.stats.active.Add(1)
		go func() { defer p.workers.Done(); p.readReplies(s) }()
		go func() { defer p.workers.Done(); p.watch(s) }()
		return s
	}
	p.stats.failed.Add(1)
	return nil
}

// dialUDP returns a UDP socket connected to addr.
func dialUDP(addr string) (*net.UDPConn, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// readReplies relays the backend's datagrams to the client until the session
// is idle for SessionTimeout, its socket is closed, or the backend refuses.
// It then ends the session.
func (p *UDPProxy) readReplies(s *udpSession) {
	defer close(s.ended)
	failed := false
	defer func() { p.endSession(s, failed) }()
	timeout := p.cfg.SessionTimeout
	deadline := time.Unix(0, s.lastIO.Load()).Add(timeout)
	for {
		s.conn.SetReadDeadline(deadline)
		buf, n, err := readDatagram(s.conn, &p.bufs)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadline = time.Unix(0, s.lastIO.Load()).Add(timeout)
				if time.Now().Before(deadline) {
					continue // the client sent something meanwhile
				}
				return
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				// ICMP port unreachable: nobody listens at the backend.
				failed = !s.replied.Load()
				p.log.Debug("l4: udp backend refused", "backend", s.lease.Name(), "err", err)
				return
			}
			return // closed, or a socket error: the session is over
		}
		if n > p.cfg.MaxDatagram {
			p.bufs.Put(buf)
			p.stats.dropped.Add(1)
			continue
		}
		s.replied.Store(true)
		s.lastIO.Store(time.Now().UnixNano())
		deadline = time.Now().Add(timeout)
		_, werr := writeTo(s.key, (*buf)[:n])
		p.bufs.Put(buf)
		if werr != nil {
			p.stats.dropped.Add(1)
			continue
		}
		p.stats.bytesOut.Add(uint64(n))
	}
}

// writeTo sends b to the session's client from the frontend socket.
func writeTo(k sessionKey, b []byte) (int, error) {
	if u, ok := k.pc.(*net.UDPConn); ok {
		return u.WriteToUDPAddrPort(b, k.client)
	}
	return k.pc.WriteTo(b, net.UDPAddrFromAddrPort(k.client))
}

// watch cuts the session when its lease expires or the proxy closes.
func (p *UDPProxy) watch(s *udpSession) {
	select {
	case <-s.lease.Expired():
		p.log.Info("l4: backend lease expired, ending udp session", "backend", s.lease.Name(), "client", s.key.client.String())
		s.conn.Close()
	case <-p.closing:
		s.conn.Close()
	case <-s.ended:
	}
}

// endSession removes s, closes its socket and returns its lease.
func (p *UDPProxy) endSession(s *udpSession, failed bool) {
	p.mu.Lock()
	if p.sessions[s.key] == s {
		delete(p.sessions, s.key)
	}
	p.mu.Unlock()
	s.conn.Close()
	p.stats.active.Add(-1)
	s.lease.Done(failed, s.connect)
}

// Close stops every Serve loop (closing their sockets) and ends every session,
// and returns after all the proxy's goroutines have ended.
func (p *UDPProxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.closing)
		for pc := range p.pcs {
			pc.Close()
		}
	}
	p.mu.Unlock()
	p.serving.Wait()
	p.workers.Wait()
	return nil
}
