package health

import (
	"fmt"
	"math"
	"sync"
	"time"

	"cairn.dev/cairn/node/ratewindow"
)

// Outlier detection defaults, used for zero fields of OutlierConfig.
const (
	DefaultConsecutiveFailures = 5
	DefaultWindow              = 10 * time.Second
	DefaultMinRequests         = 20
	DefaultBaseEjection        = 5 * time.Second
	DefaultMaxEjection         = 5 * time.Minute
	DefaultMaxEjectedPercent   = 50
)

// OutlierConfig is passive health checking: the results of real traffic eject
// failing backends for a while. Zero fields take the defaults above, so the
// zero OutlierConfig ejects after 5 consecutive failures and does not look at
// the failure rate.
type OutlierConfig struct {
	// ConsecutiveFailures ejects a backend after this many failures in a row
	// (default 5); a negative value turns this rule off.
	ConsecutiveFailures int
	// FailureRate ejects a backend when failures/results over Window reach it,
	// once at least MinRequests results were counted there. 0 turns this rule
	// off; at most 1.
	FailureRate float64
	Window      time.Duration // default 10s; counted in 10 slots, so the rate covers the last 90–100% of it
	MinRequests int           // default 20
	// BaseEjection is how long a backend's first ejection lasts (default 5s).
	// Each further ejection doubles it, up to MaxEjection (default 5m, or
	// BaseEjection if that is longer). The doubling decays: for each full
	// MaxEjection a backend spends un-ejected after its last ejection ended,
	// the multiplier halves again, so a backend that stays healthy for a few
	// MaxEjection periods is back at BaseEjection, while one that keeps
	// failing soon after coming back is ejected for ever longer.
	BaseEjection time.Duration
	MaxEjection  time.Duration
	// MaxEjectedPercent caps how many members are ejected at once: at most
	// this share of them, rounded down (default 50, at most 100), but at
	// least one when there are two or more members, and never all of them.
	// A backend that meets an ejection rule while the cap is reached is not
	// ejected; its counts stay, so its next failure tries again.
	MaxEjectedPercent int
}

// withDefaults validates c and fills its zero fields.
func (c OutlierConfig) withDefaults() (OutlierConfig, error) {
	if c.ConsecutiveFailures == 0 {
		c.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if math.IsNaN(c.FailureRate) || c.FailureRate < 0 || c.FailureRate > 1 {
		return c, fmt.Errorf("%w: OutlierConfig.FailureRate is %v, it must be in 0..1", ErrInvalidConfig, c.FailureRate)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Window < 0 {
		return c, fmt.Errorf("%w: OutlierConfig.Window is %v, it must be positive", ErrInvalidConfig, c.Window)
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultMinRequests
	}
	if c.MinRequests < 0 {
		return c, fmt.Errorf("%w: OutlierConfig.MinRequests is %d, the minimum is 1", ErrInvalidConfig, c.MinRequests)
	}
	if c.BaseEjection == 0 {
		c.BaseEjection = DefaultBaseEjection
	}
	if c.BaseEjection < 0 {
		return c, fmt.Errorf("%w: OutlierConfig.BaseEjection is %v, it must be positive", ErrInvalidConfig, c.BaseEjection)
	}
	if c.MaxEjection == 0 {
		c.MaxEjection = max(DefaultMaxEjection, c.BaseEjection)
	}
	if c.MaxEjection < c.BaseEjection {
		return c, fmt.Errorf("%w: OutlierConfig.MaxEjection is %v, it must be at least BaseEjection (%v)", ErrInvalidConfig, c.MaxEjection, c.BaseEjection)
	}
	if c.MaxEjectedPercent == 0 {
		c.MaxEjectedPercent = DefaultMaxEjectedPercent
	}
	if c.MaxEjectedPercent < 0 || c.MaxEjectedPercent > 100 {
		return c, fmt.Errorf("%w: OutlierConfig.MaxEjectedPercent is %d, it must be in 1..100", ErrInvalidConfig, c.MaxEjectedPercent)
	}
	return c, nil
}

// Outlier ejects members whose traffic fails (see OutlierConfig). It is safe
// for concurrent use. Time is passed in by the caller (a fake clock in tests);
// ejections end lazily when a call sees a time past their end, and callers
// that cache the eligible set should rebuild it at NextChange.
type Outlier struct {
	cfg      OutlierConfig
	maxLevel int // the backoff level at which an ejection reaches MaxEjection

	mu      sync.Mutex // protects the fields below
	members map[string]*outlierMember
	latest  time.Time // the latest time passed in; SetMembers works at it
}

// outlierMember is the detector's state for one member.
type outlierMember struct {
	failRun int // consecutive failures since the last success or ejection
	window  ratewindow.Window
	ejected bool
	until   time.Time // end of the current (or the latest) ejection
	level   int       // backoff level: the latest ejection lasted BaseEjection·2^(level-1), capped
}

// NewOutlier validates cfg and returns a detector with no members.
func NewOutlier(cfg OutlierConfig) (*Outlier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := &Outlier{cfg: cfg, members: map[string]*outlierMember{}, maxLevel: 1}
	for d := cfg.BaseEjection; d < cfg.MaxEjection && d <= math.MaxInt64/2; d *= 2 {
		o.maxLevel++
	}
	return o, nil
}

// SetMembers makes names the members. New members start clean; state of
// those no longer named is forgotten. When fewer members make the
// MaxEjectedPercent cap smaller than the number ejected, the ejections due to
// end soonest end now (the latest time any call passed in).
func (o *Outlier) SetMembers(names []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
		if o.members[n] == nil {
			o.members[n] = &outlierMember{window: ratewindow.New(o.cfg.Window)}
		}
	}
	for n := range o.members {
		if !keep[n] {
			delete(o.members, n)
		}
	}
	now := o.latest
	for o.ejectedCount(now) > o.maxEjected(len(o.members)) {
		var first *outlierMember
		for _, m := range o.members {
			if m.ejected && (first == nil || m.until.Before(first.until)) {
				first = m
			}
		}
		first.until = now
		first.end()
	}
}

// Record counts the result of one request or connection to the named member
// at now and reports whether it ejected the member, with the reason ("5
// consecutive failures; ejected for 10s"). Results for names that are not
// members, and results arriving while the member is ejected (traffic sent
// before the ejection), are ignored.
func (o *Outlier) Record(name string, failed bool, now time.Time) (ejected bool, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.see(now)
	m := o.members[name]
	if m == nil {
		return false, ""
	}
	m.expire(now)
	if m.ejected {
		return false, ""
	}
	if o.cfg.FailureRate > 0 {
		m.window.Add(now, failed)
	}
	if !failed {
		m.failRun = 0
		return false, ""
	}
	m.failRun++
	switch {
	case o.cfg.ConsecutiveFailures > 0 && m.failRun >= o.cfg.ConsecutiveFailures:
		reason = fmt.Sprintf("%d consecutive failures", m.failRun)
	case o.cfg.FailureRate > 0:
		total, failures := m.window.Counts(now)
		if total < o.cfg.MinRequests || float64(failures) < o.cfg.FailureRate*float64(total) {
			return false, ""
		}
		reason = fmt.Sprintf("failure rate %.0f%% (%d of %d) over %v", 100*float64(failures)/float64(total), failures, total, o.cfg.Window)
	default:
		return false, ""
	}
	if o.ejectedCount(now) >= o.maxEjected(len(o.members)) {
		return false, ""
	}
	d := o.eject(m, now)
	return true, fmt.Sprintf("%s; ejected for %v", reason, d)
}

// eject ejects m at now and returns for how long.
func (o *Outlier) eject(m *outlierMember, now time.Time) time.Duration {
	if m.level > 0 && now.After(m.until) {
		decay := int64(now.Sub(m.until) / o.cfg.MaxEjection)
		m.level = int(max(int64(m.level)-decay, 0))
	}
	m.level = min(m.level+1, o.maxLevel)
	d := min(o.cfg.BaseEjection<<(m.level-1), o.cfg.MaxEjection)
	m.ejected, m.until = true, now.Add(d)
	m.failRun = 0
	m.window.Reset()
	return d
}

// Ejected reports whether the named member is ejected at now; false once its
// ejection ran out, and for names that are not members.
func (o *Outlier) Ejected(name string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.see(now)
	m := o.members[name]
	if m == nil {
		return false
	}
	m.expire(now)
	return m.ejected
}

// NextChange returns the earliest end of a current ejection, so that a pool
// can rebuild its picker then, and false when no member is ejected at now.
func (o *Outlier) NextChange(now time.Time) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.see(now)
	var next time.Time
	for _, m := range o.members {
		m.expire(now)
		if m.ejected && (next.IsZero() || m.until.Before(next)) {
			next = m.until
		}
	}
	return next, !next.IsZero()
}

// see notes now as the latest time passed in. Callers hold mu.
func (o *Outlier) see(now time.Time) {
	if now.After(o.latest) {
		o.latest = now
	}
}

// ejectedCount ends the ejections over at now and counts the others. Callers
// hold mu.
func (o *Outlier) ejectedCount(now time.Time) int {
	n := 0
	for _, m := range o.members {
		m.expire(now)
		if m.ejected {
			n++
		}
	}
	return n
}

// maxEjected is how many of n members may be ejected at once.
func (o *Outlier) maxEjected(n int) int {
	if n < 2 {
		return 0
	}
	return min(max(n*o.cfg.MaxEjectedPercent/100, 1), n-1)
}

// expire ends m's ejection if it is over at now.
func (m *outlierMember) expire(now time.Time) {
	if m.ejected && !now.Before(m.until) {
		m.end()
	}
}

// end ends m's ejection (at m.until) and starts its counts afresh.
func (m *outlierMember) end() {
	m.ejected, m.failRun = false, 0
	m.window.Reset()
}
