package kvtxn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/raftkv/client"
)

// Resolution bounds: how long resolve keeps asking when the caller's context
// has no deadline (or is already done), and its backoff between attempts.
const (
	resolveTimeout    = 30 * time.Second
	resolveAfterDone  = 5 * time.Second
	resolveBackoffMin = 10 * time.Millisecond
	resolveBackoffMax = 500 * time.Millisecond
)

// resolve decides the outcome of a commit whose RPC failed with cause after
// it may have been sent. It runs "if CREATE(marker) = 0 then put marker
// 'aborted' (on the commit's lease) else get marker" until it gets an answer:
//   - the put happened: the commit had not applied, and now never will (its
//     CREATE(marker) = 0 compare fails): not committed;
//   - the marker says committed: committed (nil);
//   - the marker says aborted: an earlier attempt of ours poisoned it: not
//     committed.
//
// Not committed is reported as ErrConflict (nothing was written; retrying is
// safe). When the lease is gone, an applied commit's marker may have gone with
// it, and when no answer comes in time, nothing is known: ErrAmbiguous.
func (db *DB) resolve(ctx context.Context, marker string, lease int64, cause error) error {
	ctx, cancel := resolveContext(ctx)
	defer cancel()
	backoff := resolveBackoffMin
	for {
		resp, err := db.send(ctx,
			[]client.Cmp{client.Compare(client.CreateRevision(marker), "=", 0)},
			[]client.Op{client.OpPut(marker, markerAborted, client.WithLease(lease))},
			[]client.Op{client.OpGet(marker)})
		switch {
		case err == nil && resp.GetSucceeded():
			return notCommitted(cause)
		case err == nil:
			rr := resp.GetResponses()
			if len(rr) == 1 && len(rr[0].GetResponseRange().GetKvs()) == 1 {
				switch v := string(rr[0].GetResponseRange().GetKvs()[0].GetValue()); v {
				case markerCommitted:
					return nil
				case markerAborted:
					return notCommitted(cause)
				}
			}
			return ambiguousError(fmt.Errorf("%w; marker %s has an unexpected state", cause, marker))
		case errors.Is(err, client.ErrLeaseNotFound):
			return ambiguousError(fmt.Errorf("%w; the marker lease %d is gone", cause, lease))
		}
		select {
		case <-ctx.Done():
			return ambiguousError(fmt.Errorf("%w; resolving: %w", cause, err))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, resolveBackoffMax)
	}
}

// resolveContext bounds resolution: the caller's deadline, else
// resolveTimeout; a caller whose context is already done still gets
// resolveAfterDone, since the answer decides what the client is told.
func resolveContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() != nil {
		return context.WithTimeout(context.WithoutCancel(ctx), resolveAfterDone)
	}
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, resolveTimeout)
}

func notCommitted(cause error) error {
	return conflictError("the commit failed (%v) and was found not applied", cause)
}
