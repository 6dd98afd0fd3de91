package clusterconn

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Bounds of Backoff's steps.
const (
	backoffBase = 20 * time.Millisecond
	backoffMax  = time.Second
)

// Call runs one unary RPC with grpc.WaitForReady(true), so that it waits for a
// ready member within ctx. If retryUnavailable, a failure with codes.Unavailable
// is retried after a Backoff step, on whichever member is ready next, until ctx
// would end during the step; otherwise rpc runs once. Use retryUnavailable only
// for calls that may safely run twice: a write that failed may have been applied.
// Call returns rpc's last error unchanged; it applies no timeout of its own (see
// Conn.WithTimeout).
func Call[T any](ctx context.Context, retryUnavailable bool, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var b Backoff
	for {
		resp, err := rpc(ctx, grpc.WaitForReady(true))
		if err == nil {
			return resp, nil
		}
		if !retryUnavailable || status.Code(err) != codes.Unavailable || !b.Wait(ctx) {
			var zero T
			return zero, err
		}
	}
}

// Backoff is exponential backoff with jitter between retries of a call or
// reconnections of a stream: steps start at 20ms, double up to 1s, and each is
// drawn uniformly from [step/2, step]. The zero value is ready to use. A Backoff
// is not safe for concurrent use.
type Backoff struct{ next time.Duration }

// Delay returns the next step and advances the backoff.
func (b *Backoff) Delay() time.Duration {
	if b.next == 0 {
		b.next = backoffBase
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, backoffMax)
	return d
}

// Wait sleeps for the next step and returns true, or returns false when ctx ends
// first, at once if ctx's deadline is closer than the step.
func (b *Backoff) Wait(ctx context.Context) bool {
	d := b.Delay()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Reset restarts the backoff from its first step, after a success.
func (b *Backoff) Reset() { b.next = 0 }
