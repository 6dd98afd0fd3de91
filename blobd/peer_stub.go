package blobd

// Owned by the core data path (replace this file): the peer services,
// heartbeats, volume placement, leadership hooks and the chunk paths.

import (
	"context"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func (s *Server) onLeadership(isLeader bool) {}

func (s *Server) registerCore() {}

// writeChunk stores data as one chunk of tier (replicas for hot, shards for
// cool, compressed shards for archive), fsynced everywhere, and returns its
// manifest entry (offset 0; the caller sets Offset).
func (s *Server) writeChunk(ctx context.Context, tier blobdraftv1.Tier, data []byte) (*blobdraftv1.Chunk, error) {
	return nil, errNotBuilt
}

// readChunk returns a chunk's whole data, verified against its CRC32C,
// from any healthy copy (decoding shards as needed).
func (s *Server) readChunk(ctx context.Context, c *blobdraftv1.Chunk) ([]byte, error) {
	return nil, errNotBuilt
}

// deleteNeedles deletes needles from the volumes' servers, best effort
// (garbage collection catches what fails).
func (s *Server) deleteNeedles(ctx context.Context, refs []*blobdraftv1.NeedleRef) {}
