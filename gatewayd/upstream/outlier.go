package upstream

import (
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Outlier detection defaults, used for zero fields of gwconfig.Outlier.
const (
	DefaultOutlierFailures   = 5
	DefaultBaseEjection      = 30 * time.Second
	DefaultMaxEjection       = 5 * time.Minute
	DefaultMaxEjectedPercent = 50
)

// outlier ejects single targets. A target whose reported results fail
// consecutive times in a row is ejected for base × the number of its recent
// ejections, at most maxTime; the count of recent ejections starts again
// when the target went maxTime since its last ejection ended without being
// ejected. At most maxEjected(n) of n targets are ejected at once, and never
// all of them: a target that reaches the failure count while the limit is
// reached stays eligible and is ejected at its next failure after room
// appears. Results of requests picked before a target's latest ejection are
// not counted for it.
//
// Ejections end lazily: expire, called before every decision that depends on
// them, clears those whose time is up. It is not safe for concurrent use: the
// pool's mutex guards it and the targets.
type outlier struct {
	enabled     bool
	consecutive int
	base        time.Duration
	maxTime     time.Duration
	percent     int

	ejected int       // member targets currently ejected
	nextEnd time.Time // earliest end of a current ejection
}

func newOutlier(spec *gwconfig.Outlier) outlier {
	if spec == nil {
		return outlier{}
	}
	o := outlier{
		enabled:     true,
		consecutive: spec.ConsecutiveFailures,
		base:        spec.BaseEjection,
		maxTime:     spec.MaxEjection,
		percent:     spec.MaxEjectedPercent,
	}
	if o.consecutive <= 0 {
		o.consecutive = DefaultOutlierFailures
	}
	if o.base <= 0 {
		o.base = DefaultBaseEjection
	}
	if o.maxTime <= 0 {
		o.maxTime = DefaultMaxEjection
	}
	o.maxTime = max(o.maxTime, o.base)
	if o.percent <= 0 {
		o.percent = DefaultMaxEjectedPercent
	}
	o.percent = min(o.percent, 100)
	return o
}

// maxEjected is how many of n targets may be ejected at once: the percent
// rule rounded down, and never all of them.
func (o *outlier) maxEjected(n int) int {
	return max(min(n*o.percent/100, n-1), 0)
}

// expire ends the ejections whose time is up at now.
func (o *outlier) expire(now time.Time, targets []*target) {
	if o.ejected == 0 || now.Before(o.nextEnd) {
		return
	}
	o.recount(now, targets)
}

// recount clears the ejections over at now and recomputes ejected and
// nextEnd.
func (o *outlier) recount(now time.Time, targets []*target) {
	o.ejected, o.nextEnd = 0, time.Time{}
	for _, t := range targets {
		if !t.ejected {
			continue
		}
		if !now.Before(t.ejectedUntil) {
			o.end(t, t.ejectedUntil)
			continue
		}
		o.ejected++
		if o.nextEnd.IsZero() || t.ejectedUntil.Before(o.nextEnd) {
			o.nextEnd = t.ejectedUntil
		}
	}
}

// end ends t's ejection at the given time.
func (o *outlier) end(t *target, at time.Time) {
	t.ejected, t.failRun, t.lastEnd = false, 0, at
}

// record counts one result of a request picked from t at ejection epoch
// epoch, among n member targets, and reports whether it ejected t and for
// how long. Call expire first.
func (o *outlier) record(now time.Time, t *target, epoch uint32, failed bool, n int) (time.Duration, bool) {
	if !o.enabled || !t.member || t.ejected || epoch != t.epoch {
		return 0, false
	}
	if !failed {
		t.failRun = 0
		return 0, false
	}
	t.failRun++
	if t.failRun < o.consecutive || o.ejected >= o.maxEjected(n) {
		return 0, false
	}
	if t.times > 0 && now.Sub(t.lastEnd) >= o.maxTime {
		t.times = 0
	}
	t.times++
	d := min(o.base*time.Duration(t.times), o.maxTime)
	t.ejected, t.ejectedUntil, t.lastEnd, t.failRun = true, now.Add(d), now.Add(d), 0
	t.ejections++
	t.epoch++
	o.ejected++
	if o.nextEnd.IsZero() || t.ejectedUntil.Before(o.nextEnd) {
		o.nextEnd = t.ejectedUntil
	}
	return d, true
}

// rebalance runs after the member list changed to targets: it clears
// expired ejections and, when more targets are ejected than the new list
// allows, ends the ejections due soonest early.
func (o *outlier) rebalance(now time.Time, targets []*target) {
	o.recount(now, targets)
	for o.ejected > o.maxEjected(len(targets)) {
		var first *target
		for _, t := range targets {
			if t.ejected && (first == nil || t.ejectedUntil.Before(first.ejectedUntil)) {
				first = t
			}
		}
		o.end(first, now)
		o.recount(now, targets)
	}
}
