package upstream

import (
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/ratewindow"
)

// Breaker defaults, used for zero fields of gwconfig.CircuitBreaker (except
// ConsecutiveFailures, where zero disables that trigger).
const (
	DefaultBreakerWindow    = 10 * time.Second
	DefaultMinRequests      = 20
	DefaultErrorRate        = 0.5
	DefaultOpenFor          = 5 * time.Second
	DefaultHalfOpenRequests = 3
)

// breakerState is the state of a circuit breaker.
type breakerState int

const (
	stateClosed breakerState = iota
	stateOpen
	stateHalfOpen
)

// String returns the name Stats reports: closed, open or half_open.
func (s breakerState) String() string {
	switch s {
	case stateOpen:
		return "open"
	case stateHalfOpen:
		return "half_open"
	}
	return "closed"
}

// breaker is a pool's circuit breaker. Closed, it lets every request through
// and opens when, over the rolling window, at least minRequests results were
// seen and the failure share reached errorRate, or when consecutive results
// failed. Open, it refuses every request for openFor, then turns half-open:
// it admits halfOpen probe requests; when all of them succeed it closes, when
// one fails it opens again. Each state change starts a new generation, and a
// result is counted only by the generation that admitted its request, so a
// slow answer to a request sent before the breaker opened cannot decide a
// half-open probe round.
//
// A breaker built from a nil spec is always closed. It is not safe for
// concurrent use: the pool's mutex guards it.
type breaker struct {
	enabled     bool
	minRequests int
	errorRate   float64
	consecutive int // trigger; 0 disables
	openFor     time.Duration
	halfOpen    int

	state     breakerState
	gen       uint64
	win       ratewindow.Window
	failRun   int       // consecutive failures seen while closed
	openUntil time.Time // while open
	admitted  int       // probes admitted in this half-open round
	succeeded int       // probes that succeeded in this half-open round

	opened int64 // times the breaker opened, for Stats
}

func newBreaker(spec *gwconfig.CircuitBreaker) breaker {
	if spec == nil {
		return breaker{}
	}
	b := breaker{
		enabled:     true,
		minRequests: spec.MinRequests,
		errorRate:   spec.ErrorRate,
		consecutive: max(spec.ConsecutiveFailures, 0),
		openFor:     spec.OpenFor,
		halfOpen:    spec.HalfOpenRequests,
	}
	w := spec.Window
	if w <= 0 {
		w = DefaultBreakerWindow
	}
	b.win = ratewindow.New(w)
	if b.minRequests <= 0 {
		b.minRequests = DefaultMinRequests
	}
	if b.errorRate <= 0 || b.errorRate > 1 {
		b.errorRate = DefaultErrorRate
	}
	if b.openFor <= 0 {
		b.openFor = DefaultOpenFor
	}
	if b.halfOpen <= 0 {
		b.halfOpen = DefaultHalfOpenRequests
	}
	return b
}

// needsClock reports whether admit needs the current time.
func (b *breaker) needsClock() bool { return b.state != stateClosed }

// current moves an open breaker whose time is up to half-open and returns
// the state.
func (b *breaker) current(now time.Time) breakerState {
	if b.state == stateOpen && !now.Before(b.openUntil) {
		b.state, b.admitted, b.succeeded = stateHalfOpen, 0, 0
		b.gen++
	}
	return b.state
}

// admit decides whether a request may go at now. When it may, it returns the
// generation to report the result under and whether the request is a
// half-open probe.
func (b *breaker) admit(now time.Time) (gen uint64, probe, ok bool) {
	switch b.current(now) {
	case stateClosed:
		return b.gen, false, true
	case stateHalfOpen:
		if b.admitted < b.halfOpen {
			b.admitted++
			return b.gen, true, true
		}
	}
	return 0, false, false
}

// unadmit takes back an admission whose request was never sent.
func (b *breaker) unadmit(gen uint64, probe bool) {
	if probe && gen == b.gen && b.state == stateHalfOpen {
		b.admitted--
	}
}

// record counts the result of a request admitted under gen.
func (b *breaker) record(now time.Time, gen uint64, probe bool, k Kind) {
	if !b.enabled || gen != b.gen {
		return
	}
	if k == KindClientGone {
		b.unadmit(gen, probe) // the probe proved nothing: another may go
		return
	}
	failed := k.Failed()
	switch b.state {
	case stateClosed:
		b.win.Add(now, failed)
		if failed {
			b.failRun++
		} else {
			b.failRun = 0
		}
		if b.consecutive > 0 && b.failRun >= b.consecutive {
			b.open(now)
			return
		}
		total, failures := b.win.Counts(now)
		if total >= b.minRequests && float64(failures) >= b.errorRate*float64(total) {
			b.open(now)
		}
	case stateHalfOpen:
		if !probe {
			return
		}
		if failed {
			b.open(now)
			return
		}
		b.succeeded++
		if b.succeeded >= b.halfOpen {
			b.state, b.failRun = stateClosed, 0
			b.win.Reset()
			b.gen++
		}
	}
}

func (b *breaker) open(now time.Time) {
	b.state, b.openUntil, b.failRun = stateOpen, now.Add(b.openFor), 0
	b.win.Reset()
	b.gen++
	b.opened++
}
