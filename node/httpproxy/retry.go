package httpproxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// RetryPolicy says which failed attempts ForwardRetrying tries again.
type RetryPolicy struct {
	// Attempts is the number of extra tries after the first (0 disables).
	Attempts int
	// On lists the failure kinds retried: Connect, Timeout and Reset are
	// meaningful (Status5xx is selected per status by Statuses).
	On []FailureKind
	// Statuses lists upstream statuses retried (e.g. 502, 503, 504).
	Statuses []int
	// MaxReplayBody is the largest request body without r.GetBody that is
	// buffered so it can be sent again; default 64 KiB. A larger or
	// unknown-length body makes the request not retryable.
	MaxReplayBody int64
	// OnAttempt, when set, is called after every attempt with its upstream
	// and outcome (for a balancer's bookkeeping), from the calling
	// goroutine.
	OnAttempt func(attempt int, up Upstream, o Outcome)
}

// ParseRetryOn turns a configuration's retry list into a policy's On and
// Statuses: connect_failure, reset, timeout, and 3-digit 5xx statuses.
func ParseRetryOn(on []string) ([]FailureKind, []int, error) {
	var kinds []FailureKind
	var statuses []int
	for _, s := range on {
		switch s {
		case "connect_failure":
			kinds = append(kinds, Connect)
		case "reset":
			kinds = append(kinds, Reset)
		case "timeout":
			kinds = append(kinds, Timeout)
		default:
			n, err := strconv.Atoi(s)
			if err != nil || n < 500 || n > 599 {
				return nil, nil, fmt.Errorf("%w: retry on %q", ErrBadConfig, s)
			}
			statuses = append(statuses, n)
		}
	}
	return kinds, statuses, nil
}

// retries reports whether the policy retries s.
func (pol *RetryPolicy) retries(s *sent) bool {
	if s.resp != nil {
		return s.resp.StatusCode >= 500 && slices.Contains(pol.Statuses, s.resp.StatusCode)
	}
	return s.kind != ClientGone && slices.Contains(pol.On, s.kind)
}

// idempotent reports whether method may be sent twice (RFC 9110 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// ForwardRetrying is Forward with retries: pick(attempt) names the upstream
// of each attempt (0 first; false when none is left, ending the retries).
// A failed attempt is tried again only when the method is idempotent, the
// body is absent or replayable (r.GetBody, or buffered up to
// pol.MaxReplayBody), nothing was written to the client yet, the failure
// is one pol lists, attempts remain, and budget (nil: unbounded) allows
// it. Upgrade requests are never retried. The returned Outcome is the last
// attempt's, with Attempts counting them all.
func (p *Proxy) ForwardRetrying(w http.ResponseWriter, r *http.Request, pick func(attempt int) (Upstream, bool), pol RetryPolicy, budget *RetryBudget) Outcome {
	start := time.Now()
	if budget != nil {
		budget.Request()
	}
	up, ok := pick(0)
	if !ok {
		RequestID(r)
		o := writeFailure(w, r, Connect, ErrNoUpstream)
		o.Duration = time.Since(start)
		return o
	}
	canRetry := pol.Attempts > 0 && idempotent(r.Method) && !isUpgrade(r)
	body := requestBody(r)
	var replay func() (io.ReadCloser, error)
	if canRetry && body != nil {
		limit := pol.MaxReplayBody
		if limit <= 0 {
			limit = 64 << 10
		}
		switch {
		case r.GetBody != nil:
			replay = r.GetBody
		case r.ContentLength > 0 && r.ContentLength <= limit:
			buf := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				o := Outcome{Status: StatusClientClosed, Kind: ClientGone, Err: err, Attempts: 0, Duration: time.Since(start)}
				return o
			}
			replay = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
		default:
			canRetry = false
		}
	}
	for attempt := 0; ; attempt++ {
		if replay != nil {
			b, err := replay()
			if err != nil {
				RequestID(r)
				o := writeFailure(w, r, Reset, err)
				o.Kind, o.Attempts, o.Duration = None, attempt, time.Since(start)
				return o
			}
			body = b
		}
		s := p.send(r, &up, body)
		if canRetry && attempt < pol.Attempts && pol.retries(&s) && budget.allow() {
			if next, ok := pick(attempt + 1); ok {
				if pol.OnAttempt != nil {
					pol.OnAttempt(attempt, up, Outcome{Status: s.status(), Kind: s.kind, Err: s.err, Attempts: attempt + 1, Duration: time.Since(start)})
				}
				s.discard()
				if p.metrics != nil {
					p.metrics.retry(up.Route, up.Name)
				}
				up = next
				continue
			}
		}
		o := p.finish(w, r, &up, &s)
		o.Attempts = attempt + 1
		o.Duration = time.Since(start)
		if pol.OnAttempt != nil {
			pol.OnAttempt(attempt, up, o)
		}
		return o
	}
}
