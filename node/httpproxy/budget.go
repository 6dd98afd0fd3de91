package httpproxy

import (
	"sync"
	"time"
)

// budgetWindow is the span over which a RetryBudget compares retries with
// requests, in one-second slots.
const budgetWindow = 10

// RetryBudget bounds retries across requests so that a failing upstream
// is not hit by a retry storm: over the last 10 s, retries may be at most
// ratio × requests plus minPerSecond × 10. Safe for concurrent use.
type RetryBudget struct {
	ratio        float64
	minPerSecond int
	now          func() time.Time

	mu    sync.Mutex // protects slots
	slots [budgetWindow]budgetSlot
}

// budgetSlot counts one second.
type budgetSlot struct {
	second   int64
	requests int64
	retries  int64
}

// NewRetryBudget returns a budget allowing ratio (e.g. 0.2) retries per
// request plus a floor of minPerSecond retries each second (e.g. 10), so a
// quiet upstream can still be retried.
func NewRetryBudget(ratio float64, minPerSecond int) *RetryBudget {
	return newRetryBudget(ratio, minPerSecond, time.Now)
}

func newRetryBudget(ratio float64, minPerSecond int, now func() time.Time) *RetryBudget {
	if ratio < 0 {
		ratio = 0
	}
	if minPerSecond < 0 {
		minPerSecond = 0
	}
	return &RetryBudget{ratio: ratio, minPerSecond: minPerSecond, now: now}
}

// slot returns the current second's slot, resetting a stale one. b.mu held.
func (b *RetryBudget) slot(sec int64) *budgetSlot {
	s := &b.slots[sec%budgetWindow]
	if s.second != sec {
		*s = budgetSlot{second: sec}
	}
	return s
}

// Request counts one client request (ForwardRetrying calls it).
func (b *RetryBudget) Request() {
	sec := b.now().Unix()
	b.mu.Lock()
	b.slot(sec).requests++
	b.mu.Unlock()
}

// allow takes one retry from the budget if there is one. A nil budget
// always allows.
func (b *RetryBudget) allow() bool {
	if b == nil {
		return true
	}
	sec := b.now().Unix()
	b.mu.Lock()
	defer b.mu.Unlock()
	var requests, retries int64
	for i := range b.slots {
		s := &b.slots[i]
		if s.second > sec-budgetWindow && s.second <= sec {
			requests += s.requests
			retries += s.retries
		}
	}
	limit := b.ratio*float64(requests) + float64(b.minPerSecond*budgetWindow)
	if float64(retries+1) > limit {
		return false
	}
	b.slot(sec).retries++
	return true
}

// Allow takes one retry from the budget if there is one; for callers that
// retry outside ForwardRetrying.
func (b *RetryBudget) Allow() bool { return b.allow() }
