package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/registry"
)

// Options are a Pool's collaborators; every field may be zero.
type Options struct {
	// Resolver supplies the targets of an upstream that names a service
	// (registry.Resolver for the raftkv registry, registry.Static for a fixed
	// table); required for those, unused otherwise.
	Resolver registry.Watcher
	// Now is the clock of the breaker and the ejections; default time.Now.
	Now func() time.Time
	// Logger receives breaker state changes and ejections; default
	// discards.
	Logger *slog.Logger
	// Rand draws the random choices of least_request and random. The pool
	// owns it from New on (it is not safe for concurrent use); default a
	// generator seeded at random. Tests pass one made from a logged seed.
	Rand *rand.Rand
}

// Pool balances the requests to one upstream over its targets and keeps its
// health: see the package documentation. Its methods are safe for concurrent
// use.
type Pool struct {
	name      string
	now       func() time.Time
	logger    *slog.Logger
	ready     chan struct{}
	readyOnce sync.Once
	stopWatch func() // ends the resolver watch; nil for a static list
	closeOnce sync.Once

	// mu guards everything below and every target's fields. It is never held
	// while calling the resolver or the logger (only the clock).
	mu      sync.Mutex
	closed  bool
	targets []*target // the current members, in resolver or document order
	cands   []*target // scratch for Pick
	rnd     *rand.Rand
	bal     balance
	br      breaker
	out     outlier
}

// New returns a pool for spec. A static upstream has its targets at once; an
// upstream naming a service gets them from opts.Resolver, which New starts
// watching (until Close); until the resolver answers, Pick fails with
// ErrNoTargets. A nil spec.CircuitBreaker disables the breaker and a nil
// spec.Outlier disables ejection; zero fields in them take the package
// defaults (DefaultMinRequests, ...), except the breaker's
// ConsecutiveFailures, where zero disables that trigger. New fails with
// ErrInvalidSpec.
func New(spec gwconfig.Upstream, opts Options) (*Pool, error) {
	bal, err := parseBalance(spec.Balance)
	if err != nil {
		return nil, err
	}
	switch {
	case len(spec.Targets) > 0 && spec.Service != "":
		return nil, fmt.Errorf("%w: upstream %q has both targets and a service", ErrInvalidSpec, spec.Name)
	case len(spec.Targets) == 0 && spec.Service == "":
		return nil, fmt.Errorf("%w: upstream %q has neither targets nor a service", ErrInvalidSpec, spec.Name)
	case spec.Service != "" && opts.Resolver == nil:
		return nil, fmt.Errorf("%w: upstream %q names service %q but no resolver was given", ErrInvalidSpec, spec.Name, spec.Service)
	}
	p := &Pool{
		name:   spec.Name,
		now:    opts.Now,
		logger: opts.Logger,
		ready:  make(chan struct{}),
		rnd:    opts.Rand,
		bal:    bal,
		br:     newBreaker(spec.CircuitBreaker),
		out:    newOutlier(spec.Outlier),
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.logger = p.logger.With("upstream", spec.Name)
	if p.rnd == nil {
		p.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if spec.Service == "" {
		p.SetTargets(spec.Targets)
		return p, nil
	}
	p.stopWatch = opts.Resolver.Watch(context.Background(), spec.Service, p.setInstances)
	return p, nil
}

// Name returns the upstream's name.
func (p *Pool) Name() string { return p.name }

// Ready is closed once the pool has had a target list (at once for a static
// upstream), even an empty one.
func (p *Pool) Ready() <-chan struct{} { return p.ready }

// setInstances is the resolver's callback: the instances' addresses and
// weights become the pool's targets (see SetTargets).
func (p *Pool) setInstances(list []registry.Instance) {
	targets := make([]gwconfig.Target, len(list))
	for i, in := range list {
		targets[i] = gwconfig.Target{Address: in.Address, Weight: in.Weight}
	}
	p.SetTargets(targets)
}

// SetTargets replaces the pool's members; the resolver of a service
// upstream calls it (through setInstances) on every change (a caller setting targets of such a
// pool races with the resolver: the later call wins). Targets that stay
// (same address) keep their counts, in-flight requests and ejection; a
// weight below 1 counts as 1; empty and repeated addresses are skipped. Removed targets leave at once (their in-flight
// requests still release normally). When the new list allows fewer
// ejections than are in force, those due to end soonest end now.
func (p *Pool) SetTargets(list []gwconfig.Target) {
	p.mu.Lock()
	old := make(map[string]*target, len(p.targets))
	for _, t := range p.targets {
		old[t.addr] = t
	}
	next := make([]*target, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, gt := range list {
		if gt.Address == "" || seen[gt.Address] {
			continue
		}
		seen[gt.Address] = true
		t := old[gt.Address]
		if t == nil {
			t = &target{addr: gt.Address, member: true}
		}
		delete(old, gt.Address)
		t.weight = max(gt.Weight, 1)
		next = append(next, t)
	}
	for _, t := range old {
		t.member, t.ejected = false, false
	}
	p.targets = next
	if cap(p.cands) < len(next) {
		p.cands = make([]*target, 0, len(next))
	}
	if p.out.enabled {
		p.out.rebalance(p.now(), next)
	}
	p.mu.Unlock()
	p.readyOnce.Do(func() { close(p.ready) })
}

// Pick chooses the target for one request, skipping ejected targets and the
// target whose address is exclude (the one a retry just failed on) unless it
// is the only one left. On success the caller must call the returned
// Release exactly once. Errors: ErrCircuitOpen while the breaker refuses,
// ErrNoTargets when no target is eligible, ErrClosed after Close. An ejected
// target is never returned before its ejection ends.
func (p *Pool) Pick(exclude string) (Target, Release, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Target{}, nil, ErrClosed
	}
	var now time.Time
	if p.br.needsClock() || p.out.ejected > 0 {
		now = p.now()
		p.out.expire(now, p.targets)
	}
	before := p.br.state
	gen, probe, ok := p.br.admit(now)
	if p.br.state != before {
		defer p.logBreaker(before, p.br.state) // runs after the unlock below
	}
	if !ok {
		p.mu.Unlock()
		return Target{}, nil, ErrCircuitOpen
	}
	cands := p.candidates(exclude)
	if len(cands) == 0 {
		p.br.unadmit(gen, probe)
		p.mu.Unlock()
		return Target{}, nil, ErrNoTargets
	}
	t := p.bal.choose(cands, p.rnd)
	t.inflight++
	t.requests++
	tk := &ticket{p: p, t: t, gen: gen, epoch: t.epoch, probe: probe}
	picked := Target{Address: t.addr, Weight: t.weight}
	p.mu.Unlock()
	return picked, tk.release, nil
}

// candidates returns the targets Pick may choose from: the members not
// ejected and not exclude, or, when that leaves none, the members not
// ejected. The result aliases pool state: use it under p.mu only.
func (p *Pool) candidates(exclude string) []*target {
	if p.out.ejected == 0 && exclude == "" {
		return p.targets // the common case: everyone is eligible
	}
	cands := p.cands[:0]
	for _, t := range p.targets {
		if !t.ejected && t.addr != exclude {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 && exclude != "" {
		for _, t := range p.targets {
			if !t.ejected {
				cands = append(cands, t)
			}
		}
	}
	p.cands = cands[:0]
	return cands
}

// ticket is the state of one Pick until its release.
type ticket struct {
	p     *Pool
	t     *target
	gen   uint64 // breaker generation that admitted the request
	epoch uint32 // the target's ejection epoch at the pick
	probe bool
	done  atomic.Bool
}

func (k *ticket) release(r Result) {
	if k.done.Swap(true) {
		return
	}
	p, t := k.p, k.t
	failed := r.Kind.Failed()
	p.mu.Lock()
	t.inflight--
	t.observeLatency(r.Latency)
	if failed {
		t.failures++
	}
	if !p.br.enabled && !p.out.enabled {
		p.mu.Unlock()
		return
	}
	now := p.now()
	before := p.br.state
	p.br.record(now, k.gen, k.probe, r.Kind)
	after := p.br.state
	var ejectedFor time.Duration
	var ejected bool
	if r.Kind != KindClientGone {
		p.out.expire(now, p.targets)
		ejectedFor, ejected = p.out.record(now, t, k.epoch, failed, len(p.targets))
	}
	p.mu.Unlock()
	if before != after {
		p.logBreaker(before, after)
	}
	if ejected {
		p.logger.Warn("upstream target ejected", "target", t.addr, "for", ejectedFor)
	}
}

// logBreaker logs a breaker state change: opening as a warning.
func (p *Pool) logBreaker(from, to breakerState) {
	level := slog.LevelInfo
	if to == stateOpen {
		level = slog.LevelWarn
	}
	p.logger.Log(context.Background(), level, "upstream circuit breaker", "from", from.String(), "to", to.String())
}

// Close stops the resolver watch and makes Pick fail with ErrClosed.
// Releases of requests in flight still work. Close is idempotent.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		if p.stopWatch != nil {
			p.stopWatch()
		}
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
	})
}
