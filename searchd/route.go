package searchd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/searchd/meta"
)

// shardClient returns the ShardService of node.
func (s *Server) shardClient(node string) (searchdv1.ShardServiceClient, error) {
	addr, ok := s.memberAddrs()[node]
	if !ok {
		return nil, fmt.Errorf("%w: node %s is not a member", ErrShardUnavailable, node)
	}
	conn, err := s.peers.Conn(addr)
	if err != nil {
		return nil, err
	}
	return searchdv1.NewShardServiceClient(conn), nil
}

// readCopies orders the started copies of a shard for a read: this node's
// first, then the others from a round-robin start.
func (s *Server) readCopies(ix *meta.Index, shard int) []string {
	started := ix.Started(shard)
	out := make([]string, 0, len(started))
	for _, c := range started {
		if c.Node == s.cfg.ID {
			out = append(out, c.Node)
		}
	}
	start := int(s.rr.Add(1))
	for i := range started {
		c := started[(start+i)%len(started)]
		if c.Node != s.cfg.ID {
			out = append(out, c.Node)
		}
	}
	return out
}

// onCopy calls fn on a started copy of the shard, trying the next copy
// when one fails for a reason that another copy may not have (it is down,
// stopping, or does not hold the shard any more). It fails with
// ErrShardUnavailable naming the last error when none answers.
func onCopy[T any](ctx context.Context, s *Server, ix *meta.Index, shard int, fn func(context.Context, searchdv1.ShardServiceClient) (T, error)) (T, error) {
	var zero T
	var last error = errors.New("no started copy")
	for _, node := range s.readCopies(ix, shard) {
		c, err := s.shardClient(node)
		if err != nil {
			last = err
			continue
		}
		out, err := fn(ctx, c)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		if !retryOnOtherCopy(err) {
			return zero, err
		}
		last = err
	}
	return zero, fmt.Errorf("%w: %s shard %d: %v", ErrShardUnavailable, ix.Name, shard, last)
}

// retryOnOtherCopy says whether a copy's error may not happen on another.
func retryOnOtherCopy(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.DeadlineExceeded:
		return true
	}
	return false
}

func ref(ix *meta.Index, shard int) *searchdv1.ShardRef {
	return &searchdv1.ShardRef{Index: ix.Name, IndexUuid: ix.UUID, Shard: int32(shard)}
}

// partitionEnd returns the high watermark of the shard's partition: every
// acknowledged write is below it.
func (s *Server) partitionEnd(ctx context.Context, ix *meta.Index, shard int) (int64, error) {
	off, err := s.streamd.ListOffsets(ctx, ix.Topic, int32(shard), streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, zeroTime)
	if err != nil {
		return 0, fmt.Errorf("%w: %s shard %d: partition offsets: %v", ErrShardUnavailable, ix.Name, shard, err)
	}
	return off.HighWatermark, nil
}

// syncShard waits until every started copy of the shard has applied below
// offset and made it searchable; it returns how many did.
func (s *Server) syncShard(ctx context.Context, ix *meta.Index, shard int, offset int64) (int, error) {
	started := ix.Started(shard)
	var mu sync.Mutex
	ok := 0
	var firstErr error
	var wg sync.WaitGroup
	for _, c := range started {
		wg.Go(func() {
			// A node just restarted may still be reconnecting: wait for
			// the connection, within a bound (a dead node's copy is LOST
			// after NodeTimeout and leaves the started set).
			cctx, cancel := context.WithTimeout(ctx, s.cfg.NodeTimeout)
			defer cancel()
			cl, err := s.shardClient(c.Node)
			if err == nil {
				_, err = cl.ShardSync(cctx, &searchdv1.ShardSyncRequest{Shard: ref(ix, shard), MinOffset: offset, Refresh: true}, grpc.WaitForReady(true))
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			ok++
		})
	}
	wg.Wait()
	if ok == 0 && len(started) > 0 {
		return 0, fmt.Errorf("%w: %s shard %d: %v", ErrShardUnavailable, ix.Name, shard, firstErr)
	}
	return ok, nil
}

// refreshIndex syncs every shard up to its partition's end; it returns the
// copies asked and those that answered.
func (s *Server) refreshIndex(ctx context.Context, ix *meta.Index) (total, ok int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for shard := range ix.Copies {
		wg.Go(func() {
			end, e := s.partitionEnd(ctx, ix, shard)
			n := 0
			if e == nil {
				n, e = s.syncShard(ctx, ix, shard, end)
			}
			mu.Lock()
			defer mu.Unlock()
			total += len(ix.Started(shard))
			ok += n
			if e != nil && err == nil {
				err = e
			}
		})
	}
	wg.Wait()
	return total, ok, err
}

// copyStatsResult is one copy's progress and size.
type copyStatsResult struct {
	applied, docs, deleted, size int64
	segments                     int
}

// copyStats asks node's copy of a shard for its statistics (ShardSync with
// offset 0 answers at once with the applied offset; the sizes come from
// the local copy when node is this one).
func (s *Server) copyStats(ctx context.Context, ix *meta.Index, shard int, node string) (copyStatsResult, error) {
	if node == s.cfg.ID {
		c, err := s.copies.find(ix.UUID, shard)
		if err != nil {
			return copyStatsResult{}, err
		}
		applied, eng := c.progress()
		if eng == nil {
			return copyStatsResult{applied: applied}, nil
		}
		st := eng.W.Stats()
		return copyStatsResult{applied: applied, docs: st.Docs, deleted: st.DeletedDocs, size: st.SizeBytes, segments: st.Segments}, nil
	}
	cl, err := s.shardClient(node)
	if err != nil {
		return copyStatsResult{}, err
	}
	resp, err := cl.ShardSync(ctx, &searchdv1.ShardSyncRequest{Shard: ref(ix, shard)})
	if err != nil {
		return copyStatsResult{}, err
	}
	cnt, err := cl.ShardSearch(ctx, &searchdv1.ShardSearchRequest{Shard: ref(ix, shard), BodyJson: []byte(`{"size":0,"track_total_hits":true}`)})
	if err != nil {
		return copyStatsResult{applied: resp.GetAppliedOffset()}, nil
	}
	res, err := decodeShardResult(cnt.GetResult())
	if err != nil {
		return copyStatsResult{applied: resp.GetAppliedOffset()}, nil
	}
	return copyStatsResult{applied: resp.GetAppliedOffset(), docs: res.Total}, nil
}
