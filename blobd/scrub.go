package blobd

// The scrubber (every node) re-reads every live needle of every local volume
// each ScrubInterval (paced by ScrubBytesPerSec inside volume.Scrub) to find
// bitrot. Needles failing their checksum are recorded for heartbeats
// (markCorrupt: VolumeInfo.corrupt_needles, which makes the leader's repair
// loop re-copy a REPLICATED volume) and, like those a reader finds
// (reportCorrupt), remembered here for local shard repair. A corrupt
// shard in a SINGLE volume has only this copy, so this node rebuilds it
// itself from the chunk's other shards (rebuildShards) and frees the bad
// needle. Every HeartbeatInterval the remembered needles are checked again:
// one that now reads correctly (its volume was received again), was deleted,
// or whose volume is gone is forgotten, so a repaired volume reports zero.
//
// A finding must reach the metadata leader even if this node dies or loses
// leadership right after: a volume whose scrub found corrupt needles, and a
// read that found one, send a heartbeat at once (not at the next tick), and
// the remembered needles are kept in <data dir>/corrupt-needles, which a
// restarted node reads back (keeping those that still fail their checksum)
// before its first scrub, so the damage is reported again at once.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	select {
	case m.reportC <- struct{}{}:
	default:
	}
}

// corruptFile is where the remembered corrupt needles survive a restart,
// under Config.DataDir: one "vid nid" line each.
const corruptFile = "corrupt-needles"

// saveCorrupt writes the remembered corrupt needles to corruptFile (fsynced,
// replaced atomically). Called from the scrub loop only.
func (s *Server) saveCorrupt() {
	m := s.maint
	var buf bytes.Buffer
	m.mu.Lock()
	vids := make([]uint32, 0, len(m.corrupt))
	for vid := range m.corrupt {
		vids = append(vids, vid)
	}
	slices.Sort(vids)
	for _, vid := range vids {
		nids := make([]uint64, 0, len(m.corrupt[vid]))
		for nid := range m.corrupt[vid] {
			nids = append(nids, nid)
		}
		slices.Sort(nids)
		for _, nid := range nids {
			fmt.Fprintf(&buf, "%d %d\n", vid, nid)
		}
	}
	m.mu.Unlock()
	path := filepath.Join(s.cfg.DataDir, corruptFile)
	if err := writeFileSync(path, buf.Bytes()); err != nil {
		s.logger.Warn("scrub: record corrupt needles", "path", path, "err", err)
	}
}

// writeFileSync replaces path with data, durably.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// loadCorrupt reads back the corrupt needles a former run of this node
// recorded and remembers (and marks for heartbeats) those that still fail
// their checksum; it reports whether any does.
func (s *Server) loadCorrupt() bool {
	path := filepath.Join(s.cfg.DataDir, corruptFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.logger.Warn("scrub: read recorded corrupt needles", "path", path, "err", err)
		}
		return false
	}
	want := map[uint32]map[uint64]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var vid uint32
		var nid uint64
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &vid, &nid); err != nil {
			continue
		}
		if want[vid] == nil {
			want[vid] = map[uint64]bool{}
		}
		want[vid][nid] = true
	}
	found := 0
	for vid, nids := range want {
		cookies := map[uint64]uint32{}
		_ = s.vols.Needles(vid, func(n volume.NeedleInfo) bool {
			if nids[n.ID] && !n.Deleted {
				cookies[n.ID] = n.Cookie
			}
			return true
		})
		for nid, cookie := range cookies {
			if _, err := s.vols.Read(vid, nid, cookie, 0, -1); errors.Is(err, volume.ErrCorrupt) {
				s.markCorrupt(vid, nid)
				s.reportCorrupt(vid, nid)
				found++
			}
		}
	}
	if found > 0 {
		s.logger.Warn("scrub: corrupt needles recorded before the restart still fail their checksum", "count", found)
	}
	return found > 0
}

// reportNow sends a heartbeat at once, so the leader learns of corrupt
// needles without waiting for the next one.
func (s *Server) reportNow(ctx context.Context) {
	if err := s.sendHeartbeat(ctx); err != nil && ctx.Err() == nil {
		s.logger.Debug("scrub: report corrupt needles", "err", err)
	}
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
	s.loadCorrupt() // reported by the first wake-up below
	for {
		select {
		case <-ctx.Done():
			return
		case <-scrubC:
			s.scrubAll(ctx)
		case <-check.C:
			s.recheckCorrupt(ctx)
		case <-s.maint.reportC:
			s.saveCorrupt()
			s.reportNow(ctx)
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
				s.markCorrupt(vi.ID, nid) // for heartbeats
				s.reportCorrupt(vi.ID, nid)
			}
		})
		found += res.Corrupt
		if res.Corrupt > 0 {
			s.saveCorrupt()
			s.reportNow(ctx)
		}
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
	forgot := false
	defer func() {
		if forgot {
			s.saveCorrupt()
		}
	}()
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
				forgot = true
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
