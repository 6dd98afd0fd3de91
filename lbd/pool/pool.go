package pool

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/lbd/balance"
	"cairn.dev/cairn/lbd/health"
	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/node"
)

// Errors of a pool.
var (
	// ErrNoBackend is returned by Pick when no member is eligible.
	ErrNoBackend = errors.New("pool: no healthy backend")
	// ErrUnknownBackend names a backend the pool does not have.
	ErrUnknownBackend = errors.New("pool: no such backend")
)

// tick is how often the maintenance goroutine looks at ejections, slow
// starts and drain deadlines.
const tick = 200 * time.Millisecond

// Options are a pool's dependencies.
type Options struct {
	Logger *slog.Logger
	// Seed feeds the balancer's and the checks' random choices.
	Seed uint64
	// TLS dials backends for checks when the pool's backend_tls is set.
	TLS *tls.Config
	// Now is the clock (time.Now when nil); tests pass a fake one.
	Now func() time.Time
	// Manual stops the pool from starting its maintenance goroutine: tests
	// call Maintain themselves.
	Manual bool
}

// Discovered is a member found in the registry.
type Discovered struct {
	Name    string
	Address string
	Weight  int
}

// Pool is one pool's members and picker. Its methods are safe for concurrent
// use.
type Pool struct {
	spec    lbconfig.Pool
	alg     balance.Algorithm
	balOpts balance.Options
	logger  *slog.Logger
	now     func() time.Time
	monitor *health.Monitor // nil without active checks
	outlier *health.Outlier // nil when passive checks are off

	picker atomic.Pointer[pickerBox]

	mu         sync.Mutex // guards the fields below
	members    map[string]*member
	order      []string // member names, sorted
	discovered []Discovered
	admin      map[string]AdminSetting // by member name; kept for members yet to appear
	panicking  bool                    // under spec.PanicThreshold: checks ignored (see panicLocked)
	closed     bool

	goroutines node.Goroutines
	stop       chan struct{}
}

// pickerBox is one built picker: its eligible members' count, and a
// channel closed when the next picker replaces it.
type pickerBox struct {
	p        balance.Picker
	eligible int
	members  map[*balance.Backend]*member // the picker's backends' members, read without the pool's lock
	replaced chan struct{}
}

// New builds a pool from its (defaulted, valid) spec and starts its
// active checks and maintenance goroutine.
func New(spec lbconfig.Pool, opts Options) (*Pool, error) {
	alg, err := balance.ParseAlgorithm(spec.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", spec.Name, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Pool{
		spec:    spec,
		alg:     alg,
		balOpts: balance.Options{Seed: opts.Seed},
		logger:  opts.Logger.With("pool", spec.Name),
		now:     opts.Now,
		members: map[string]*member{},
		admin:   map[string]AdminSetting{},
		stop:    make(chan struct{}),
	}
	if o := spec.Outlier; o.ConsecutiveFailures > 0 || o.FailureRate > 0 {
		p.outlier, err = health.NewOutlier(health.OutlierConfig{
			ConsecutiveFailures: o.ConsecutiveFailures, // -1 turns the rule off
			FailureRate:         o.FailureRate,
			Window:              o.Window,
			MinRequests:         o.MinRequests,
			BaseEjection:        o.BaseEjection,
			MaxEjection:         o.MaxEjection,
			MaxEjectedPercent:   o.MaxEjectedPercent,
		})
		if err != nil {
			return nil, fmt.Errorf("pool %s: outlier: %w", spec.Name, err)
		}
	}
	if probe, err := probeFor(spec, opts.TLS); err != nil {
		return nil, fmt.Errorf("pool %s: health: %w", spec.Name, err)
	} else if probe != nil {
		p.monitor, err = health.NewMonitor(health.MonitorConfig{
			Probe:    probe,
			Interval: spec.Health.Interval,
			Timeout:  spec.Health.Timeout,
			Jitter:   spec.Health.Jitter,
			Rise:     spec.Health.Rise,
			Fall:     spec.Health.Fall,
			Seed:     opts.Seed,
			OnChange: p.onCheck,
			Logger:   p.logger,
		})
		if err != nil {
			return nil, fmt.Errorf("pool %s: health: %w", spec.Name, err)
		}
	}
	p.mu.Lock()
	p.syncMembersLocked()
	p.mu.Unlock()
	if !opts.Manual {
		p.goroutines.Go(p.maintain)
	}
	return p, nil
}

// probeFor builds the active check of spec, nil when it has none.
func probeFor(spec lbconfig.Pool, tc *tls.Config) (health.Probe, error) {
	if !spec.BackendTLS {
		tc = nil
	}
	switch spec.Health.Type {
	case lbconfig.CheckTCP:
		return health.TCPProbe(), nil
	case lbconfig.CheckHTTP:
		h := spec.Health
		return health.HTTPProbe(health.HTTPCheck{Path: h.Path, Host: h.Host, Method: h.Method, Expect: h.Expect, Body: h.Body, TLS: tc})
	case lbconfig.CheckGRPC:
		return health.GRPCProbe(spec.Health.Service, tc), nil
	}
	return nil, nil
}

// Name is the pool's name.
func (p *Pool) Name() string { return p.spec.Name }

// Hashing reports whether the pool's algorithm uses the Pick key.
func (p *Pool) Hashing() bool { return p.alg.Hashing() }

// IPKey is the Pick key of a client IP address (hashed in its 16-byte form,
// so IPv4 and IPv4-mapped IPv6 agree).
func IPKey(a netip.Addr) uint64 {
	b := a.As16()
	return balance.HashKey(b[:])
}

// Spec is the pool's configuration.
func (p *Pool) Spec() lbconfig.Pool { return p.spec }

// Close stops the checks and the maintenance goroutine. Leases already
// handed out stay valid; their Done is still called.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	if p.monitor != nil {
		p.monitor.Close()
	}
	p.goroutines.Close()
}

// SetDiscovered replaces the pool's registry members. Static backends win
// over instances of the same name.
func (p *Pool) SetDiscovered(list []Discovered) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discovered = slices.Clone(list)
	p.syncMembersLocked()
}

// syncMembersLocked reconciles the members with the static and discovered
// lists: new ones are added (down until their first check passes, when the
// pool has checks), gone ones removed (their connections cut), moved ones
// replaced.
func (p *Pool) syncMembersLocked() {
	if p.closed {
		return
	}
	want := map[string]Discovered{}
	for _, d := range p.discovered {
		want[d.Name] = Discovered{Name: d.Name, Address: d.Address, Weight: max(d.Weight, 1)}
	}
	for _, b := range p.spec.Backends {
		if d, ok := want[b.Name]; ok && d.Address != b.Address {
			p.logger.Warn("registry instance shadowed by a static backend", "backend", b.Name)
		}
		want[b.Name] = Discovered{Name: b.Name, Address: b.Address, Weight: b.Weight}
	}
	now := p.now()
	for name, m := range p.members {
		if d, ok := want[name]; !ok || d.Address != m.b.Addr {
			m.remove(now)
			delete(p.members, name)
		} else {
			m.configWeight = d.Weight
		}
	}
	for name, d := range want {
		if p.members[name] == nil {
			m := newMember(d, p.monitor == nil, now)
			if a, ok := p.admin[name]; ok {
				m.applyAdmin(a, p.spec.DrainTimeout, now)
			}
			p.members[name] = m
		}
	}
	p.order = p.order[:0]
	addrs := make(map[string]string, len(p.members))
	names := make([]string, 0, len(p.members))
	for name, m := range p.members {
		p.order = append(p.order, name)
		addrs[name] = m.b.Addr
		names = append(names, name)
	}
	slices.Sort(p.order)
	if p.monitor != nil {
		p.monitor.Set(addrs)
	}
	if p.outlier != nil {
		p.outlier.SetMembers(names)
	}
	p.rebuildLocked(now)
}

// onCheck receives the active checks' verdicts.
func (p *Pool) onCheck(name string, up bool, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.members[name]
	if m == nil || m.checkUp == up {
		return
	}
	now := p.now()
	m.checkUp, m.checkReason = up, reason
	state := "down"
	if up {
		state = "up"
		m.upSince = now
	}
	m.transition(now, state, reason)
	p.logger.Info("backend health", "backend", name, "up", up, "reason", reason)
	p.rebuildLocked(now)
}

// rebuildLocked builds a new picker over the eligible members with their
// effective weights.
func (p *Pool) rebuildLocked(now time.Time) {
	if panicking := p.panicLocked(); panicking != p.panicking {
		p.panicking = panicking
		if panicking {
			p.logger.Warn("pool in panic mode: too few backends pass their health checks, ignoring the checks", "pool", p.spec.Name, "threshold_percent", p.spec.PanicThreshold)
		} else {
			p.logger.Info("pool out of panic mode", "pool", p.spec.Name)
		}
	}
	var eligible []*balance.Backend
	members := map[*balance.Backend]*member{}
	for _, name := range p.order {
		m := p.members[name]
		w := m.weight()
		m.ramping = false
		if p.spec.SlowStart > 0 && !m.upSince.IsZero() {
			share := health.SlowStart(now.Sub(m.upSince), p.spec.SlowStart)
			w = max(1, int(float64(w)*share+0.5))
			m.ramping = share < 1
		}
		m.b.SetWeight(w)
		if p.eligibleLocked(m, now) {
			eligible = append(eligible, m.b)
			members[m.b] = m
		}
	}
	opts := p.balOpts
	if box := p.picker.Load(); box != nil {
		opts.Previous = box.p
	}
	pk, err := balance.New(p.alg, eligible, opts)
	if err != nil { // the algorithm was parsed in New; cannot happen
		p.logger.Error("balancer", "err", err)
		return
	}
	old := p.picker.Swap(&pickerBox{p: pk, eligible: len(eligible), members: members, replaced: make(chan struct{})})
	if old != nil {
		close(old.replaced)
	}
}

// panicLocked reports whether fewer than spec.PanicThreshold percent of the
// enabled members pass their health checks (never with threshold 0 or no
// enabled member).
func (p *Pool) panicLocked() bool {
	if p.spec.PanicThreshold <= 0 {
		return false
	}
	enabled, up := 0, 0
	for _, m := range p.members {
		if m.admin != AdminEnabled {
			continue
		}
		enabled++
		if m.checkUp {
			up++
		}
	}
	return enabled > 0 && up*100 < p.spec.PanicThreshold*enabled
}

// Panicking reports whether the pool is in panic mode: fewer than its
// panic_threshold percent of enabled members pass their checks, so traffic
// ignores the checks.
func (p *Pool) Panicking() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.panicking
}

// eligibleLocked reports whether m may take new traffic: enabled, passing
// its checks (or the pool is in panic mode) and not ejected as an outlier.
func (p *Pool) eligibleLocked(m *member, now time.Time) bool {
	if m.admin != AdminEnabled || !m.checkUp && !p.panicking {
		return false
	}
	return p.outlier == nil || !p.outlier.Ejected(m.b.Name, now)
}

// Pick leases a member for one connection or request. key is the client's
// hash key (hashing algorithms); tried names members to avoid (earlier
// attempts). It returns ErrNoBackend when no eligible member is left.
func (p *Pool) Pick(key uint64, tried []string) (*Lease, error) {
	box := p.picker.Load()
	var skip func(*balance.Backend) bool
	if len(tried) > 0 {
		skip = func(b *balance.Backend) bool { return slices.Contains(tried, b.Name) }
	}
	b := box.p.Pick(key, skip)
	if b == nil {
		return nil, fmt.Errorf("%w in pool %s", ErrNoBackend, p.spec.Name)
	}
	return p.lease(box.members[b])
}

// WaitEligible waits until the pool has a member eligible for new traffic
// (a backend registered or came up), until timeout, or until ctx ends; it
// reports whether one is there. Frontends wait so before refusing a
// request or connection for want of a backend (the pool's queue_timeout).
func (p *Pool) WaitEligible(ctx context.Context, timeout time.Duration) bool {
	var deadline <-chan time.Time
	for {
		box := p.picker.Load()
		if box.eligible > 0 {
			return true
		}
		if deadline == nil {
			if timeout <= 0 {
				return false
			}
			t := time.NewTimer(timeout)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-box.replaced:
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// PickNamed leases the member called name if it is eligible for new
// traffic (a sticky session), else picks as Pick does.
func (p *Pool) PickNamed(name string, key uint64, tried []string) (*Lease, error) {
	if name != "" && !slices.Contains(tried, name) {
		p.mu.Lock()
		m := p.members[name]
		ok := m != nil && p.eligibleLocked(m, p.now())
		p.mu.Unlock()
		if ok {
			if l, err := p.lease(m); err == nil {
				return l, nil
			}
		}
	}
	return p.Pick(key, tried)
}

// lease starts a lease of m: the hot path of every connection and request,
// so it takes no pool lock.
func (p *Pool) lease(m *member) (*Lease, error) {
	if m == nil || m.removed.Load() { // removed since the picker was built
		return nil, fmt.Errorf("%w in pool %s", ErrNoBackend, p.spec.Name)
	}
	m.b.Begin()
	m.total.Add(1)
	return &Lease{pool: p, m: m, cut: m.cutContext(), start: p.now()}, nil
}

// Lease is one connection's or request's use of a member.
type Lease struct {
	pool  *Pool
	m     *member
	cut   context.Context // the member's cut context when the lease began
	start time.Time
	done  atomic.Bool
}

// Name is the member's name.
func (l *Lease) Name() string { return l.m.b.Name }

// Addr is the member's address.
func (l *Lease) Addr() string { return l.m.b.Addr }

// Expired is closed when the lease's connection must be cut: the member's
// drain deadline passed, it was disabled, or it left the pool.
func (l *Lease) Expired() <-chan struct{} { return l.cut.Done() }

// CutContext is done when Expired is closed, for context.AfterFunc: an
// HTTP request cancels its upstream call with it without a goroutine.
func (l *Lease) CutContext() context.Context { return l.cut }

// Done ends the lease: failed reports a failure of the backend (connect
// refused, reset, a 5xx from it), latency the time to its answer (0 when
// unknown). Calls after the first are ignored.
func (l *Lease) Done(failed bool, latency time.Duration) {
	if l.done.Swap(true) {
		return
	}
	p, m := l.pool, l.m
	m.b.End(latency)
	now := p.now()
	m.observe(now, latency, failed)
	if p.outlier == nil {
		return
	}
	if ejected, reason := p.outlier.Record(m.b.Name, failed, now); ejected {
		p.mu.Lock()
		if p.members[m.b.Name] == m {
			m.wasEjected = true
			m.transition(now, "ejected", reason)
			p.logger.Warn("backend ejected", "backend", m.b.Name, "reason", reason)
			p.rebuildLocked(now)
		}
		p.mu.Unlock()
	}
}

// maintain runs Maintain every tick until Close.
func (p *Pool) maintain() {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.Maintain()
		}
	}
}

// Maintain ends ejections that ran out, ramps slow-start weights and cuts
// the connections of drained members whose deadline passed. The pool calls
// it every 200ms; tests with Options.Manual call it after moving their clock.
func (p *Pool) Maintain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	now := p.now()
	rebuild := false
	for _, name := range p.order {
		m := p.members[name]
		if m.admin == AdminDraining && !m.drainDeadline.IsZero() && !now.Before(m.drainDeadline) {
			m.cut()
		}
		ejected := p.outlier != nil && p.outlier.Ejected(name, now)
		if m.wasEjected && !ejected {
			m.transition(now, "returned", "ejection ended")
			m.upSince = now
			rebuild = true
		}
		m.wasEjected = ejected
		if m.ramping {
			rebuild = true
		}
	}
	if rebuild {
		p.rebuildLocked(now)
	}
}
