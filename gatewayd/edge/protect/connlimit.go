package protect

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimiterConfig configures a ConnLimiter.
type ConnLimiterConfig struct {
	// MaxPerClient is the most connections one client may hold open at once
	// (>= 1).
	MaxPerClient int
	// IPv6PrefixBits groups IPv6 clients by prefix (default 64).
	IPv6PrefixBits int
	// Logger receives a line per client when it is first refused, at most
	// once a minute overall (nil: slog.Default()).
	Logger *slog.Logger
}

// ConnLimiter is a net.Listener that caps the connections each client (by
// peer IP) holds open at once. Accept closes a connection over its client's
// cap at once (with SO_LINGER 0 when it is TCP, so the refusal costs no
// TIME_WAIT state) and goes on accepting; the caller sees only connections
// within the caps. A connection counts until its Close. Connections without
// an IP peer (Unix sockets) are not limited.
//
// Put a TLS listener above it (tls.NewListener(cl, conf)), so refusals cost
// no handshake. The connections it returns keep the inner connection's
// ReadFrom and CloseWrite, so sendfile and half-closes still work.
type ConnLimiter struct {
	net.Listener
	max    int
	keyer  clientKeyer
	logger *slog.Logger

	mu     sync.Mutex // protects active
	active map[netip.Addr]int

	rejected atomic.Uint64
	lastLog  atomic.Int64 // unix nanos of the last refusal logged
}

// NewConnLimiter wraps ln.
func NewConnLimiter(ln net.Listener, cfg ConnLimiterConfig) (*ConnLimiter, error) {
	if ln == nil {
		return nil, fmt.Errorf("%w: the listener is nil", ErrInvalidConfig)
	}
	if cfg.MaxPerClient < 1 {
		return nil, fmt.Errorf("%w: MaxPerClient is %d, it must be at least 1", ErrInvalidConfig, cfg.MaxPerClient)
	}
	keyer, err := newClientKeyer("IPv6PrefixBits", cfg.IPv6PrefixBits)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &ConnLimiter{Listener: ln, max: cfg.MaxPerClient, keyer: keyer, logger: logger, active: make(map[netip.Addr]int)}, nil
}

// Accept returns the next connection whose client is under its cap,
// closing the ones over it; it returns the inner listener's errors.
func (c *ConnLimiter) Accept() (net.Conn, error) {
	for {
		conn, err := c.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, ok := addrOf(conn.RemoteAddr())
		if !ok {
			return conn, nil
		}
		key := c.keyer.key(ip)
		c.mu.Lock()
		n := c.active[key]
		if n < c.max {
			c.active[key] = n + 1
		}
		c.mu.Unlock()
		if n < c.max {
			return &limitedConn{Conn: conn, release: func() { c.release(key) }}, nil
		}
		c.refuse(conn, key)
	}
}

func (c *ConnLimiter) refuse(conn net.Conn, key netip.Addr) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
	total := c.rejected.Add(1)
	now := time.Now().UnixNano()
	if last := c.lastLog.Load(); now-last >= int64(time.Minute) && c.lastLog.CompareAndSwap(last, now) {
		c.logger.Warn("protect: refused a connection over the per-client cap", "client", key, "max_per_client", c.max, "refused_total", total)
	}
}

func (c *ConnLimiter) release(key netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.active[key] - 1; n > 0 {
		c.active[key] = n
	} else {
		delete(c.active, key)
	}
}

// Active is how many connections the client of ip holds open.
func (c *ConnLimiter) Active(ip netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active[c.keyer.key(ip)]
}

// Clients is how many clients hold at least one connection.
func (c *ConnLimiter) Clients() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.active)
}

// Refused is how many connections Accept closed for being over a cap.
func (c *ConnLimiter) Refused() uint64 { return c.rejected.Load() }

// limitedConn releases its client's slot once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (l *limitedConn) Close() error {
	err := l.Conn.Close()
	l.once.Do(l.release)
	return err
}

// ReadFrom lets io.Copy into the connection use the inner connection's
// ReadFrom (sendfile, splice).
func (l *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := l.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{l.Conn}, r)
}

// CloseWrite half-closes the inner connection when it can.
func (l *limitedConn) CloseWrite() error {
	if cw, ok := l.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("protect: %T cannot half-close", l.Conn)
}
