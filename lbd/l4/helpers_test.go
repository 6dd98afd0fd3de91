package l4

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

// testBalancer picks the first backend, in order, that is not in tried; with
// rotate set each pick starts one backend further. It records Done calls.
type testBalancer struct {
	mu       sync.Mutex // protects the fields below
	backends []testBackend
	next     int
	rotate   bool
	done     []doneCall
	leases   []*testLease
	expired  chan struct{} // handed to every lease; nil = never
}

type testBackend struct{ name, addr string }

type doneCall struct {
	name   string
	failed bool
}

func (b *testBalancer) Pick(client netip.AddrPort, tried []string) (Lease, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.backends)
	start := 0
	if b.rotate {
		start = b.next
		b.next++
	}
	for i := range n {
		be := b.backends[(start+i)%n]
		if !slices.Contains(tried, be.name) {
			l := &testLease{b: b, be: be, expired: b.expired}
			b.leases = append(b.leases, l)
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: all %d tried", ErrNoBackend, n)
}

func (b *testBalancer) doneCalls() []doneCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.done)
}

type testLease struct {
	b       *testBalancer
	be      testBackend
	expired chan struct{}
	once    sync.Once
}

func (l *testLease) Name() string { return l.be.name }
func (l *testLease) Addr() string { return l.be.addr }
func (l *testLease) Expired() <-chan struct{} {
	if l.expired == nil {
		return nil
	}
	return l.expired
}
func (l *testLease) Done(failed bool, d time.Duration) {
	called := false
	l.once.Do(func() { called = true })
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if !called {
		panic("Lease.Done called twice")
	}
	l.b.done = append(l.b.done, doneCall{l.be.name, failed})
}

// listen returns a loopback TCP listener on a free port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// backendServer runs handler for each connection to a loopback listener until
// the test ends, and returns the listener's address.
func backendServer(t testing.TB, handler func(net.Conn)) string {
	t.Helper()
	ln := listen(t)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); handler(c) })
		}
	})
	return ln.Addr().String()
}

// echo copies what it reads back, then closes its write side at EOF.
func echo(c net.Conn) {
	io.Copy(c, c)
	c.(*net.TCPConn).CloseWrite()
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startTCP starts a proxy for cfg on a loopback listener; the test's cleanup
// closes it and checks Serve returned nil.
func startTCP(t testing.TB, cfg TCPConfig) (*TCPProxy, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = nodetest.Logger(t)
	}
	p, err := NewTCP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	t.Cleanup(func() {
		p.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return p, ln.Addr().String()
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// roundTrip writes msg to c and reads len(msg) bytes back within 10s.
func roundTrip(t testing.TB, c net.Conn, msg string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf)
}

// expectClosed waits up to 10s for c to reach EOF or an error.
func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after 10s")
	}
}
