package protect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// DetectorConfig configures an AttackDetector. Zero fields take the
// defaults named.
type DetectorConfig struct {
	// Window is how far back outcomes count (default 10 s); it is kept as
	// Slots sub-windows, so it slides in steps of Window/Slots.
	Window time.Duration
	// Slots is the number of sub-windows (default 10, at most 1000).
	Slots int
	// MinSamples is how many outcomes the window must hold before it can
	// declare the origin overwhelmed (default 20).
	MinSamples int
	// ErrorRateOn is the error rate (0..1] at or above which the origin is
	// overwhelmed (default 0.5); ErrorRateOff the rate at or below which it
	// may recover (default 0.2, below ErrorRateOn).
	ErrorRateOn, ErrorRateOff float64
	// LatencyOn is the 90th percentile latency at or above which the origin
	// is overwhelmed (default 2 s); LatencyOff the one at or below which it
	// may recover (default 500 ms, below LatencyOn).
	LatencyOn, LatencyOff time.Duration
	// MinOn is the least time the detector stays overwhelmed once it says
	// so (default 30 s), so it does not flap.
	MinOn time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// OnChange, when set, is told each change of state: calls are one at a
	// time, alternate between true and false (starting with true), and each
	// passes the state as it was when the call began; a change undone
	// before it was told may be skipped. It is called from the goroutine
	// that changed the state (a Record, Overwhelmed or Stats caller), with
	// no lock of the detector held, so it may call the detector.
	OnChange func(overwhelmed bool)
	// Logger receives a line per change of state (nil: slog.Default()).
	Logger *slog.Logger
}

func (c *DetectorConfig) setDefaults() error {
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	if c.Slots == 0 {
		c.Slots = 10
	}
	if c.MinSamples == 0 {
		c.MinSamples = 20
	}
	if c.ErrorRateOn == 0 {
		c.ErrorRateOn = 0.5
	}
	if c.ErrorRateOff == 0 {
		c.ErrorRateOff = min(0.2, c.ErrorRateOn/2)
	}
	if c.LatencyOn == 0 {
		c.LatencyOn = 2 * time.Second
	}
	if c.LatencyOff == 0 {
		c.LatencyOff = min(500*time.Millisecond, c.LatencyOn/2)
	}
	if c.MinOn == 0 {
		c.MinOn = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.Slots < 1 || c.Slots > 1000:
		return fmt.Errorf("%w: Slots is %d, it must be within 1..1000", ErrInvalidConfig, c.Slots)
	case c.Window < time.Duration(c.Slots)*time.Millisecond:
		return fmt.Errorf("%w: Window is %v, it must be at least 1ms per slot (%d slots)", ErrInvalidConfig, c.Window, c.Slots)
	case c.MinSamples < 1:
		return fmt.Errorf("%w: MinSamples is %d, it must be at least 1", ErrInvalidConfig, c.MinSamples)
	case !(c.ErrorRateOn > 0 && c.ErrorRateOn <= 1):
		return fmt.Errorf("%w: ErrorRateOn is %v, it must be within (0, 1]", ErrInvalidConfig, c.ErrorRateOn)
	case !(c.ErrorRateOff >= 0 && c.ErrorRateOff < c.ErrorRateOn):
		return fmt.Errorf("%w: ErrorRateOff is %v, it must be within [0, ErrorRateOn %v)", ErrInvalidConfig, c.ErrorRateOff, c.ErrorRateOn)
	case c.LatencyOn < 0:
		return fmt.Errorf("%w: LatencyOn is %v, it must be positive", ErrInvalidConfig, c.LatencyOn)
	case c.LatencyOff < 0 || c.LatencyOff >= c.LatencyOn:
		return fmt.Errorf("%w: LatencyOff is %v, it must be within [0, LatencyOn %v)", ErrInvalidConfig, c.LatencyOff, c.LatencyOn)
	case c.MinOn < 0:
		return fmt.Errorf("%w: MinOn is %v, it must be >= 0", ErrInvalidConfig, c.MinOn)
	}
	return nil
}

// AttackDetector watches the outcomes of origin fetches over a sliding
// window and says when the origin is overwhelmed, with hysteresis:
//
//   - it turns on when the window holds at least MinSamples outcomes and
//     their error rate is at least ErrorRateOn or their 90th percentile
//     latency at least LatencyOn;
//   - once on, it stays on for at least MinOn, then turns off when the
//     window's error rate is at most ErrorRateOff and its p90 at most
//     LatencyOff — or when the window holds fewer than MinSamples outcomes:
//     while on, the cache fetches little, so no news lets it probe the origin
//     again rather than staying on for good.
//
// The state is re-evaluated on every Record, Overwhelmed and Stats call.
// The p90 is read from a log-scale histogram (within 19% above the true
// value). An AttackDetector is safe for concurrent use.
type AttackDetector struct {
	cfg     DetectorConfig
	slotDur time.Duration

	mu    sync.Mutex // protects the fields below
	slots []slot
	total slot      // the sum of slots
	epoch time.Time // start of slot number 0
	cur   int64     // absolute number of the newest slot
	on    bool
	since time.Time // when on last changed
	flips uint64
	told  bool // the state OnChange was last told (false before the first call)

	notifyMu sync.Mutex // held while OnChange runs; taken only with TryLock
}

type slot struct {
	n, errs uint64
	hist    [latencyBins]uint32
}

// DetectorStats is the detector's view of its window.
type DetectorStats struct {
	Samples     uint64        // outcomes in the window
	Errors      uint64        // failed outcomes in the window
	ErrorRate   float64       // Errors/Samples (0 without samples)
	P90         time.Duration // 90th percentile latency (0 without samples)
	Overwhelmed bool
	Since       time.Time // when Overwhelmed last changed (zero: never)
	Changes     uint64    // how many times Overwhelmed changed
}

// NewAttackDetector returns a detector in the not-overwhelmed state, or an
// error naming the bad field.
func NewAttackDetector(cfg DetectorConfig) (*AttackDetector, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &AttackDetector{
		cfg:     cfg,
		slotDur: cfg.Window / time.Duration(cfg.Slots),
		slots:   make([]slot, cfg.Slots),
		epoch:   cfg.Now(),
	}, nil
}

// Record adds one origin outcome: whether it failed and how long it took.
func (d *AttackDetector) Record(failed bool, latency time.Duration) {
	now := d.cfg.Now()
	d.mu.Lock()
	d.advance(now)
	s := &d.slots[d.cur%int64(len(d.slots))]
	bin := latencyBin(max(0, latency))
	for _, x := range []*slot{s, &d.total} {
		x.n++
		if failed {
			x.errs++
		}
		x.hist[bin]++
	}
	changed := d.evaluate(now)
	d.mu.Unlock()
	if changed {
		d.notify()
	}
}

// Overwhelmed reports whether the origin is overwhelmed now.
func (d *AttackDetector) Overwhelmed() bool {
	now := d.cfg.Now()
	d.mu.Lock()
	d.advance(now)
	changed := d.evaluate(now)
	on := d.on
	d.mu.Unlock()
	if changed {
		d.notify()
	}
	return on
}

// Stats reports the window and the state now.
func (d *AttackDetector) Stats() DetectorStats {
	now := d.cfg.Now()
	d.mu.Lock()
	d.advance(now)
	changed := d.evaluate(now)
	st := d.window()
	st.Overwhelmed, st.Since, st.Changes = d.on, d.since, d.flips
	d.mu.Unlock()
	if changed {
		d.notify()
	}
	return st
}

// Wrap returns fetch recording each call's outcome: failed when it returns
// an error or a 500, 502, 503 or 504 response, with the time until it
// returned (the response headers). A call whose context ended (the client
// went away) records nothing. The result has the shape of httpcache.Fetch.
func (d *AttackDetector) Wrap(fetch func(context.Context, *http.Request) (*http.Response, error)) func(context.Context, *http.Request) (*http.Response, error) {
	return func(ctx context.Context, r *http.Request) (*http.Response, error) {
		start := d.cfg.Now()
		resp, err := fetch(ctx, r)
		latency := d.cfg.Now().Sub(start)
		switch {
		case err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled)):
		case err != nil:
			d.Record(true, latency)
		default:
			switch resp.StatusCode {
			case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				d.Record(true, latency)
			default:
				d.Record(false, latency)
			}
		}
		return resp, err
	}
}

// advance moves the window to now, clearing slots that fell out of it.
// d.mu must be held. A clock that goes back leaves the window where it is.
func (d *AttackDetector) advance(now time.Time) {
	n := int64(now.Sub(d.epoch) / d.slotDur)
	if n <= d.cur {
		return
	}
	stale := min(n-d.cur, int64(len(d.slots)))
	for i := int64(1); i <= stale; i++ {
		s := &d.slots[(d.cur+i)%int64(len(d.slots))]
		if s.n == 0 {
			continue
		}
		d.total.n -= s.n
		d.total.errs -= s.errs
		for b, c := range s.hist {
			d.total.hist[b] -= c
		}
		*s = slot{}
	}
	d.cur = n
}

// window summarises the slots. d.mu must be held.
func (d *AttackDetector) window() DetectorStats {
	st := DetectorStats{Samples: d.total.n, Errors: d.total.errs}
	if st.Samples > 0 {
		st.ErrorRate = float64(st.Errors) / float64(st.Samples)
		st.P90 = quantile(&d.total.hist, st.Samples, 0.9)
	}
	return st
}

// evaluate applies the hysteresis rules and reports whether the state
// changed. d.mu must be held.
func (d *AttackDetector) evaluate(now time.Time) bool {
	st := d.window()
	enough := st.Samples >= uint64(d.cfg.MinSamples)
	var next bool
	if !d.on {
		next = enough && (st.ErrorRate >= d.cfg.ErrorRateOn || st.P90 >= d.cfg.LatencyOn)
	} else {
		recovered := !enough || (st.ErrorRate <= d.cfg.ErrorRateOff && st.P90 <= d.cfg.LatencyOff)
		next = !(recovered && now.Sub(d.since) >= d.cfg.MinOn)
	}
	if next == d.on {
		return false
	}
	d.on, d.since = next, now
	d.flips++
	d.cfg.Logger.Warn("protect: origin overwhelmed state changed", "overwhelmed", next,
		"samples", st.Samples, "error_rate", st.ErrorRate, "p90", st.P90)
	return true
}

// notify brings OnChange up to date with the state. One goroutine at a time
// notifies; one that finds another notifying leaves the news to it, and
// the notifier looks again after releasing notifyMu, so no change is left
// untold.
func (d *AttackDetector) notify() {
	if d.cfg.OnChange == nil {
		return
	}
	for d.notifyMu.TryLock() {
		d.mu.Lock()
		on, told := d.on, d.told
		d.told = on
		d.mu.Unlock()
		if on != told {
			d.cfg.OnChange(on)
		}
		d.notifyMu.Unlock()
		d.mu.Lock()
		settled := d.on == d.told
		d.mu.Unlock()
		if settled {
			return
		}
	}
}
