package blobd

// Restores of archived objects, as with Glacier: RestoreObject records the
// request in the object's record (SetRestore IN_PROGRESS) and the metadata
// leader, every LifecycleInterval, marks it RESTORED once Config.RestoreDelay
// has passed and lapses it (back to no restore) once restore_until has
// passed. Everything the leader needs is in the record, so a restore goes on
// across a change of leader:
//
//	IN_PROGRESS  restore_until_unix_nanos = the time it becomes readable,
//	             a whole millisecond, plus the days asked in the
//	             sub-millisecond digits (days ≤ maxRestoreDays < 10^6)
//	RESTORED     restore_until_unix_nanos = when it stops being readable
//	             (marked RESTORED + days)

import (
	"context"
	"fmt"
	"time"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

const restoreDay = 24 * time.Hour

// restorePending encodes an IN_PROGRESS restore: readable from ready (rounded
// up to a millisecond), for days days.
func restorePending(ready time.Time, days int32) time.Time {
	ms := (ready.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	return time.Unix(0, ms*int64(time.Millisecond)+int64(days))
}

// pendingRestore decodes restore_until_unix_nanos of an IN_PROGRESS record.
func pendingRestore(until int64) (ready time.Time, days int32) {
	rem := until % int64(time.Millisecond)
	return time.Unix(0, until-rem), int32(rem)
}

// RestoreObject asks for an archived object to be readable for days days;
// it becomes readable after Config.RestoreDelay (RestoreState RESTORED).
// Asking again while restored extends the time (from now); asking again
// while the restore is in progress changes the days. An object that is not
// archived is meta.ErrInvalidObjectState.
func (s *Server) RestoreObject(ctx context.Context, bucket, key string, days int32) (*blobdraftv1.ObjectRecord, error) {
	if days < 1 || days > maxRestoreDays {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: days %d must be in [1, %d]", ErrInvalidArgument, days, maxRestoreDays),
			rpcerr.KeyField, "days", rpcerr.KeyLimit, fmt.Sprint(maxRestoreDays))
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	o, err := s.meta.Object(bucket, key)
	if err != nil {
		return nil, err
	}
	if o.Tier != blobdraftv1.Tier_TIER_ARCHIVE {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: object %q is %v, not archived", meta.ErrInvalidObjectState, key, o.Tier), rpcerr.KeyField, "key")
	}
	now := s.now()
	var cmd *blobdraftv1.Command
	switch {
	case o.RestoreState == blobdraftv1.RestoreState_RESTORE_STATE_RESTORED || s.cfg.RestoreDelay <= 0:
		cmd = meta.SetRestore(bucket, key, blobdraftv1.RestoreState_RESTORE_STATE_RESTORED, now.Add(time.Duration(days)*restoreDay))
	case o.RestoreState == blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS:
		ready, _ := pendingRestore(o.RestoreUntilUnixNanos)
		cmd = meta.SetRestore(bucket, key, blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS, restorePending(ready, days))
	default:
		cmd = meta.SetRestore(bucket, key, blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS, restorePending(now.Add(s.cfg.RestoreDelay), days))
	}
	res, err := s.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return res.GetObject(), nil
}

// restoreLoop finishes and lapses restores every LifecycleInterval while
// this node leads.
func (s *Server) restoreLoop(ctx context.Context) {
	every(ctx, s.cfg.LifecycleInterval, func(ctx context.Context) {
		if s.isLeader() {
			s.restorePass(ctx)
		}
	})
}

// restorePass scans the archived objects with a restore and moves each on
// when due.
func (s *Server) restorePass(ctx context.Context) {
	buckets, err := s.meta.Buckets()
	if err != nil {
		return
	}
	for _, b := range buckets {
		opts := meta.ListOptions{}
		for {
			if ctx.Err() != nil {
				return
			}
			page, err := s.meta.ListObjects(b.Name, opts)
			if err != nil {
				break
			}
			for _, o := range page.Objects {
				if o.Tier == blobdraftv1.Tier_TIER_ARCHIVE && o.RestoreState != blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED {
					s.advanceRestore(ctx, o)
				}
			}
			if !page.IsTruncated {
				break
			}
			opts.ContinuationToken = page.NextContinuationToken
		}
	}
}

// advanceRestore marks an in-progress restore RESTORED once it is ready,
// and lapses a restored object once its time is over.
func (s *Server) advanceRestore(ctx context.Context, o *blobdraftv1.ObjectRecord) {
	now := s.maintNow()
	var cmd *blobdraftv1.Command
	switch o.RestoreState {
	case blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS:
		ready, days := pendingRestore(o.RestoreUntilUnixNanos)
		if now.Before(ready) {
			return
		}
		cmd = meta.SetRestore(o.Bucket, o.Key, blobdraftv1.RestoreState_RESTORE_STATE_RESTORED, s.now().Add(time.Duration(max(days, 1))*restoreDay))
	case blobdraftv1.RestoreState_RESTORE_STATE_RESTORED:
		if now.Before(time.Unix(0, o.RestoreUntilUnixNanos)) {
			return
		}
		cmd = meta.SetRestore(o.Bucket, o.Key, blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED, time.Time{})
	default:
		return
	}
	if _, err := s.propose(ctx, cmd); err != nil && ctx.Err() == nil {
		s.logger.Warn("restore: advance", "bucket", o.Bucket, "key", o.Key, "state", o.RestoreState, "err", err)
		return
	}
	s.logger.Info("restore: advanced", "bucket", o.Bucket, "key", o.Key, "from", o.RestoreState)
}
