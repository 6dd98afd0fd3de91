package ratelimit

import (
	"errors"
	"strconv"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Sentinel errors of the package, matched with errors.Is.
var (
	// ErrConflict is returned by GlobalStore.CompareAndSet when the key's
	// version was not the expected one: nothing was written.
	ErrConflict = errors.New("ratelimit: version conflict")
	// ErrUnavailable marks a GlobalStore call that did not get an answer; for
	// CompareAndSet the write may or may not have been applied.
	ErrUnavailable = errors.New("ratelimit: store unavailable")
	// ErrCorrupt is returned when a stored bucket state cannot be decoded.
	ErrCorrupt = errors.New("ratelimit: corrupt bucket state")
)

// Policy is one rate limit: Limit tokens refilled evenly over Per into a
// bucket of Burst tokens (Burst ≤ 0 means Limit); each admitted request takes
// one token. Global policies are shared by every Limiter that uses the same
// GlobalStore; the others are counted by each Limiter alone.
//
// ID names the policy in the shared store and in the local tables, so it must
// be stable across nodes and reloads (e.g. "route-name#0") and change when
// the limit's meaning changes. A policy with Limit or Per ≤ 0 admits nothing.
type Policy struct {
	ID     string
	Limit  int64
	Per    time.Duration
	Burst  int64
	Global bool
}

// Decision is the answer of Allow for one policy and key.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the policy's Limit and Window its Per: the quota advertised in
	// RateLimit-Policy.
	Limit  int64
	Window time.Duration
	// Remaining is how many more requests the bucket admits now (for a global
	// policy, an estimate: the local lease plus what the shared bucket held at
	// the last lease).
	Remaining int64
	// Reset is how long until the bucket is full again.
	Reset time.Duration
	// RetryAfter, set when not Allowed, is how long until one token is back.
	RetryAfter time.Duration
	// Fallback reports that a global policy was decided by the local share
	// because the store was unreachable (or Config.Store is nil).
	Fallback bool
}

// PolicyFor returns the Policy of rate limit i of the named route: ID
// "<route>#<i>", Global unless rl.Scope is "local". The caller picks the key
// by rl.By (the consumer name, the route name, or the client IP).
func PolicyFor(route string, i int, rl gwconfig.RateLimit) Policy {
	return Policy{
		ID:     route + "#" + strconv.Itoa(i),
		Limit:  rl.Limit,
		Per:    rl.Per,
		Burst:  rl.Burst,
		Global: rl.Scope != "local",
	}
}
