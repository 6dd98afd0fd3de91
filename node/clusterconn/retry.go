package clusterconn

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

// Bounds of Backoff's steps.
const (
	backoffBase = 20 * time.Millisecond
	backoffMax  = time.Second
)

// Retry says which failures Call may retry.
type Retry int

const (
	// RetryNotApplied retries only failures that say the request was certainly
	// not applied: a reason for which rpcerr.Reason.TryOther holds (no leader,
	// not the leader, no quorum, shutting down), or an Unavailable error on an
	// attempt that was never handed to a connection. Use it for writes: a write
	// that may have reached a server is never sent twice.
	RetryNotApplied Retry = iota
	// RetryUnavailable retries, besides those, every codes.Unavailable failure.
	// Use it for calls that may safely run twice: reads and idempotent writes.
	RetryUnavailable
)

// Call runs one unary RPC on c with grpc.WaitForReady(true), so that it waits
// for a ready member within ctx, and retries it as retry allows, after a
// Backoff step, on whichever member is ready next, until ctx would end during
// the step. A failure for which rpcerr.TryOther holds, or any Unavailable
// failure, also makes c forget the leader it follows (see FollowLeader) and
// look for it again, so that the retry goes elsewhere.
//
// Call fails fast when no member can be reached: before each attempt, if c's
// connection is not ready, Call waits until one member connects or until every
// configured endpoint has failed its latest connection attempt, and in that
// case returns at once an Unavailable error with reason rpcerr.Unreachable
// whose message lists each endpoint and its error. An attempt that fails on
// its deadline before it was handed to any connection returns
// DeadlineExceeded with reason rpcerr.NotSent. Both mean nothing was sent.
// Other errors are rpc's, unchanged. Once an attempt was sent and failed in a
// way that leaves its outcome open, a later attempt's error that says nothing
// was applied (Unreachable, NotSent, a TryOther reason) is not returned: the
// ambiguous error is, so that a retried write never looks certainly not
// applied when an earlier try may have been. Call applies no timeout of its own (see
// Conn.WithTimeout). c may be nil (tests): then there is no reachability check
// and every attempt counts as sent.
func Call[T any](ctx context.Context, c *Conn, retry Retry, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	var b Backoff
	// mayHaveApplied is the error of the latest attempt that was sent and
	// failed without saying it was not applied. A later attempt's error
	// that says nothing was sent or applied is then not the call's outcome:
	// the call returns this one instead, so that a write retried after an
	// ambiguous failure is never reported as certainly not applied.
	var mayHaveApplied error
	fail := func(err error) (T, error) {
		if mayHaveApplied != nil && saysNotApplied(err) {
			return zero, mayHaveApplied
		}
		return zero, err
	}
	for {
		if c != nil {
			if err := c.awaitReachable(ctx); err != nil {
				return fail(err)
			}
		}
		sent := new(atomic.Bool)
		resp, err := rpc(context.WithValue(ctx, sentKey{}, sent), grpc.WaitForReady(true))
		if err == nil {
			return resp, nil
		}
		notSent := c != nil && !sent.Load()
		if notSent && rpcerr.ReasonOf(err) == "" {
			if code := status.Code(err); code == codes.DeadlineExceeded || code == codes.Canceled {
				return fail(notSentError(code, err))
			}
		}
		tryOther := rpcerr.TryOther(err)
		if !notSent && !saysNotApplied(err) {
			mayHaveApplied = err
		}
		unavailable := status.Code(err) == codes.Unavailable
		if (tryOther || unavailable) && c != nil {
			c.router.forget()
		}
		again := tryOther || (notSent && unavailable) || (retry == RetryUnavailable && unavailable)
		if !again || !b.Wait(ctx) {
			return fail(err)
		}
	}
}

// saysNotApplied reports whether err proves its attempt was not applied: a
// reason for which rpcerr.TryOther holds (UNREACHABLE included) or
// NOT_SENT.
func saysNotApplied(err error) bool {
	return rpcerr.TryOther(err) || rpcerr.ReasonOf(err) == rpcerr.NotSent
}

// notSentError is the error of an attempt that ended with code before it was
// handed to a connection.
func notSentError(code codes.Code, err error) error {
	msg := "the request was not sent: no member was ready: " + status.Convert(err).Message()
	st := status.New(code, msg)
	if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: string(rpcerr.NotSent), Domain: rpcerr.Domain}); derr == nil {
		st = d
	}
	return st.Err()
}

// sentKey carries, in an attempt's context, the *atomic.Bool that sentTracker
// sets once the attempt's request is handed to a connection.
type sentKey struct{}

// sentTracker is a client stats handler that records, per attempt, whether
// its headers were queued on a connection: after that, the request may have
// reached a server.
type sentTracker struct{}

func (sentTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (sentTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutHeader); ok {
		if sent, ok := ctx.Value(sentKey{}).(*atomic.Bool); ok {
			sent.Store(true)
		}
	}
}

func (sentTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (sentTracker) HandleConn(context.Context, stats.ConnStats)                       {}

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
