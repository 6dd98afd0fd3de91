package blobd

import (
	"context"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/meta"
)

// needleBlock is how many needle ids a node allocates at a time: one Raft
// entry per 1024 hot chunks.
const needleBlock = 1024

// needleIDs is this node's current block of needle ids.
type needleIDs struct {
	mu sync.Mutex // protects the fields below
	// [next, end) are the ids of the block not handed out yet; at is when
	// the block was asked for (at or before the time the metadata records).
	next, end uint64
	at        time.Time
	// busy is closed when the allocation in flight ends; nil when none is.
	busy chan struct{}
}

// newNeedleIDs fills dst with fresh needle ids. Ids come from blocks this
// node allocates through the metadata (meta.AllocateNeedles); an id from a
// block asked for more than GCGrace/2 ago is never handed out (the rest of
// such a block is dropped), so garbage collection, which deletes needles
// allocated more than GCGrace ago that nothing references, never races a
// write in flight. One allocation runs at a time; concurrent callers wait
// for it.
func (s *Server) newNeedleIDs(ctx context.Context, dst []uint64) error {
	ids := &s.core.ids
	filled := 0
	take := func() {
		for filled < len(dst) && ids.next < ids.end {
			dst[filled] = ids.next
			ids.next++
			filled++
		}
	}
	for filled < len(dst) {
		ids.mu.Lock()
		if ids.next < ids.end && s.now().Sub(ids.at) < s.cfg.GCGrace/2 {
			take()
			ids.mu.Unlock()
			continue
		}
		if busy := ids.busy; busy != nil {
			ids.mu.Unlock()
			select {
			case <-busy:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		busy := make(chan struct{})
		ids.busy = busy
		ids.mu.Unlock()
		at := s.now()
		res, err := s.propose(ctx, meta.AllocateNeedles(needleBlock))
		ids.mu.Lock()
		ids.busy = nil
		close(busy)
		if err == nil {
			r := res.GetNeedles()
			ids.next, ids.end, ids.at = r.GetFirst(), r.GetFirst()+r.GetCount(), at
			take() // a fresh block serves this caller whatever GCGrace is
		}
		ids.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
