package blobd

// Placement, on the metadata leader: keep Config.WritableVolumes writable
// REPLICATED volumes, each on Config.Replicas distinct live servers (UP,
// heard from lately, and no write of the leader's failed on them since
// their last heartbeat), least loaded first, with every live server in at
// least one of them (so a server that joins or returns takes writes at
// once) and, when there are more live servers than Replicas, every live
// server left out of at least one of them (so a write whose replica fails
// goes on at once on another volume); one writable SINGLE volume (for
// erasure-coded shards) on every live server. A writable volume is marked
// FULL when a server reports it near MaxVolumeBytes, or reports its copy
// damaged, or has lacked its copy in two heartbeats although the volume
// holds data (its files were lost: writes there would fail until repair
// replaces the copy). A new leader places replicated volumes once every UP
// server has heartbeated it, or two heartbeats after its election. The
// volume files are created on their servers right after the commit, best
// effort: a server creates a volume the metadata places on it at its first
// write anyway.

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/meta"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// leaderLoop runs the leader's duties every HeartbeatInterval, or at once
// when kicked: mark silent servers DOWN, then keep volumes placed.
func (s *Server) leaderLoop(ctx context.Context) {
	for {
		if !s.pause(ctx, s.core.live.kick, s.cfg.HeartbeatInterval) {
			return
		}
		if lead, _ := s.leading(); !lead || !s.node.IsLeader() {
			continue
		}
		s.markSilentServers(ctx)
		s.placeVolumes(ctx)
	}
}

// fullBytes is the size at which a volume is marked FULL: a few chunks
// (and a twentieth) short of MaxVolumeBytes, so that writes in flight and
// tombstones still fit.
func (s *Server) fullBytes() int64 {
	return s.cfg.MaxVolumeBytes - max(s.cfg.MaxVolumeBytes/20, 2*int64(s.cfg.ChunkBytes))
}

// reportedSizes returns the largest size any server reported for each
// volume since this node became leader.
func (s *Server) reportedSizes() map[uint32]int64 {
	l := &s.core.live
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[uint32]int64{}
	for _, h := range l.heard {
		for _, v := range h.volumes {
			out[v.GetVid()] = max(out[v.GetVid()], v.GetSize())
		}
	}
	return out
}

// heardWithin returns the servers the leader heard from within d, and
// those among them that failed a write of this node since their last
// heartbeat; it forgets the failures a later heartbeat cleared.
func (s *Server) heardWithin(d time.Duration) (heard, failed map[string]bool) {
	l := &s.core.live
	l.mu.Lock()
	defer l.mu.Unlock()
	heard, failed = map[string]bool{}, map[string]bool{}
	now := s.now()
	for id, h := range l.heard {
		if now.Sub(h.at) <= d {
			heard[id] = true
			if at, ok := l.writeFailed[id]; ok && at.After(h.at) {
				failed[id] = true
			}
		}
	}
	for id, at := range l.writeFailed {
		if h := l.heard[id]; h == nil || !at.After(h.at) {
			delete(l.writeFailed, id)
		}
	}
	return heard, failed
}

// lostCopies returns the writable REPLICATED volumes of vols with a copy
// that cannot take writes, and that copy's server: the server (heard from
// since this node leads) reports it damaged, or lacked it in two
// heartbeats in a row although the volume holds data, so its files were
// lost (a new volume's files appear with its first write, before anything
// references it).
func (s *Server) lostCopies(vols []*blobdraftv1.VolumeRecord) map[uint32]string {
	type lack struct {
		key     copyKey
		at      time.Time // the heartbeat that lacks it
		damaged bool
	}
	l := &s.core.live
	var lacks []lack
	l.mu.Lock()
	for _, v := range vols {
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE || v.GetKind() != blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED {
			continue
		}
		for _, id := range v.GetServers() {
			h := l.heard[id]
			if h == nil {
				continue
			}
			i := slices.IndexFunc(h.volumes, func(vi *blobdpeerv1.VolumeInfo) bool { return vi.GetVid() == v.GetId() })
			switch {
			case i < 0:
				lacks = append(lacks, lack{key: copyKey{vid: v.GetId(), server: id}, at: h.at})
			case h.volumes[i].GetDamaged():
				lacks = append(lacks, lack{key: copyKey{vid: v.GetId(), server: id}, at: h.at, damaged: true})
			}
		}
	}
	l.mu.Unlock()
	out := map[uint32]string{}
	seen := map[copyKey]bool{}
	now := s.now()
	for _, c := range lacks {
		if c.damaged {
			out[c.key.vid] = c.key.server
			continue
		}
		if !s.hasRefs(c.key.vid) {
			continue
		}
		seen[c.key] = true
		l.mu.Lock()
		first, ok := l.lacking[c.key]
		if !ok {
			l.lacking[c.key] = now
		}
		l.mu.Unlock()
		if ok && c.at.After(first) {
			out[c.key.vid] = c.key.server
		}
	}
	l.mu.Lock()
	for k := range l.lacking {
		if !seen[k] {
			delete(l.lacking, k)
		}
	}
	l.mu.Unlock()
	return out
}

// placeVolumes does one round of placement (see the file's comment).
func (s *Server) placeVolumes(ctx context.Context) {
	servers, err := s.meta.Servers()
	if err != nil {
		s.logger.Warn("placement: read servers", "err", err)
		return
	}
	vols, err := s.meta.Volumes()
	if err != nil {
		s.logger.Warn("placement: read volumes", "err", err)
		return
	}
	// Only live servers take new volumes (and count for the writable
	// ones): one that just went silent is not DOWN yet.
	heard, failed := s.heardWithin(max(3*s.cfg.HeartbeatInterval, s.cfg.ServerTimeout/2))
	up := map[string]*blobdraftv1.ServerRecord{}
	unheard := false
	for _, r := range servers {
		if r.GetState() != blobdraftv1.ServerState_SERVER_STATE_UP {
			continue
		}
		switch id := r.GetId(); {
		case !heard[id]:
			unheard = true
		case !failed[id]:
			up[id] = r
		}
	}
	_, since := s.leading()
	settled := !unheard || s.now().Sub(since) >= 2*s.cfg.HeartbeatInterval
	sizes := s.reportedSizes()
	full := s.fullBytes()
	lost := s.lostCopies(vols)
	for _, v := range vols {
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE {
			continue
		}
		lostOn, isLost := lost[v.GetId()]
		if sizes[v.GetId()] < full && !isLost {
			continue
		}
		if _, err := s.proposeAsLeader(ctx, meta.SetVolumeState(v.GetId(), blobdraftv1.VolumeState_VOLUME_STATE_FULL)); err != nil {
			s.logger.Warn("placement: mark a volume full", "vid", v.GetId(), "err", err)
			return
		}
		if isLost {
			s.logger.Warn("volume full: a copy is lost or damaged; writes go to other volumes until repair replaces it", "vid", v.GetId(), "server", lostOn)
		} else {
			s.logger.Info("volume full", "vid", v.GetId(), "bytes", sizes[v.GetId()])
		}
		v.State = blobdraftv1.VolumeState_VOLUME_STATE_FULL
	}

	p := placer{up: up, load: map[string]int{}, total: map[string]int{}, covered: map[string]bool{}}
	usable := 0
	hasSingle := map[string]bool{}
	for _, v := range vols {
		for _, id := range v.GetServers() {
			p.total[id]++
		}
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE || !p.allUp(v.GetServers()) {
			continue
		}
		switch v.GetKind() {
		case blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED:
			if len(v.GetServers()) >= s.cfg.Replicas {
				usable++
				p.add(v.GetServers())
			}
		case blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE:
			hasSingle[v.GetServers()[0]] = true
		}
	}
	ids := make([]string, 0, len(up))
	for id := range up {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if settled && len(up) >= s.cfg.Replicas {
		for range len(up) + s.cfg.WritableVolumes {
			if usable >= s.cfg.WritableVolumes && len(p.covered) == len(up) {
				break
			}
			picked := p.pick(s.cfg.Replicas, "")
			if !s.createVolume(ctx, blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, picked, up) {
				return
			}
			usable++
			p.add(picked)
		}
		for _, id := range ids {
			if len(up) <= s.cfg.Replicas || p.leavesOut(id) {
				continue
			}
			picked := p.pick(s.cfg.Replicas, id)
			if !s.createVolume(ctx, blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, picked, up) {
				return
			}
			p.add(picked)
		}
	}
	for _, id := range ids {
		if !hasSingle[id] && !s.createVolume(ctx, blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE, []string{id}, up) {
			return
		}
	}
}

// placer picks servers for new volumes.
type placer struct {
	up map[string]*blobdraftv1.ServerRecord
	// load counts the usable writable replicated volumes on each server,
	// total every volume; covered holds the servers in at least one usable
	// writable replicated volume; sets are those volumes' servers.
	load, total map[string]int
	covered     map[string]bool
	sets        [][]string
}

func (p *placer) allUp(servers []string) bool {
	for _, id := range servers {
		if p.up[id] == nil {
			return false
		}
	}
	return len(servers) > 0
}

func (p *placer) add(servers []string) {
	for _, id := range servers {
		p.load[id]++
		p.covered[id] = true
	}
	p.sets = append(p.sets, servers)
}

// leavesOut says whether some usable writable replicated volume is not on
// server id.
func (p *placer) leavesOut(id string) bool {
	for _, set := range p.sets {
		if !slices.Contains(set, id) {
			return true
		}
	}
	return false
}

// pick returns n UP servers other than skip, least loaded first: servers
// in no writable volume, then by fewest writable volumes, fewest volumes,
// most free bytes. The caller ensures there are n.
func (p *placer) pick(n int, skip string) []string {
	ids := make([]string, 0, len(p.up))
	for id := range p.up {
		if id != skip {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		if ca, cb := p.covered[a], p.covered[b]; ca != cb {
			if ca {
				return 1
			}
			return -1
		}
		return cmp.Or(
			cmp.Compare(p.load[a], p.load[b]),
			cmp.Compare(p.total[a], p.total[b]),
			cmp.Compare(p.up[b].GetFreeBytes(), p.up[a].GetFreeBytes()),
			cmp.Compare(a, b))
	})
	picked := ids[:n]
	for _, id := range picked {
		p.total[id]++
	}
	return picked
}

// createVolume commits a new volume on servers and creates its files there;
// it reports whether the commit succeeded.
func (s *Server) createVolume(ctx context.Context, kind blobdraftv1.VolumeKind, servers []string, up map[string]*blobdraftv1.ServerRecord) bool {
	res, err := s.proposeAsLeader(ctx, meta.CreateVolume(kind, servers, 0))
	if err != nil {
		s.logger.Warn("placement: create a volume", "kind", kind, "servers", servers, "err", err)
		return false
	}
	v := res.GetVolume()
	s.logger.Info("placed a volume", "vid", v.GetId(), "kind", kind, "servers", servers)
	s.createVolumeFiles(ctx, v.GetId(), servers, up)
	return true
}

// createVolumeFiles creates volume vid on each of servers, in parallel and
// best effort (a server also creates it at its first write).
func (s *Server) createVolumeFiles(ctx context.Context, vid uint32, servers []string, up map[string]*blobdraftv1.ServerRecord) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range servers {
		if id == s.cfg.ID {
			if err := s.vols.Create(vid); err != nil {
				s.logger.Debug("placement: create a local volume", "vid", vid, "err", err)
			}
			continue
		}
		conn, err := s.peers.Conn(up[id].GetAddr())
		if err != nil {
			continue
		}
		wg.Go(func() {
			if _, err := blobdpeerv1.NewVolumeServiceClient(conn).CreateVolume(ctx, &blobdpeerv1.CreateVolumeRequest{Vid: vid}); err != nil {
				s.logger.Debug("placement: create a volume on its server", "vid", vid, "server", id, "err", err)
			}
		})
	}
	wg.Wait()
}
