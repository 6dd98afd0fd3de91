// Package faultproxy is a TCP proxy for one directed network link that injects faults:
// blackholes in either direction, latency with jitter, connection drops and a bandwidth
// cap. The cluster harness runs one Proxy per ordered pair of nodes and points each
// node's dials at it, so partitions and slow links can be made without root privileges.
//
// Use Listen to start a proxy, Set to change its faults (existing and new connections
// see the change at once) and Close to stop it. A Proxy is safe for concurrent use.
//
// Blackholing is a partition, not a pause: the proxy keeps reading from the sender and
// discards what it reads, so the sender's TCP window never fills, and when the fault is
// healed new bytes flow again but the discarded ones are lost. A protocol on top of TCP
// therefore sees a corrupted stream after a heal. It may notice at once, or only at a
// timeout: a gRPC connection opened during the blackhole waits for a server preface
// that was discarded, for up to its 20s connect timeout. Options.ResetOnHeal resets
// every connection that lost bytes when the blackhole is lifted, so clients notice
// and reconnect at once, as after a partition long enough for TCP to give up.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Faults describes the faults a Proxy injects. The zero value injects none.
type Faults struct {
	// BlackholeUp drops the bytes the client sends to the target. Connections stay
	// open and the data is silently discarded; new connections are accepted and
	// blackholed too.
	BlackholeUp bool
	// BlackholeDown drops the bytes the target sends to the client.
	BlackholeDown bool
	// Delay is added to every chunk in each direction; order is preserved.
	Delay time.Duration
	// Jitter spreads the delay uniformly over Delay±Jitter (never below zero).
	// Order is still preserved: a chunk is never delivered before the one read
	// before it.
	Jitter time.Duration
	// DropPercent is the share (0..100) of new connections that are reset at once.
	DropPercent float64
	// BandwidthBytesPerSec caps each direction of each connection; 0 is unlimited.
	BandwidthBytesPerSec int64
}

// IsZero reports whether f injects no fault.
func (f Faults) IsZero() bool { return f == Faults{} }

// String renders f compactly for logs, e.g. "blackhole=up,down delay=50ms±10ms".
func (f Faults) String() string {
	if f.IsZero() {
		return "none"
	}
	s := ""
	add := func(part string) {
		if s != "" {
			s += " "
		}
		s += part
	}
	switch {
	case f.BlackholeUp && f.BlackholeDown:
		add("blackhole=up,down")
	case f.BlackholeUp:
		add("blackhole=up")
	case f.BlackholeDown:
		add("blackhole=down")
	}
	if f.Delay > 0 || f.Jitter > 0 {
		add(fmt.Sprintf("delay=%v±%v", f.Delay, f.Jitter))
	}
	if f.DropPercent > 0 {
		add(fmt.Sprintf("drop=%g%%", f.DropPercent))
	}
	if f.BandwidthBytesPerSec > 0 {
		add(fmt.Sprintf("bandwidth=%dB/s", f.BandwidthBytesPerSec))
	}
	return s
}

// normalize clamps out-of-range values: negative durations and rates become zero and
// DropPercent is kept within 0..100.
func (f Faults) normalize() Faults {
	f.Delay = max(f.Delay, 0)
	f.Jitter = max(f.Jitter, 0)
	f.DropPercent = min(max(f.DropPercent, 0), 100)
	f.BandwidthBytesPerSec = max(f.BandwidthBytesPerSec, 0)
	return f
}

// Options configures a Proxy.
type Options struct {
	// Seed seeds every random choice (drops, jitter), so a run can be replayed.
	Seed uint64
	// Logger receives connection and fault events; nil discards them.
	Logger *slog.Logger
	// ResetOnHeal makes Set, when it lifts a blackhole, reset (RST to both sides)
	// every connection that discarded bytes in that direction. Connections that
	// lost nothing keep running.
	ResetOnHeal bool
}

const (
	// chunkSize is the largest read per direction; each read becomes one queued chunk.
	chunkSize = 32 << 10
	// queueLen bounds the chunks queued per direction; a full queue stops reading, so
	// memory stays bounded when Delay or the bandwidth cap holds data back.
	queueLen = 256
	// dialTimeout bounds the dial to the target for a new connection.
	dialTimeout = 5 * time.Second
)

// Proxy forwards TCP connections from its listen address to one target, injecting the
// faults last given to Set. Every goroutine it starts is tracked and Close waits for
// all of them.
type Proxy struct {
	ln          net.Listener
	target      string
	log         *slog.Logger
	resetOnHeal bool

	ctx    context.Context // canceled by Close; bounds dials
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dropped atomic.Int64 // bytes discarded by blackholes, for tests and logs

	mu      sync.Mutex // protects the following fields
	faults  Faults
	changed chan struct{} // closed and replaced by every Set, to wake waiters
	rng     *rand.Rand
	conns   map[*link]struct{}
	closed  bool
}

// Listen starts a proxy that accepts on listenAddr ("127.0.0.1:0" picks a free port)
// and forwards every connection to target. The target is dialed once per accepted
// connection, so it need not be up yet.
func Listen(listenAddr, target string, opts Options) (*Proxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen %s: %w", listenAddr, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln:     ln,
		target: target,
		log:    log.With("proxy", ln.Addr().String(), "target", target),

		resetOnHeal: opts.ResetOnHeal,
		ctx:         ctx,
		cancel:      cancel,
		changed:     make(chan struct{}),
		rng:         rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		conns:       make(map[*link]struct{}),
	}
	p.goFunc(p.acceptLoop)
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Set replaces the faults. Existing connections see the change at once: queued chunks
// are re-timed against the new delay, and a new blackhole drops queued data too.
//
// With Options.ResetOnHeal, lifting a blackhole also resets the connections that
// lost bytes to it.
func (p *Proxy) Set(f Faults) {
	f = f.normalize()
	p.mu.Lock()
	if p.faults == f {
		p.mu.Unlock()
		return
	}
	healedUp := p.faults.BlackholeUp && !f.BlackholeUp
	healedDown := p.faults.BlackholeDown && !f.BlackholeDown
	p.log.Info("faultproxy: faults set", "faults", f.String())
	p.faults = f
	close(p.changed)
	p.changed = make(chan struct{})
	var damaged []*link
	if p.resetOnHeal && (healedUp || healedDown) {
		for l := range p.conns {
			if (healedUp && l.lostUp.Load()) || (healedDown && l.lostDown.Load()) {
				damaged = append(damaged, l)
			}
		}
	}
	p.mu.Unlock()
	for _, l := range damaged {
		l.reset()
	}
	if len(damaged) > 0 {
		p.log.Info("faultproxy: reset connections that lost bytes", "connections", len(damaged))
	}
}

// Faults returns the faults currently injected.
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Close stops accepting, closes every proxied connection and waits until every
// goroutine of the proxy has returned. Calling it again returns nil.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	links := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		links = append(links, l)
	}
	p.mu.Unlock()

	p.cancel()
	err := p.ln.Close()
	for _, l := range links {
		l.teardown()
	}
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// goFunc runs f on a tracked goroutine; it refuses (returns false) once Close began.
func (p *Proxy) goFunc(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// state returns the current faults and a channel closed at the next Set.
func (p *Proxy) state() (Faults, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults, p.changed
}

func (p *Proxy) acceptLoop() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			p.log.Warn("faultproxy: accept", "err", err)
			select {
			case <-time.After(10 * time.Millisecond):
			case <-p.ctx.Done():
				return
			}
			continue
		}
		if p.dropNew() {
			p.log.Debug("faultproxy: connection reset (drop)", "client", c.RemoteAddr().String())
			reset(c)
			continue
		}
		if !p.goFunc(func() { p.serve(c) }) {
			c.Close()
			return
		}
	}
}

// dropNew draws whether a new connection is reset, from the seeded source.
func (p *Proxy) dropNew() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := p.faults.DropPercent
	if pct <= 0 {
		return false
	}
	return pct >= 100 || p.rng.Float64()*100 < pct
}

// jitterFraction draws a uniform value in [-1, 1) from the seeded source.
func (p *Proxy) jitterFraction() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()*2 - 1
}

// reset closes c with an RST rather than a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// serve dials the target for an accepted client connection and starts the pumps.
func (p *Proxy) serve(client net.Conn) {
	d := net.Dialer{Timeout: dialTimeout}
	target, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		p.log.Debug("faultproxy: dial target", "err", err)
		reset(client)
		return
	}
	l := &link{p: p, client: client, target: target, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		target.Close()
		return
	}
	p.conns[l] = struct{}{}
	p.mu.Unlock()

	up := make(chan chunk, queueLen)
	down := make(chan chunk, queueLen)
	started := p.goFunc(func() { l.read(client, up) }) &&
		p.goFunc(func() { l.write(target, up, true) }) &&
		p.goFunc(func() { l.read(target, down) }) &&
		p.goFunc(func() { l.write(client, down, false) })
	if !started {
		l.teardown()
	}
}

// chunk is one read from one side, waiting to be written to the other.
type chunk struct {
	data []byte
	read time.Time // when it was read
	jit  float64   // in [-1, 1): where within Delay±Jitter this chunk lands
}

// link is one proxied connection: two directions, each a reader goroutine feeding a
// queue and a writer goroutine draining it at the time the faults allow.
type link struct {
	p              *Proxy
	client, target net.Conn
	done           chan struct{} // closed by teardown

	lostUp   atomic.Bool // a blackhole discarded bytes client->target
	lostDown atomic.Bool // a blackhole discarded bytes target->client

	once     sync.Once
	mu       sync.Mutex // protects finished
	finished int        // writers that saw their queue end (EOF from the reader side)
}

// teardown closes both connections and wakes every goroutine of the link.
func (l *link) teardown() {
	l.once.Do(func() {
		close(l.done)
		l.client.Close()
		l.target.Close()
		l.p.mu.Lock()
		delete(l.p.conns, l)
		l.p.mu.Unlock()
	})
}

// discard drops n bytes of direction up if it is still blackholed, and marks the
// link as having lost bytes; the check and the mark are atomic with Set, so a
// heal with ResetOnHeal never misses a connection that lost bytes.
func (l *link) discard(up bool, n int) bool {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if up && l.p.faults.BlackholeUp {
		l.lostUp.Store(true)
	} else if !up && l.p.faults.BlackholeDown {
		l.lostDown.Store(true)
	} else {
		return false
	}
	l.p.dropped.Add(int64(n))
	return true
}

// reset tears the link down with an RST to both sides.
func (l *link) reset() {
	for _, c := range []net.Conn{l.client, l.target} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	l.teardown()
}

// read pumps src into q until EOF (then closes q) or an error (then tears down).
func (l *link) read(src net.Conn, q chan<- chunk) {
	buf := make([]byte, chunkSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c := chunk{data: append([]byte(nil), buf[:n]...), read: time.Now()}
			if f := l.p.Faults(); f.Jitter > 0 {
				c.jit = l.p.jitterFraction()
			}
			select {
			case q <- c:
			case <-l.done:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				close(q)
			} else {
				l.teardown()
			}
			return
		}
	}
}

// write drains q into dst. up tells which blackhole applies. When q ends it
// half-closes dst; when both directions ended, the link is torn down.
func (l *link) write(dst net.Conn, q <-chan chunk, up bool) {
	var tb bucket
	for {
		select {
		case c, ok := <-q:
			if !ok {
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				l.mu.Lock()
				l.finished++
				both := l.finished == 2
				l.mu.Unlock()
				if both {
					l.teardown()
				}
				return
			}
			if err := l.deliver(dst, c, up, &tb); err != nil {
				l.teardown()
				return
			}
		case <-l.done:
			return
		}
	}
}

var errTornDown = errors.New("faultproxy: connection closed")

// deliver writes c to dst no earlier than its delay allows and no faster than the
// bandwidth cap, dropping it (or its remainder) if the direction is blackholed.
func (l *link) deliver(dst net.Conn, c chunk, up bool, tb *bucket) error {
	data := c.data
	for len(data) > 0 {
		f, changed := l.p.state()
		if (up && f.BlackholeUp) || (!up && f.BlackholeDown) {
			if l.discard(up, len(data)) {
				return nil
			}
			continue // healed meanwhile: deliver
		}
		delay := max(f.Delay+time.Duration(c.jit*float64(f.Jitter)), 0)
		if wait := time.Until(c.read.Add(delay)); wait > 0 {
			if err := l.sleep(wait, changed); err != nil {
				return err
			}
			continue // faults may have changed; re-check
		}
		n := len(data)
		if rate := f.BandwidthBytesPerSec; rate > 0 {
			var wait time.Duration
			n, wait = tb.take(rate, len(data), time.Now())
			if wait > 0 {
				if err := l.sleep(wait, changed); err != nil {
					return err
				}
				continue
			}
		}
		if _, err := dst.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// sleep waits for d, for the faults to change, or for the link to be torn down (the
// only case that returns an error).
func (l *link) sleep(d time.Duration, changed <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-changed:
		return nil
	case <-l.done:
		return errTornDown
	}
}

// bucket is a token bucket for one direction of one connection. It holds at most a
// tenth of a second of tokens (at least one byte), so bursts stay short.
type bucket struct {
	tokens float64
	last   time.Time
	rate   int64
}

// take tries to take up to want bytes at the given rate. It returns how many bytes
// may be written now, or zero and how long to wait before asking again.
func (b *bucket) take(rate int64, want int, now time.Time) (int, time.Duration) {
	burst := max(float64(rate)/10, 1)
	if b.rate != rate || b.last.IsZero() {
		b.rate, b.last = rate, now
		b.tokens = min(b.tokens, burst)
	}
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*float64(rate), burst)
	b.last = now
	if b.tokens < 1 {
		need := 1 - b.tokens
		return 0, max(time.Duration(need/float64(rate)*float64(time.Second)), time.Millisecond)
	}
	n := min(want, int(b.tokens))
	b.tokens -= float64(n)
	return n, 0
}
