package blobd

// Placement, on the metadata leader: keep Config.WritableVolumes writable
// REPLICATED volumes, each on Config.Replicas distinct UP servers, least
// loaded first, with every UP server in at least one of them (so a server
// that joins takes writes at once); one writable SINGLE volume (for
// erasure-coded shards) on every UP server; volumes reported near
// MaxVolumeBytes marked FULL. The volume files are created on their servers
// right after the commit, best effort: a server creates a volume the
// metadata places on it at its first write anyway.

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
	up := map[string]*blobdraftv1.ServerRecord{}
	for _, r := range servers {
		if r.GetState() == blobdraftv1.ServerState_SERVER_STATE_UP {
			up[r.GetId()] = r
		}
	}
	sizes := s.reportedSizes()
	full := s.fullBytes()
	for _, v := range vols {
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE || sizes[v.GetId()] < full {
			continue
		}
		if _, err := s.proposeAsLeader(ctx, meta.SetVolumeState(v.GetId(), blobdraftv1.VolumeState_VOLUME_STATE_FULL)); err != nil {
			s.logger.Warn("placement: mark a volume full", "vid", v.GetId(), "err", err)
			return
		}
		s.logger.Info("volume full", "vid", v.GetId(), "bytes", sizes[v.GetId()])
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
	if len(up) >= s.cfg.Replicas {
		for range len(up) + s.cfg.WritableVolumes {
			if usable >= s.cfg.WritableVolumes && len(p.covered) == len(up) {
				break
			}
			picked := p.pick(s.cfg.Replicas)
			if !s.createVolume(ctx, blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, picked, up) {
				return
			}
			usable++
			p.add(picked)
		}
	}
	ids := make([]string, 0, len(up))
	for id := range up {
		ids = append(ids, id)
	}
	slices.Sort(ids)
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
	// writable replicated volume.
	load, total map[string]int
	covered     map[string]bool
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
}

// pick returns n UP servers, least loaded first: servers in no writable
// volume, then by fewest writable volumes, fewest volumes, most free bytes.
func (p *placer) pick(n int) []string {
	ids := make([]string, 0, len(p.up))
	for id := range p.up {
		ids = append(ids, id)
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
