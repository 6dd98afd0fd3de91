package blobd

import (
	"context"
	"time"

	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// The data path's internals, for the external tests of this package.

func (s *Server) DataWriteChunk(ctx context.Context, tier blobdraftv1.Tier, data []byte) (*blobdraftv1.Chunk, error) {
	return s.writeChunk(ctx, tier, data)
}

func (s *Server) DataReadChunk(ctx context.Context, c *blobdraftv1.Chunk) ([]byte, error) {
	return s.readChunk(ctx, c)
}

func (s *Server) DataReadChunkRange(ctx context.Context, c *blobdraftv1.Chunk, off, n int64) ([]byte, error) {
	return s.readChunkRange(ctx, c, off, n)
}

func (s *Server) DataDeleteNeedles(ctx context.Context, refs []*blobdraftv1.NeedleRef) {
	s.deleteNeedles(ctx, refs)
}

func (s *Server) DataServerVolumes(id string) ([]*blobdpeerv1.VolumeInfo, time.Time, bool) {
	return s.serverVolumes(id)
}

func (s *Server) DataCorruptNeedles(vid uint32) []uint64 { return s.corruptNeedles(vid) }

func (s *Server) DataFullBytes() int64 { return s.fullBytes() }
