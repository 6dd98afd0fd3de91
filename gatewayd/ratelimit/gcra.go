package ratelimit

import (
	"math"
	"time"
)

// rate is a Policy in the units GCRA works in: interval is the time one token
// takes to refill (Per/Limit, rounded up so the rate is never exceeded) and
// tolerance is how far the theoretical arrival time (TAT) may run ahead of
// now: interval × Burst. All values are nanoseconds.
//
// A bucket is a single TAT: the instant at which it will be full again. It
// holds (now + tolerance − max(TAT, now)) / interval tokens. Taking n tokens
// moves TAT to max(TAT, now) + n·interval. This is a token bucket written as
// one number, which is what lets the global state be changed by one
// compare-and-set.
type rate struct {
	interval  int64
	tolerance int64
	burst     int64
}

// rateOf converts p, scaled down by share (≥ 1: the number of nodes that
// split the policy), into a rate. ok is false for a policy that admits
// nothing (Limit or Per not positive).
func rateOf(p Policy, share int64) (rate, bool) {
	if p.Limit <= 0 || p.Per <= 0 {
		return rate{}, false
	}
	if share < 1 {
		share = 1
	}
	burst := p.Burst
	if burst <= 0 {
		burst = p.Limit
	}
	burst = max(1, burst/share)
	limit := max(1, p.Limit/share)
	per := int64(p.Per)
	interval := per / limit
	if per%limit != 0 {
		interval++
	}
	return rate{interval: interval, tolerance: mulSat(interval, burst), burst: burst}, true
}

// mulSat is a×b for non-negative a and b, saturating at MaxInt64.
func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// addSat is a+b for non-negative b, saturating at MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// available returns how many whole tokens a bucket whose TAT is tat holds at
// now.
func (r rate) available(tat, now int64) int64 {
	base := max(tat, now)
	room := addSat(now, r.tolerance) - base
	if room < r.interval {
		return 0
	}
	return min(room/r.interval, r.burst)
}

// take tries to take n ≥ 1 tokens at now. It returns the new TAT and true, or
// the unchanged tat and false when fewer than n tokens are available.
func (r rate) take(tat, now, n int64) (int64, bool) {
	if r.available(tat, now) < n {
		return tat, false
	}
	return max(tat, now) + n*r.interval, true
}

// retryAfter is how long from now until the bucket holds one token.
func (r rate) retryAfter(tat, now int64) time.Duration {
	wait := max(tat, now) + r.interval - addSat(now, r.tolerance)
	return time.Duration(max(0, wait))
}

// reset is how long from now until the bucket is full again.
func (r rate) reset(tat, now int64) time.Duration {
	return time.Duration(max(0, tat-now))
}

// giveBack returns n unspent tokens to a bucket at now: TAT moves back by
// n·interval but never below now (a bucket is never fuller than Burst).
func (r rate) giveBack(tat, now, n int64) int64 {
	return max(tat-mulSat(n, r.interval), now)
}
