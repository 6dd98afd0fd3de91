package blobd

import (
	"context"
	"time"

	"cairn.dev/cairn/blobd/volume"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// SetMaintClockSkew moves the clock the lifecycle and restore loops decide
// by d ahead (the times they record stay real), so tests reach rules due in
// days.
func (s *Server) SetMaintClockSkew(d time.Duration) { s.maint.skew.Store(int64(d)) }

// MaintSetTierFrom moves o (as a mover read it, possibly stale) to tier.
func (s *Server) MaintSetTierFrom(ctx context.Context, o *blobdraftv1.ObjectRecord, tier blobdraftv1.Tier) (*blobdraftv1.ObjectRecord, error) {
	return s.setTier(ctx, o, tier)
}

// MaintPropose commits cmd as this node's maintenance and object paths do.
func (s *Server) MaintPropose(ctx context.Context, cmd *blobdraftv1.Command) (*blobdraftv1.CommandResult, error) {
	return s.propose(ctx, cmd)
}

// MaintLocalNeedle tells whether needle nid of local volume vid is live here.
func (s *Server) MaintLocalNeedle(vid uint32, nid uint64) bool {
	live := false
	_ = s.vols.Needles(vid, func(n volume.NeedleInfo) bool {
		if n.ID == nid {
			live = !n.Deleted
		}
		return true
	})
	return live
}
