package health

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Monitor defaults, used for zero fields of MonitorConfig.
const (
	DefaultInterval = 2 * time.Second
	DefaultTimeout  = time.Second
	DefaultJitter   = 0.1
	DefaultRise     = 2
	DefaultFall     = 3
	// MinInterval is the shortest MonitorConfig.Interval accepted.
	MinInterval = time.Millisecond
	// minWait is the shortest wait between two checks of one backend, whatever
	// the jitter drew.
	minWait = time.Millisecond
)

// MonitorConfig configures a Monitor. Zero fields take the defaults above.
type MonitorConfig struct {
	Probe    Probe         // required
	Interval time.Duration // between checks of one backend (default 2s, at least MinInterval)
	Timeout  time.Duration // per check (default 1s or Interval if shorter; at most Interval)
	// Jitter in 0..1 spreads the checks of many backends: each wait is
	// Interval·(1 ± Jitter·u) for a uniform u in [0,1). 0 means the default
	// 0.1; a negative value means no jitter.
	Jitter     float64
	Rise, Fall int    // defaults 2 and 3; see Active
	Seed       uint64 // jitter randomness: each backend draws from Seed and its name
	// OnChange, if set, is called when a backend's state changes, with the
	// reason (see Active.Reason). It is called from the monitor's goroutines,
	// never concurrently for one backend, and in order for one backend even
	// across a restart by Set. It may call Status and Set, but Close waits
	// for it. A backend starts Down without a call; when Set changes the
	// address of an Up backend, a call reports it Down ("address changed")
	// before its new address is checked.
	OnChange func(backend string, up bool, reason string)
	Logger   *slog.Logger // default discards
}

// withDefaults validates c and fills its zero fields.
func (c MonitorConfig) withDefaults() (MonitorConfig, error) {
	if c.Probe == nil {
		return c, fmt.Errorf("%w: MonitorConfig.Probe is nil", ErrInvalidConfig)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Interval < MinInterval {
		return c, fmt.Errorf("%w: MonitorConfig.Interval is %v, the minimum is %v", ErrInvalidConfig, c.Interval, MinInterval)
	}
	if c.Timeout == 0 {
		c.Timeout = min(DefaultTimeout, c.Interval)
	}
	if c.Timeout < 0 || c.Timeout > c.Interval {
		return c, fmt.Errorf("%w: MonitorConfig.Timeout is %v, it must be in (0, Interval=%v]", ErrInvalidConfig, c.Timeout, c.Interval)
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter > 1:
		return c, fmt.Errorf("%w: MonitorConfig.Jitter is %v, the maximum is 1", ErrInvalidConfig, c.Jitter)
	}
	if c.Rise == 0 {
		c.Rise = DefaultRise
	}
	if c.Fall == 0 {
		c.Fall = DefaultFall
	}
	if c.Rise < 0 {
		return c, fmt.Errorf("%w: MonitorConfig.Rise is %d, the minimum is 1", ErrInvalidConfig, c.Rise)
	}
	if c.Fall < 0 {
		return c, fmt.Errorf("%w: MonitorConfig.Fall is %d, the minimum is 1", ErrInvalidConfig, c.Fall)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Monitor runs active checks: one goroutine per backend checks it every
// Interval (with jitter) and feeds an Active state machine. The first check
// of a backend runs as soon as Set adds it.
//
// Its methods are safe for concurrent use. Close stops every checker and waits
// for them (and for any OnChange call in progress); Set after Close does
// nothing.
type Monitor struct {
	cfg MonitorConfig

	mu       sync.Mutex // protects the fields below and wg.Add
	closed   bool
	checkers map[string]*checker // current checker per backend
	// retired holds checkers stopped by Set that may still be running, so a
	// checker started later for the same name waits for them (OnChange
	// order). A checker removes itself when it ends.
	retired map[string]*checker
	wg      sync.WaitGroup // every checker goroutine
}

// NewMonitor validates cfg and returns a Monitor with no backends.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Monitor{cfg: cfg, checkers: map[string]*checker{}, retired: map[string]*checker{}}, nil
}

// checker checks one backend at one address. Its goroutine is the only
// writer of active and the only caller of OnChange for the name while it
// runs.
type checker struct {
	name, addr string
	prev       *checker // the previous checker of the name, waited for before the first check
	restart    bool     // started by an address change of the same name
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{} // closed when the goroutine returns

	mu     sync.Mutex // protects up and reason, read by Status
	up     bool
	reason string
}

func (c *checker) status() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up, c.reason
}

func (c *checker) setStatus(up bool, reason string) {
	c.mu.Lock()
	c.up, c.reason = up, reason
	c.mu.Unlock()
}

// Set makes backends (name → host:port) the monitored set: it starts checkers
// for new names, stops those of names no longer present, and restarts (fresh
// state, first check at once) those whose address changed. It does not wait
// for stopped checkers.
func (m *Monitor) Set(backends map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	moved := map[string]bool{} // names whose address changed in this call
	for name, c := range m.checkers {
		addr, ok := backends[name]
		if ok && addr == c.addr {
			continue
		}
		moved[name] = ok
		c.cancel()
		delete(m.checkers, name)
		m.retired[name] = c
	}
	for name, addr := range backends {
		if _, ok := m.checkers[name]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &checker{
			name: name, addr: addr, prev: m.retired[name], restart: moved[name],
			ctx: ctx, cancel: cancel, done: make(chan struct{}),
			reason: "no check yet",
		}
		m.checkers[name] = c
		m.wg.Add(1)
		go m.run(c)
	}
}

// Status reports the state of the named backend and why, and known=false if
// the Monitor does not check it.
func (m *Monitor) Status(name string) (up bool, reason string, known bool) {
	m.mu.Lock()
	c, ok := m.checkers[name]
	m.mu.Unlock()
	if !ok {
		return false, "", false
	}
	up, reason = c.status()
	return up, reason, true
}

// Close stops every checker and waits for them. It is idempotent.
func (m *Monitor) Close() {
	m.mu.Lock()
	m.closed = true
	for _, c := range m.checkers {
		c.cancel()
	}
	for _, c := range m.retired {
		c.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// run is the goroutine of checker c: it waits for the previous checker of the
// name, then checks c.addr until c is stopped.
func (m *Monitor) run(c *checker) {
	defer m.wg.Done()
	defer m.retire(c)
	if prev := c.prev; prev != nil {
		// Unconditionally: prev was stopped and ends soon, and its last
		// OnChange call must come before any of ours.
		<-prev.done
		c.prev = nil
		if wasUp, _ := prev.status(); c.restart && wasUp && c.ctx.Err() == nil {
			m.changed(c, false, fmt.Sprintf("address changed from %s to %s; no check yet", prev.addr, c.addr))
		}
	}
	active := NewActive(m.cfg.Rise, m.cfg.Fall)
	rng := rand.New(rand.NewPCG(m.cfg.Seed, nameSeed(c.name)))
	for c.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(c.ctx, m.cfg.Timeout)
		err := m.cfg.Probe.Check(ctx, c.addr)
		cancel()
		if c.ctx.Err() != nil {
			return // stopped during the check: its result is not this backend's any more
		}
		up, changed := active.Record(err)
		c.setStatus(up, active.Reason())
		if err != nil {
			m.cfg.Logger.Debug("health check failed", "backend", c.name, "addr", c.addr, "err", err)
		}
		if changed {
			m.changed(c, up, active.Reason())
		}
		t := time.NewTimer(jitterWait(m.cfg.Interval, m.cfg.Jitter, rng.Float64()))
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
}

// changed reports a state change of c's backend.
func (m *Monitor) changed(c *checker, up bool, reason string) {
	c.setStatus(up, reason)
	m.cfg.Logger.Info("backend health changed", "backend", c.name, "addr", c.addr, "up", up, "reason", reason)
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(c.name, up, reason)
	}
}

// retire marks c's goroutine as ended.
func (m *Monitor) retire(c *checker) {
	m.mu.Lock()
	if m.retired[c.name] == c {
		delete(m.retired, c.name)
	}
	m.mu.Unlock()
	close(c.done)
}

// jitterWait is the wait before the next check: interval·(1 + jitter·(2u−1))
// for u in [0,1), so within interval·(1 ± jitter), and at least minWait.
func jitterWait(interval time.Duration, jitter, u float64) time.Duration {
	d := time.Duration(float64(interval) * (1 + jitter*(2*u-1)))
	return max(d, minWait)
}

// nameSeed is the second seed word of a backend's jitter randomness.
func nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
