package blobd

// Owned by maintenance (replace this file): repair, scrub, garbage
// collection, lifecycle and restores.

import (
	"context"

	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
)

func (s *Server) registerMaintenance() {}

// reportCorrupt records that needle nid of volume vid failed its checksum
// on this node (found by a read), so the repair loop restores it.
func (s *Server) reportCorrupt(vid uint32, nid uint64) {}

func (s *Server) repairStatus(ctx context.Context) (*blobdpeerv1.RepairStatusResponse, error) {
	return nil, errNotBuilt
}
