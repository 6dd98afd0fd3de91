package blobd

// The repair loop (metadata leader only) restores redundancy:
//
//   - A REPLICATED volume with a copy on a DOWN or DRAINING server, a copy
//     its server reports damaged or holding corrupt needles, or a copy its
//     server persistently lacks while the volume holds referenced needles:
//     the volume is set READONLY (so new chunks go elsewhere), a new UP server
//     (or the damaged one when no other is free) pulls a healthy copy with
//     VolumeService.ReceiveVolume, the needle counts of source and copy are
//     compared (a write in flight when READONLY was set copies again), the
//     volume's servers are swapped with SetVolumeReplicas (expect_old) and
//     its state restored.
//   - A SINGLE volume (erasure-coded shards) on a DOWN server or reported
//     damaged: every object referencing it has the shards there rebuilt from
//     the chunk's other shards (ec.Reconstruct), written to SINGLE volumes on
//     servers holding no other shard of the chunk, and its manifest swapped
//     with SetObjectTier (same tier, expected etag and manifest index, so a
//     concurrent tier move or another rebuild that swapped the manifest
//     first makes this one fail with PRECONDITION_FAILED rather than free
//     the other's needles; the object is then read again). Once nothing
//     references the old volume it is dropped.
//
// The status (Server.Repair) counts as degraded every volume the loop will
// act on, and also those whose redundancy is merely in doubt: a copy
// missing from its server's latest heartbeat (lost files) before the loop
// acts on it, a copy on a server this leader has not heard from since it
// took over or lately, a SINGLE volume whose server is rebuilding corrupt
// shards itself. So it never says healthy while a copy is known bad,
// missing or unknown; servers report corrupt needles at once (scrub.go).
//
// Copies and rebuilt shards are paced by Config.RepairBytesPerSec; at most
// repairConcurrency volumes are repaired at once. Parts of multipart uploads
// in progress are not moved (no command swaps a part's chunks): they stay
// readable from the remaining shards or replicas, and their volume is
// repaired once the upload completes or is aborted.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/ec"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
	"google.golang.org/protobuf/proto"
)

// RepairStatus is the cluster's redundancy as the metadata leader sees it.
type RepairStatus struct {
	// Servers lists the volume servers and their state.
	Servers []*blobdraftv1.ServerRecord
	// Volumes is the number of volumes; Degraded those with fewer copies
	// known healthy than they should have (a replica on a DOWN server, a
	// damaged copy, corrupt needles, a copy its server's last heartbeat
	// lacks though the volume holds referenced needles, a copy on a server
	// this leader has not heard from lately); Repairing those being
	// repaired now.
	Volumes, Degraded, Repairing int
	// BytesToCopy is the estimate of bytes left to copy; BytesCopied those
	// copied by repairs since this leader took over.
	BytesToCopy, BytesCopied int64
	// ServersDown lists the DOWN servers that still hold volumes.
	ServersDown []string
	// LastScrub is when this node's scrubber last finished a full pass
	// (zero: never); CorruptFound counts the corrupt needles the volume
	// servers report now (the leader's view, from heartbeats).
	LastScrub    time.Time
	CorruptFound int64
	// Leader is the member that answered.
	Leader string
	// Healthy is Degraded == 0 && Repairing == 0 and no server DOWN holds
	// a volume: never while a copy is known bad or missing, or unknown.
	Healthy bool
}

// Repair returns the redundancy status: the leader's view (a follower asks
// the leader through MetaPeerService.RepairStatus).
func (s *Server) Repair(ctx context.Context) (*RepairStatus, error) {
	var resp *blobdpeerv1.RepairStatusResponse
	var err error
	if s.node.IsLeader() {
		resp, err = s.repairStatus(ctx)
	} else {
		conn, cerr := s.node.LeaderConn()
		if cerr != nil {
			return nil, cerr
		}
		resp, err = blobdpeerv1.NewMetaPeerServiceClient(conn).RepairStatus(ctx, &blobdpeerv1.RepairStatusRequest{})
	}
	if err != nil {
		return nil, err
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	servers, err := s.meta.Servers()
	if err != nil {
		return nil, err
	}
	s.maint.mu.Lock()
	last := s.maint.lastScrub
	s.maint.mu.Unlock()
	return &RepairStatus{
		Servers: servers, Volumes: int(resp.GetVolumes()), Degraded: int(resp.GetDegraded()), Repairing: int(resp.GetRepairing()),
		BytesToCopy: resp.GetBytesToCopy(), BytesCopied: resp.GetBytesCopied(), ServersDown: resp.GetServersDown(),
		LastScrub: last, CorruptFound: resp.GetCorruptFound(), Leader: resp.GetLeaderId(), Healthy: resp.GetHealthy(),
	}, nil
}

// repairStatus is the body of MetaPeerService.RepairStatus: the leader's
// view of the cluster's redundancy. A follower answers ErrNotLeader.
func (s *Server) repairStatus(ctx context.Context) (*blobdpeerv1.RepairStatusResponse, error) {
	if !s.isLeader() {
		return nil, raftnode.ErrNotLeader
	}
	a, err := s.assess()
	if err != nil {
		return nil, err
	}
	m := s.maint
	m.mu.Lock()
	repairing := len(m.repairing)
	copied := m.bytesCopied
	m.mu.Unlock()
	resp := &blobdpeerv1.RepairStatusResponse{
		Volumes: int32(a.volumes), Degraded: int32(len(a.degraded)), Repairing: int32(repairing),
		BytesToCopy: a.bytesToCopy, BytesCopied: copied, ServersDown: a.downHolding,
		CorruptFound: a.corrupt, LeaderId: s.cfg.ID,
	}
	resp.Healthy = len(a.degraded) == 0 && repairing == 0 && len(a.downHolding) == 0
	return resp, nil
}

// degradedVolume is a volume the repair loop must act on (bad copies), or
// one whose redundancy is in doubt (suspect copies, local shard repairs),
// which the status counts as degraded too.
type degradedVolume struct {
	vol  *blobdraftv1.VolumeRecord
	bad  []string // servers whose copy must be replaced
	good []string // servers with a healthy copy (REPLICATED)
	// suspect are good servers whose copy is in doubt but not yet for the
	// repair loop to replace: missing from the server's heartbeat for less
	// than ServerTimeout, or on a server this leader has not heard from
	// since it took over or for over staleReport (liveness marks a silent
	// one DOWN after ServerTimeout, which makes its copies bad).
	suspect []string
	// holders are the good servers whose heartbeat lists the volume (or
	// that have not reported to this leader yet): a copy's sources. A
	// volume's files appear on a server with its first needle.
	holders []string
	size    int64 // bytes of a healthy copy (or of the lost one), for estimates
	// localOnly: a SINGLE volume whose server is up and repairs its own
	// corrupt shards (the leader only counts it).
	localOnly bool
}

// assessment is what one look at the metadata and heartbeats found.
type assessment struct {
	volumes     int
	degraded    []degradedVolume
	downHolding []string
	bytesToCopy int64
	corrupt     int64
}

// assess classifies every volume by the health of its copies (see the top
// of this file). Leader only: it reads the heartbeats.
func (s *Server) assess() (*assessment, error) {
	_, servers, err := s.upServers()
	if err != nil {
		return nil, err
	}
	vols, err := s.meta.Volumes()
	if err != nil {
		return nil, err
	}
	type report struct {
		infos map[uint32]*blobdpeerv1.VolumeInfo
		ok    bool
	}
	now := s.now()
	reports := map[string]report{}
	silent := map[string]bool{}
	for id := range servers {
		infos, at, ok := s.serverVolumes(id)
		silent[id] = !ok || now.Sub(at) > s.staleReport()
		r := report{infos: map[uint32]*blobdpeerv1.VolumeInfo{}, ok: ok}
		for _, vi := range infos {
			r.infos[vi.GetVid()] = vi
		}
		reports[id] = r
	}
	a := &assessment{volumes: len(vols)}
	down := map[string]bool{}
	seenMissing := map[[2]string]bool{}
	for _, v := range vols {
		d := degradedVolume{vol: v}
		for _, id := range v.Servers {
			srv := servers[id]
			rep := reports[id]
			vi := rep.infos[v.Id]
			a.corrupt += vi.GetCorruptNeedles()
			if vi.GetSize() > d.size {
				d.size = vi.GetSize()
			}
			switch {
			case srv == nil || srv.State == blobdraftv1.ServerState_SERVER_STATE_DOWN || srv.State == blobdraftv1.ServerState_SERVER_STATE_DRAINING:
				if srv != nil && srv.State == blobdraftv1.ServerState_SERVER_STATE_DOWN {
					down[id] = true
				}
				d.bad = append(d.bad, id)
			case vi.GetDamaged():
				d.bad = append(d.bad, id)
			case vi.GetCorruptNeedles() > 0:
				if v.Kind == blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE {
					d.localOnly = true
				} else {
					d.bad = append(d.bad, id)
				}
			case rep.ok && vi == nil && s.hasRefs(v.Id):
				// A lost copy (deleted, or its server's disk replaced):
				// degraded at once; replaced once it stays lost.
				key := [2]string{fmt.Sprint(v.Id), id}
				seenMissing[key] = true
				if s.missingLong(key, now) {
					d.bad = append(d.bad, id)
				} else {
					d.good = append(d.good, id)
					d.suspect = append(d.suspect, id)
				}
			default:
				d.good = append(d.good, id)
				if vi != nil || !rep.ok {
					d.holders = append(d.holders, id)
				}
				if silent[id] {
					d.suspect = append(d.suspect, id)
				}
			}
		}
		if len(d.bad) > 0 || d.localOnly || len(d.suspect) > 0 {
			a.degraded = append(a.degraded, d)
			if len(d.bad) > 0 {
				a.bytesToCopy += d.size
			}
		}
	}
	s.maint.mu.Lock()
	for k := range s.maint.missingSince {
		if !seenMissing[k] {
			delete(s.maint.missingSince, k)
		}
	}
	s.maint.mu.Unlock()
	for id := range down {
		a.downHolding = append(a.downHolding, id)
	}
	slices.Sort(a.downHolding)
	return a, nil
}

// staleReport is how old a server's last heartbeat may be before the
// status doubts its copies (two missed heartbeats, at least half the
// server timeout).
func (s *Server) staleReport() time.Duration {
	return max(2*s.cfg.HeartbeatInterval, s.cfg.ServerTimeout/2)
}

// missingLong records that a server lacks a volume it should hold and says
// whether it has lacked it for longer than the server timeout (a copy
// appears on the first write, so a fresh volume is missing briefly).
func (s *Server) missingLong(key [2]string, now time.Time) bool {
	s.maint.mu.Lock()
	defer s.maint.mu.Unlock()
	since, ok := s.maint.missingSince[key]
	if !ok {
		s.maint.missingSince[key] = now
		return false
	}
	return now.Sub(since) > s.cfg.ServerTimeout
}

// hasRefs tells whether any object or part references a needle of vid.
func (s *Server) hasRefs(vid uint32) bool {
	for _, err := range s.meta.NeedleRefs(vid) {
		return err == nil
	}
	return false
}

// repairLoop runs a repair pass every HeartbeatInterval while this node
// leads.
func (s *Server) repairLoop(ctx context.Context) {
	every(ctx, s.cfg.HeartbeatInterval, func(ctx context.Context) {
		if s.isLeader() {
			s.repairPass(ctx)
		}
	})
}

// repairPass repairs the degraded volumes, repairConcurrency at a time, and
// returns when they are done.
func (s *Server) repairPass(ctx context.Context) {
	// A new leader may not have applied everything committed yet.
	if err := s.barrier(ctx); err != nil {
		return
	}
	a, err := s.assess()
	if err != nil {
		s.logger.Warn("repair: assess", "err", err)
		return
	}
	s.maint.mu.Lock()
	s.maint.lastDegraded = len(a.degraded)
	s.maint.mu.Unlock()
	sem := make(chan struct{}, repairConcurrency)
	var wg sync.WaitGroup
	for _, d := range a.degraded {
		if len(d.bad) == 0 {
			continue // counted, not for this loop to replace (yet)
		}
		if !s.node.IsLeader() {
			break // leadership lost: the new leader takes over
		}
		if !s.claimRepair(d.vol.Id) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			s.releaseRepair(d.vol.Id)
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer s.releaseRepair(d.vol.Id)
			var err error
			if d.vol.Kind == blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE {
				err = s.repairSingle(ctx, d)
			} else {
				err = s.repairReplicated(ctx, d)
			}
			if err != nil && ctx.Err() == nil {
				s.logger.Warn("repair: volume not repaired yet", "volume", d.vol.Id, "bad", d.bad, "err", err)
			}
		}()
	}
	wg.Wait()
}

func (s *Server) claimRepair(vid uint32) bool {
	s.maint.mu.Lock()
	defer s.maint.mu.Unlock()
	if s.maint.repairing[vid] {
		return false
	}
	s.maint.repairing[vid] = true
	return true
}

func (s *Server) releaseRepair(vid uint32) {
	s.maint.mu.Lock()
	defer s.maint.mu.Unlock()
	delete(s.maint.repairing, vid)
}

func (s *Server) addCopied(n int64) {
	s.maint.mu.Lock()
	defer s.maint.mu.Unlock()
	s.maint.bytesCopied += n
}

// repairReplicated replaces d.bad[0]'s copy of a REPLICATED volume by a
// healthy copy on another server (see the top of this file).
func (s *Server) repairReplicated(ctx context.Context, d degradedVolume) error {
	v, err := s.meta.Volume(d.vol.Id)
	if err != nil {
		return err
	}
	if !slices.Equal(v.Servers, d.vol.Servers) {
		return nil // changed meanwhile; the next pass looks again
	}
	bad := d.bad[0]
	up, servers, err := s.upServers()
	if err != nil {
		return err
	}
	vols, err := s.meta.Volumes()
	if err != nil {
		return err
	}
	exclude := map[string]bool{}
	for _, id := range v.Servers {
		exclude[id] = true
	}
	target := pickServer(up, vols, exclude)
	if target == "" {
		if srv := servers[bad]; srv != nil && srv.State == blobdraftv1.ServerState_SERVER_STATE_UP {
			target = bad // no spare server: the damaged copy is received again in place
		} else {
			return fmt.Errorf("%w: no UP server outside %v to take volume %d", ErrNotEnoughServers, v.Servers, v.Id)
		}
	}
	if len(d.good) == 0 && s.hasRefs(v.Id) {
		return fmt.Errorf("%w: volume %d has no healthy copy (bad: %v)", ErrDataUnavailable, v.Id, d.bad)
	}

	prev := v.State
	if prev != blobdraftv1.VolumeState_VOLUME_STATE_READONLY {
		if _, err := s.propose(ctx, meta.SetVolumeState(v.Id, blobdraftv1.VolumeState_VOLUME_STATE_READONLY)); err != nil {
			return err
		}
	} else {
		// READONLY left by a repair a former leader did not finish: the
		// volume may be near full; FULL keeps it out of placement.
		prev = blobdraftv1.VolumeState_VOLUME_STATE_FULL
	}
	defer func() {
		if _, err := s.propose(context.WithoutCancel(ctx), meta.SetVolumeState(v.Id, prev)); err != nil {
			s.logger.Warn("repair: restore volume state", "volume", v.Id, "state", prev, "err", err)
		}
	}()
	// Let writes that picked the volume before READONLY finish.
	if err := sleepCtx(ctx, s.cfg.HeartbeatInterval); err != nil {
		return err
	}

	copied := false
	var lastErr error
	for _, src := range shuffled(d.holders) {
		if err := s.maint.repairPacer.wait(ctx, d.size); err != nil {
			return err
		}
		n, err := s.copyVolume(ctx, v.Id, src, target)
		if err != nil {
			lastErr = err
			s.logger.Warn("repair: copy failed", "volume", v.Id, "source", src, "target", target, "err", err)
			continue
		}
		s.addCopied(n)
		copied = true
		break
	}
	if !copied && s.hasRefs(v.Id) {
		return fmt.Errorf("copy volume %d to %s: no healthy source (holders %v): %w", v.Id, target, d.holders, lastErr)
	}
	// Without references and without a copy anywhere there is nothing to
	// copy: the new server creates its files on the first write.
	if target != bad {
		next := slices.Clone(v.Servers)
		next[slices.Index(next, bad)] = target
		if _, err := s.propose(ctx, meta.SetVolumeReplicas(v.Id, v.Servers, next)); err != nil {
			return err
		}
		if srv := servers[bad]; srv != nil && srv.State == blobdraftv1.ServerState_SERVER_STATE_UP {
			// Its copy is no longer listed; GC there would drop it too.
			if c, _, err := s.volumeClientOf(bad); err == nil {
				_, _ = c.DropVolume(ctx, &blobdpeerv1.DropVolumeRequest{Vid: v.Id})
			}
		}
	}
	s.logger.Info("repair: volume copy replaced", "volume", v.Id, "lost", bad, "new", target)
	return nil
}

// copyVolume makes target pull volume vid from src and checks that the copy
// holds as many live needles as the source (a write in flight when the
// volume became READONLY copies again, a few times at most). It returns
// the bytes copied.
func (s *Server) copyVolume(ctx context.Context, vid uint32, src, target string) (int64, error) {
	sc, srcRec, err := s.volumeClientOf(src)
	if err != nil {
		return 0, err
	}
	tc, _, err := s.volumeClientOf(target)
	if err != nil {
		return 0, err
	}
	var total int64
	for attempt := 0; attempt < 3; attempt++ {
		resp, err := tc.ReceiveVolume(ctx, &blobdpeerv1.ReceiveVolumeRequest{Vid: vid, Source: srcRec.Addr})
		if err != nil {
			return total, err
		}
		total += resp.GetBytes()
		have, err := volumeNeedles(ctx, tc, vid)
		if err != nil {
			return total, err
		}
		want, err := volumeNeedles(ctx, sc, vid)
		if err != nil {
			return total, err
		}
		if have >= want {
			return total, nil
		}
	}
	return total, fmt.Errorf("copy of volume %d on %s keeps missing needles of %s", vid, target, src)
}

// volumeNeedles returns the live needles a server reports for vid.
func volumeNeedles(ctx context.Context, c blobdpeerv1.VolumeServiceClient, vid uint32) (int64, error) {
	st, err := c.VolumeStatus(ctx, &blobdpeerv1.VolumeStatusRequest{})
	if err != nil {
		return 0, err
	}
	for _, vi := range st.GetVolumes() {
		if vi.GetVid() == vid {
			return vi.GetNeedles(), nil
		}
	}
	return 0, fmt.Errorf("%w: %d", meta.ErrVolumeNotFound, vid)
}

// repairSingle rebuilds every referenced shard of a SINGLE volume whose
// server is lost, then drops the volume.
func (s *Server) repairSingle(ctx context.Context, d degradedVolume) error {
	vid := d.vol.Id
	objects, parts, err := s.referencingObjects(vid, nil)
	if err != nil {
		return err
	}
	isBad := func(ref *blobdraftv1.NeedleRef) bool { return ref.GetVid() == vid }
	for _, o := range objects {
		if err := s.rebuildShards(ctx, o[0], o[1], isBad); err != nil {
			return fmt.Errorf("object %q in bucket %q: %w", o[1], o[0], err)
		}
	}
	if parts > 0 || s.hasRefs(vid) {
		return fmt.Errorf("volume %d is still referenced (%d by upload parts)", vid, parts)
	}
	if _, err := s.propose(ctx, meta.DropVolume(vid)); err != nil && !errors.Is(err, meta.ErrVolumeNotFound) {
		return err
	}
	s.logger.Info("repair: shards rebuilt, volume dropped", "volume", vid, "server", d.vol.Servers, "objects", len(objects))
	return nil
}

// referencingObjects returns the objects (bucket, key) with a chunk in
// volume vid, each once, limited to needle nids when not nil, and how many
// references are upload parts'.
func (s *Server) referencingObjects(vid uint32, nids map[uint64]struct{}) (objects [][2]string, parts int, err error) {
	seen := map[[2]string]bool{}
	for r, err := range s.meta.NeedleRefs(vid) {
		if err != nil {
			return nil, 0, err
		}
		if nids != nil {
			if _, ok := nids[r.Nid]; !ok {
				continue
			}
		}
		if r.Owner.GetUploadId() != "" {
			parts++
			continue
		}
		k := [2]string{r.Owner.GetBucket(), r.Owner.GetKey()}
		if !seen[k] {
			seen[k] = true
			objects = append(objects, k)
		}
	}
	return objects, parts, nil
}

// rebuildShards rebuilds every shard of bucket/key's erasure-coded chunks
// that isBad names (and any other its chunk has lost for good), writes each
// to a SINGLE volume on a server holding no other shard of its chunk, and
// swaps the manifest (SetObjectTier, same tier, expected etag and manifest
// index). An object changed meanwhile (its manifest swapped by a tier move
// or another rebuild) is read again; one deleted is done. The swap is
// committed at least every GCGrace/4, so no rebuilt needle is old enough
// for garbage collection before its reference exists (the state machine
// refuses one that is: ErrNeedleTooOld, and the round is done again).
func (s *Server) rebuildShards(ctx context.Context, bucket, key string, isBad func(*blobdraftv1.NeedleRef) bool) error {
	for attempt := 0; attempt < 10; attempt++ {
		more, err := s.rebuildShardsOnce(ctx, bucket, key, isBad)
		switch {
		case errors.Is(err, meta.ErrPreconditionFailed), errors.Is(err, meta.ErrNeedleTooOld):
			continue // the object changed (or the round was too slow): read it again
		case errors.Is(err, meta.ErrObjectNotFound), errors.Is(err, meta.ErrBucketNotFound):
			return nil
		case err != nil:
			return err
		case !more:
			return nil
		}
	}
	return fmt.Errorf("object %q keeps changing", key)
}

// rebuildShardsOnce does one read-rebuild-swap round of rebuildShards;
// more tells that bad shards were left for another round.
func (s *Server) rebuildShardsOnce(ctx context.Context, bucket, key string, isBad func(*blobdraftv1.NeedleRef) bool) (more bool, err error) {
	if err := s.barrier(ctx); err != nil {
		return false, err
	}
	o, err := s.meta.Object(bucket, key)
	if err != nil {
		return false, err
	}
	view, err := s.clusterView()
	if err != nil {
		return false, err
	}
	chunks := make([]*blobdraftv1.Chunk, len(o.Chunks))
	for i, c := range o.Chunks {
		chunks[i] = proto.Clone(c).(*blobdraftv1.Chunk)
	}
	var written []*blobdraftv1.NeedleRef
	discard := func() { s.deleteNeedles(context.WithoutCancel(ctx), written) }
	changed := false
	commitBy := time.Now().Add(s.cfg.GCGrace / 4)
	for i, c := range o.Chunks {
		if c.GetEc() == nil || !slices.ContainsFunc(c.GetEc().GetShards(), isBad) {
			continue
		}
		if changed && time.Now().After(commitBy) {
			more = true
			break
		}
		nc, w, err := s.rebuildChunk(ctx, c, o.Tier, isBad, view)
		written = append(written, w...)
		if err != nil {
			discard()
			return false, fmt.Errorf("chunk %d: %w", i, err)
		}
		chunks[i] = nc
		changed = true
	}
	if !changed {
		return false, nil
	}
	res, err := s.propose(ctx, meta.SetObjectTier(bucket, key, o.Etag, meta.ManifestIndex(o), o.Tier, chunks))
	if err != nil {
		if definitelyRejected(err) {
			discard()
		}
		return false, err
	}
	if o.RestoreState != blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED {
		// SetObjectTier clears the restore state; keep the restore asked.
		if _, err := s.propose(ctx, meta.SetRestore(bucket, key, o.RestoreState, time.Unix(0, o.RestoreUntilUnixNanos))); err != nil {
			s.logger.Warn("repair: keep restore state", "bucket", bucket, "key", key, "err", err)
		}
	}
	s.deleteNeedles(ctx, res.GetFreed())
	return more, nil
}

// clusterView is the servers and volumes as the metadata records them, for
// placing rebuilt shards.
type clusterView struct {
	up      []string
	servers map[string]*blobdraftv1.ServerRecord
	vols    []*blobdraftv1.VolumeRecord
	byID    map[uint32]*blobdraftv1.VolumeRecord
}

func (s *Server) clusterView() (*clusterView, error) {
	up, servers, err := s.upServers()
	if err != nil {
		return nil, err
	}
	vols, err := s.meta.Volumes()
	if err != nil {
		return nil, err
	}
	v := &clusterView{up: up, servers: servers, vols: vols, byID: map[uint32]*blobdraftv1.VolumeRecord{}}
	for _, vr := range vols {
		v.byID[vr.Id] = vr
	}
	return v, nil
}

// serverOf returns the server of a shard's SINGLE volume ("" if unknown).
func (v *clusterView) serverOf(ref *blobdraftv1.NeedleRef) string {
	if vr := v.byID[ref.GetVid()]; vr != nil && len(vr.Servers) == 1 {
		return vr.Servers[0]
	}
	return ""
}

func (v *clusterView) isUp(id string) bool {
	r := v.servers[id]
	return r != nil && r.State == blobdraftv1.ServerState_SERVER_STATE_UP
}

// rebuildChunk returns chunk c with the shards isBad names (and any other
// found gone for good) rebuilt from the others and written to servers free
// of the chunk's shards, or, when too few servers are free, c written again
// whole in the scheme the servers up now allow. written lists the needles
// it stored, also on error.
func (s *Server) rebuildChunk(ctx context.Context, c *blobdraftv1.Chunk, tier blobdraftv1.Tier, isBad func(*blobdraftv1.NeedleRef) bool, view *clusterView) (nc *blobdraftv1.Chunk, written []*blobdraftv1.NeedleRef, err error) {
	layout := c.GetEc()
	var lost []int
	shards := make([][]byte, len(layout.Shards))
	for j, sh := range layout.Shards {
		if isBad(sh) {
			lost = append(lost, j)
		}
	}
	for j, sh := range layout.Shards {
		if slices.Contains(lost, j) || !view.isUp(view.serverOf(sh)) {
			continue
		}
		data, err := s.fetchNeedle(ctx, view.serverOf(sh), sh)
		switch {
		case err == nil:
			shards[j] = data
		case isLostNeedle(err):
			lost = append(lost, j) // gone for good: rebuild it too
		}
	}
	used := map[string]bool{}
	for j, sh := range layout.Shards {
		if !slices.Contains(lost, j) {
			used[view.serverOf(sh)] = true
		}
	}
	targets := make([]string, len(lost))
	for n := range lost {
		targets[n] = pickServer(view.up, view.vols, used)
		used[targets[n]] = true
	}
	if slices.Contains(targets, "") {
		// Fewer servers than shards now: write the chunk again, in the
		// scheme the servers that are up allow.
		nc, err := s.rewriteChunk(ctx, c, tier)
		if err != nil {
			return nil, nil, err
		}
		return nc, chunkNeedles([]*blobdraftv1.Chunk{nc}), nil
	}
	scheme := ec.Scheme{Data: int(layout.Data), Parity: int(layout.Parity)}
	if _, err := ec.Reconstruct(scheme, shards); err != nil {
		return nil, nil, err
	}
	first, err := s.allocateNeedles(ctx, len(lost))
	if err != nil {
		return nil, nil, err
	}
	nc = proto.Clone(c).(*blobdraftv1.Chunk)
	for n, j := range lost {
		target := targets[n]
		vid, err := s.singleVolumeOn(ctx, target, view.vols)
		if err != nil {
			return nil, written, err
		}
		if _, ok := view.byID[vid]; !ok {
			vr := &blobdraftv1.VolumeRecord{Id: vid, Kind: blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE,
				Servers: []string{target}, State: blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE}
			view.vols = append(view.vols, vr)
			view.byID[vid] = vr
		}
		ref := &blobdraftv1.NeedleRef{Vid: vid, Nid: first + uint64(n), Cookie: rand.Uint32()}
		if err := s.maint.repairPacer.wait(ctx, int64(len(shards[j]))); err != nil {
			return nil, written, err
		}
		written = append(written, ref)
		if err := s.putShardNeedle(ctx, target, ref, shards[j]); err != nil {
			return nil, written, fmt.Errorf("write shard %d to %s: %w", j, target, err)
		}
		s.addCopied(int64(len(shards[j])))
		nc.GetEc().Shards[j] = ref
	}
	return nc, written, nil
}

// rewriteChunk reads chunk c (decoding what is left of it) and writes it
// again in tier, paced as repair traffic; the result keeps c's offset.
func (s *Server) rewriteChunk(ctx context.Context, c *blobdraftv1.Chunk, tier blobdraftv1.Tier) (*blobdraftv1.Chunk, error) {
	data, err := s.readChunk(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.maint.repairPacer.wait(ctx, int64(len(data))); err != nil {
		return nil, err
	}
	nc, err := s.writeChunk(ctx, tier, data)
	if err != nil {
		return nil, err
	}
	nc.Offset = c.Offset
	s.addCopied(int64(len(data)))
	return nc, nil
}

// isLostNeedle tells whether a read failure means the needle is gone from
// that server for good (not found, corrupt, or its volume missing), as
// opposed to the server being unreachable.
func isLostNeedle(err error) bool {
	switch ReasonOf(err) {
	case rpcerr.NeedleNotFound, rpcerr.CorruptData, rpcerr.VolumeNotFound, rpcerr.CorruptBatch:
		return true
	}
	return errors.Is(err, volume.ErrNotFound) || errors.Is(err, volume.ErrCorrupt) ||
		errors.Is(err, volume.ErrVolumeNotFound) || errors.Is(err, volume.ErrCookieMismatch) || errors.Is(err, volume.ErrDamaged)
}

func shuffled(ids []string) []string {
	out := slices.Clone(ids)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
