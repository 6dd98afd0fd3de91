package l4

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// Lease is one connection's (or UDP session's) use of a backend, handed out by
// a Balancer. The proxy calls Done exactly once, when the connection ends; it
// may call the other methods from any goroutine.
type Lease interface {
	// Name is the backend's name, unique within its pool; the proxy passes it
	// back in Pick's tried list when connecting to it failed.
	Name() string
	// Addr is the backend's host:port.
	Addr() string
	// Expired is closed when the connection must be cut: the backend was
	// drained and its drain deadline passed, or it left the pool. May be nil
	// (never).
	Expired() <-chan struct{}
	// Done is called exactly once: failed reports a connect failure (or a
	// connection reset by the backend before any byte came back; for UDP, an
	// ICMP refusal before any reply); d is the connect time for a connect
	// failure or success.
	Done(failed bool, d time.Duration)
}

// Balancer chooses backends; the daemon implements it over its pools. Pick is
// called concurrently from the proxies' goroutines.
type Balancer interface {
	// Pick chooses a backend for a new connection from client, not one named
	// in tried. It returns ErrNoBackend (wrapped) when none is available.
	Pick(client netip.AddrPort, tried []string) (Lease, error)
}

// Errors of the package. Test them with errors.Is: the proxies and the PROXY
// header parser wrap them with the details.
var (
	// ErrNoBackend is what a Balancer returns (wrapped) when no backend is
	// available for a connection.
	ErrNoBackend = errors.New("l4: no backend available")
	// ErrConfig reports an invalid TCPConfig or UDPConfig; the wrapping error
	// names the field and the limit.
	ErrConfig = errors.New("l4: invalid config")
	// ErrClosed is returned by Serve when the proxy was already closed or shut
	// down before Serve was called.
	ErrClosed = errors.New("l4: proxy closed")
	// ErrProxyHeader reports a malformed or unsupported PROXY protocol header.
	ErrProxyHeader = errors.New("l4: bad PROXY header")
)

// Stats is a snapshot of a proxy's counters. For a TCPProxy a unit is a
// connection, for a UDPProxy a client session.
type Stats struct {
	Active   int64  // connections (sessions) open now
	Accepted uint64 // connections accepted (sessions created) since the start
	Failed   uint64 // connections (sessions) that got no backend: none available, or connecting failed
	BytesIn  uint64 // bytes relayed from clients to backends
	BytesOut uint64 // bytes relayed from backends to clients
	Dropped  uint64 // UDP only: datagrams dropped (session limit, oversize, no backend, send error)
}

// counters are a proxy's live Stats, updated with atomics.
type counters struct {
	active   atomic.Int64
	accepted atomic.Uint64
	failed   atomic.Uint64
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	dropped  atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Active:   c.active.Load(),
		Accepted: c.accepted.Load(),
		Failed:   c.failed.Load(),
		BytesIn:  c.bytesIn.Load(),
		BytesOut: c.bytesOut.Load(),
		Dropped:  c.dropped.Load(),
	}
}

// orDiscard returns l, or a logger that drops everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// addrPortOf returns a's IP and port with IPv4-mapped IPv6 addresses unmapped,
// or the zero AddrPort when a is not an IP address.
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.TCPAddr:
		ap = v.AddrPort()
	case *net.UDPAddr:
		ap = v.AddrPort()
	default:
		if a == nil {
			return ap
		}
		p, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ap
		}
		ap = p
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
