package blobd

// The scrubber (every node) re-reads every live needle of every local volume
// each ScrubInterval (paced by ScrubBytesPerSec inside volume.Scrub) to find
// bitrot. Needles failing their checksum, found by it or reported by a
// reader (reportCorrupt), are remembered per volume: the heartbeat reports
// their number (corruptNeedles) as VolumeInfo.corrupt_needles, and the
// leader's repair loop re-copies a REPLICATED volume with any. A corrupt
// shard in a SINGLE volume has only this copy, so this node rebuilds it
// itself from the chunk's other shards (rebuildShards) and frees the bad
// needle. Every HeartbeatInterval the remembered needles are checked again:
// one that now reads correctly (its volume was received again), was deleted,
// or whose volume is gone is forgotten, so a repaired volume reports zero.

import (
	"context"
	"errors"
	"time"

	"cairn.dev/cairn/blobd/volume"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// reportCorrupt records that needle nid of volume vid failed its checksum
// on this node (found by a read), so the repair loop restores it. Safe for
// concurrent use.
func (s *Server) reportCorrupt(vid uint32, nid uint64) {
	m := s.maint
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.corrupt[vid]
	if set == nil {
		set = map[uint64]struct{}{}
		m.corrupt[vid] = set
	}
	set[nid] = struct{}{}
}

// scrubLoop scrubs every ScrubInterval (never when 0) and, every
// HeartbeatInterval, re-checks and repairs the corrupt needles known.
func (s *Server) scrubLoop(ctx context.Context) {
	var scrubC <-chan time.Time
	if s.cfg.ScrubInterval > 0 {
		t := time.NewTicker(s.cfg.ScrubInterval)
		defer t.Stop()
		scrubC = t.C
	}
	check := time.NewTicker(s.cfg.HeartbeatInterval)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-scrubC:
			s.scrubAll(ctx)
		case <-check.C:
			s.recheckCorrupt(ctx)
		}
	}
}

// scrubAll scrubs every local volume once.
func (s *Server) scrubAll(ctx context.Context) {
	var found int64
	for _, vi := range s.vols.Volumes() {
		if vi.Damaged != nil {
			continue
		}
		res, err := s.vols.Scrub(ctx, vi.ID, func(nid uint64, err error) {
			if errors.Is(err, volume.ErrCorrupt) {
				s.reportCorrupt(vi.ID, nid)
			}
		})
		found += res.Corrupt
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, volume.ErrVolumeNotFound) {
				s.logger.Warn("scrub: volume not scrubbed", "volume", vi.ID, "err", err)
			}
		}
	}
	m := s.maint
	m.mu.Lock()
	m.lastScrub = s.now()
	m.scrubFound += found
	m.mu.Unlock()
	if found > 0 {
		s.logger.Warn("scrub: corrupt needles found", "count", found)
	}
}

// recheckCorrupt forgets the remembered corrupt needles that are fine or
// gone now, and starts the rebuild of corrupt shards in SINGLE volumes.
func (s *Server) recheckCorrupt(ctx context.Context) {
	m := s.maint
	m.mu.Lock()
	snapshot := make(map[uint32][]uint64, len(m.corrupt))
	for vid, set := range m.corrupt {
		for nid := range set {
			snapshot[vid] = append(snapshot[vid], nid)
		}
	}
	m.mu.Unlock()
	for vid, nids := range snapshot {
		cookies := map[uint64]uint32{}
		want := map[uint64]bool{}
		for _, nid := range nids {
			want[nid] = true
		}
		err := s.vols.Needles(vid, func(n volume.NeedleInfo) bool {
			if want[n.ID] && !n.Deleted {
				cookies[n.ID] = n.Cookie
			}
			return true
		})
		var still []uint64
		if err == nil {
			for _, nid := range nids {
				cookie, live := cookies[nid]
				if !live {
					continue // deleted or gone
				}
				if _, rerr := s.vols.Read(vid, nid, cookie, 0, -1); rerr == nil || !errors.Is(rerr, volume.ErrCorrupt) {
					continue // reads correctly (received again)
				}
				still = append(still, nid)
			}
		} else if errors.Is(err, volume.ErrDamaged) {
			still = nids
		}
		m.mu.Lock()
		set := m.corrupt[vid]
		for _, nid := range nids {
			if !contains(still, nid) {
				delete(set, nid)
			}
		}
		if len(set) == 0 {
			delete(m.corrupt, vid)
		}
		m.mu.Unlock()
		if len(still) > 0 {
			s.repairLocalShards(ctx, vid, still)
		}
	}
}

func contains(nids []uint64, nid uint64) bool {
	for _, n := range nids {
		if n == nid {
			return true
		}
	}
	return false
}

// repairLocalShards rebuilds elsewhere the corrupt needles nids of local
// volume vid when it is a SINGLE volume (erasure-coded shards: no other
// copy exists); REPLICATED volumes are the leader's to re-copy.
func (s *Server) repairLocalShards(ctx context.Context, vid uint32, nids []uint64) {
	v, err := s.meta.Volume(vid)
	if err != nil || v.Kind != blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE {
		return
	}
	set := make(map[uint64]struct{}, len(nids))
	for _, nid := range nids {
		set[nid] = struct{}{}
	}
	objects, _, err := s.referencingObjects(vid, set)
	if err != nil {
		s.logger.Warn("scrub: find references", "volume", vid, "err", err)
		return
	}
	isBad := func(ref *blobdraftv1.NeedleRef) bool {
		_, bad := set[ref.GetNid()]
		return ref.GetVid() == vid && bad
	}
	for _, o := range objects {
		k := o[0] + "\x00" + o[1]
		s.maint.mu.Lock()
		busy := s.maint.shardRepairs[k]
		s.maint.shardRepairs[k] = true
		s.maint.mu.Unlock()
		if busy {
			continue
		}
		err := s.rebuildShards(ctx, o[0], o[1], isBad)
		s.maint.mu.Lock()
		delete(s.maint.shardRepairs, k)
		s.maint.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("scrub: corrupt shard not rebuilt yet", "volume", vid, "bucket", o[0], "key", o[1], "err", err)
		}
	}
}
