package upstream

import "time"

// Kind classifies how a proxied request ended, as the caller reports it to
// Release.
type Kind int

// The kinds. Success covers every answer the upstream gave that was not a
// 5xx (a 404 is a success for the upstream's health). KindClientGone — the
// client went away before the upstream answered — is neither a success nor
// a failure: it changes no health state.
const (
	KindSuccess Kind = iota
	KindConnect
	KindTimeout
	KindReset
	KindStatus5xx
	KindClientGone
)

var kindNames = [...]string{"success", "connect", "timeout", "reset", "5xx", "client_gone"}

// String returns the kind's lowercase name ("success", "connect", ...).
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Failed reports whether the kind counts as a failure of the upstream.
func (k Kind) Failed() bool {
	switch k {
	case KindConnect, KindTimeout, KindReset, KindStatus5xx:
		return true
	}
	return false
}

// Result is what became of one picked request.
type Result struct {
	Kind Kind
	// Latency is how long the upstream took; it feeds the target's latency
	// average in Stats. Zero is ignored.
	Latency time.Duration
}

// Release ends one Pick: call it exactly once with the request's result.
// Calls after the first are ignored. It is safe to call from any goroutine,
// also after the pool was closed.
type Release func(Result)

// Target is one upstream address as Pick returns it.
type Target struct {
	Address string // host:port
	Weight  int
}
