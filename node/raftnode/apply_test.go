package raftnode

import (
	"context"
	"testing"
	"time"
)

// bounded ends an operation at Config.ApplyTimeout, or a margin before the
// caller's deadline when that comes first, so that the caller receives the
// node's verdict (no leader, outcome unknown) rather than its own
// DeadlineExceeded. The cluster tests check the verdict with deadlines a loaded
// machine can meet; the margin itself is checked here, without timing.
func TestBoundedEndsBeforeTheCallersDeadline(t *testing.T) {
	n := &Node{cfg: Config{ApplyTimeout: 5 * time.Second}}
	for _, tc := range []struct {
		name       string
		left       time.Duration // until the caller's deadline; 0 for none
		wantMargin time.Duration // how long before the caller's deadline bounded ends
	}{
		{"no deadline: ApplyTimeout", 0, 0},
		{"distant deadline: ApplyTimeout", time.Minute, time.Minute - 5*time.Second},
		{"close deadline: a tenth of the time left", 3 * time.Second, 300 * time.Millisecond},
		{"the margin is at most 500ms", 5300 * time.Millisecond, 500 * time.Millisecond},
		{"the margin is at least 20ms", 100 * time.Millisecond, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			parent := context.Background()
			var callerDeadline time.Time
			if tc.left > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tc.left)
				defer cancel()
				callerDeadline, _ = parent.Deadline()
			}
			ctx, cancel := n.bounded(parent)
			defer cancel()
			after := time.Now()
			dl, ok := ctx.Deadline()
			if !ok {
				t.Fatal("bounded left the operation without a deadline")
			}
			if tc.left == 0 {
				if dl.Before(before.Add(n.cfg.ApplyTimeout)) || dl.After(after.Add(n.cfg.ApplyTimeout)) {
					t.Fatalf("deadline %v from now, want ApplyTimeout %v", time.Until(dl), n.cfg.ApplyTimeout)
				}
				return
			}
			// The margin is computed from the time left when bounded runs, some
			// time after the caller's context was made: allow for the time that
			// passed (the margin moves by a tenth of it, the deadline by all of it).
			margin := callerDeadline.Sub(dl)
			elapsed := after.Sub(before)
			slack := elapsed + elapsed/10
			if margin < tc.wantMargin-slack || margin > tc.wantMargin+slack {
				t.Fatalf("bounded ends %v before the caller's deadline, want %v (±%v)", margin, tc.wantMargin, slack)
			}
		})
	}
}
