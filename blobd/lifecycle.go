package blobd

// Lifecycle rules (metadata leader, every LifecycleInterval): the actions
// meta.LifecycleActions finds due are carried out — a transition moves the
// object with setTier (if it is still the etag and version the rule saw;
// the swap expects the manifest index read), an
// expiration deletes the object if it is still the version the rule saw,
// an abort drops the incomplete upload; freed needles are deleted from
// their volumes. Transitions run moveConcurrency at a time, each object at
// most once at a time.
//
// A tier move (SetTier) is crash-safe by construction: every chunk is read
// (readChunk, verified) and written again in the new tier (writeChunk,
// fsynced on every target) before one SetObjectTier command swaps the
// manifest, expecting the object's etag and manifest index (so a shard
// rebuild or another move that swapped the manifest meanwhile wins, and
// this move is refused rather than free needles the other's manifest
// names); the old needles are freed only after. A crash before the swap leaves the old object intact
// and the new needles unreferenced (garbage collection removes them); the
// swap itself is atomic. Memory holds one chunk at a time.

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// SetTier moves an object to another tier now (re-encoding its chunks:
// replicas for hot, shards for cool, compressed shards for archive) and
// returns the new record; the move is crash-safe (new needles are written
// and fsynced before the manifest swap, old ones freed after). Moving an
// object to the tier it is in returns it unchanged. An object replaced or
// whose manifest was swapped during the move is moved again as it is now (a
// few times at most).
func (s *Server) SetTier(ctx context.Context, bucket, key string, tier blobdraftv1.Tier) (*blobdraftv1.ObjectRecord, error) {
	if tier < blobdraftv1.Tier_TIER_HOT || tier > blobdraftv1.Tier_TIER_ARCHIVE {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: tier %v (want hot, cool or archive)", ErrInvalidArgument, tier), rpcerr.KeyField, "tier")
	}
	for attempt := 0; ; attempt++ {
		if err := s.barrier(ctx); err != nil {
			return nil, err
		}
		o, err := s.meta.Object(bucket, key)
		if err != nil {
			return nil, err
		}
		if o.Tier == tier {
			return o, nil
		}
		rec, err := s.setTier(ctx, o, tier)
		if (errors.Is(err, meta.ErrPreconditionFailed) || errors.Is(err, meta.ErrNeedleTooOld)) && attempt < 3 {
			continue
		}
		return rec, err
	}
}

// setTier re-encodes o's chunks in tier and swaps its manifest if o is
// still the object at its key (meta.ErrPreconditionFailed otherwise).
func (s *Server) setTier(ctx context.Context, o *blobdraftv1.ObjectRecord, tier blobdraftv1.Tier) (*blobdraftv1.ObjectRecord, error) {
	chunks := make([]*blobdraftv1.Chunk, 0, len(o.Chunks))
	var written []*blobdraftv1.NeedleRef
	fail := func(err error) (*blobdraftv1.ObjectRecord, error) {
		s.deleteNeedles(context.WithoutCancel(ctx), written)
		return nil, err
	}
	for i, c := range o.Chunks {
		data, err := s.readChunk(ctx, c)
		if err != nil {
			return fail(fmt.Errorf("blobd: move %q: read chunk %d: %w", o.Key, i, err))
		}
		nc, err := s.writeChunk(ctx, tier, data)
		if err != nil {
			return fail(fmt.Errorf("blobd: move %q: write chunk %d: %w", o.Key, i, err))
		}
		nc.Offset = c.Offset
		written = append(written, chunkNeedles([]*blobdraftv1.Chunk{nc})...)
		chunks = append(chunks, nc)
	}
	res, err := s.propose(ctx, meta.SetObjectTier(o.Bucket, o.Key, o.Etag, meta.ManifestIndex(o), tier, chunks))
	if err != nil {
		if definitelyRejected(err) {
			return fail(err)
		}
		return nil, err // it may have committed: the needles stay (GC collects them if not)
	}
	s.deleteNeedles(ctx, res.GetFreed())
	s.logger.Info("lifecycle: object moved", "bucket", o.Bucket, "key", o.Key, "from", o.Tier, "to", tier, "chunks", len(chunks))
	return res.GetObject(), nil
}

// lifecycleLoop applies the lifecycle rules every LifecycleInterval while
// this node leads.
func (s *Server) lifecycleLoop(ctx context.Context) {
	every(ctx, s.cfg.LifecycleInterval, func(ctx context.Context) {
		if s.isLeader() {
			s.lifecyclePass(ctx)
		}
	})
}

// lifecyclePass carries out every action due now and returns when they
// are done.
func (s *Server) lifecyclePass(ctx context.Context) {
	if err := s.barrier(ctx); err != nil {
		return
	}
	sem := make(chan struct{}, moveConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for a, err := range s.meta.LifecycleActions(s.maintNow()) {
		if err != nil {
			s.logger.Warn("lifecycle: scan", "err", err)
			return
		}
		if ctx.Err() != nil {
			return
		}
		switch a.Kind {
		case meta.Expire:
			s.expire(ctx, a)
		case meta.AbortUpload:
			res, err := s.propose(ctx, meta.AbortMultipartUpload(a.Bucket, a.Key, a.UploadID))
			if err != nil {
				if !errors.Is(err, meta.ErrUploadNotFound) {
					s.logger.Warn("lifecycle: abort upload", "bucket", a.Bucket, "key", a.Key, "upload", a.UploadID, "err", err)
				}
				continue
			}
			s.deleteNeedles(ctx, res.GetFreed())
			s.logger.Info("lifecycle: upload aborted", "bucket", a.Bucket, "key", a.Key, "upload", a.UploadID, "rule", a.Rule)
		case meta.Transition:
			k := a.Bucket + "\x00" + a.Key
			s.maint.mu.Lock()
			busy := s.maint.moving[k]
			s.maint.moving[k] = true
			s.maint.mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				s.doneMoving(k)
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer s.doneMoving(k)
				s.transition(ctx, a)
			}()
		}
	}
}

func (s *Server) doneMoving(k string) {
	s.maint.mu.Lock()
	defer s.maint.mu.Unlock()
	delete(s.maint.moving, k)
}

// transition moves the object a names to a.Tier if it is still the one the
// rule saw.
func (s *Server) transition(ctx context.Context, a meta.LifecycleAction) {
	if err := s.barrier(ctx); err != nil {
		return
	}
	o, err := s.meta.Object(a.Bucket, a.Key)
	if err != nil || o.Etag != a.Etag || o.Version != a.Version || o.Tier >= a.Tier {
		return
	}
	if _, err := s.setTier(ctx, o, a.Tier); err != nil && ctx.Err() == nil && !errors.Is(err, meta.ErrPreconditionFailed) {
		s.logger.Warn("lifecycle: transition", "bucket", a.Bucket, "key", a.Key, "tier", a.Tier, "rule", a.Rule, "err", err)
	}
}

// expire deletes the object a names if it is still the one the rule saw.
func (s *Server) expire(ctx context.Context, a meta.LifecycleAction) {
	o, err := s.meta.Object(a.Bucket, a.Key)
	if err != nil || o.Etag != a.Etag || o.Version != a.Version {
		return
	}
	res, err := s.propose(ctx, meta.DeleteObject(a.Bucket, a.Key))
	if err != nil {
		s.logger.Warn("lifecycle: expire", "bucket", a.Bucket, "key", a.Key, "rule", a.Rule, "err", err)
		return
	}
	s.deleteNeedles(ctx, res.GetFreed())
	s.logger.Info("lifecycle: object expired", "bucket", a.Bucket, "key", a.Key, "rule", a.Rule)
}
