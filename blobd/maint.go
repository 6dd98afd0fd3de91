package blobd

// Maintenance keeps data redundant and tidy over time. Every node runs the
// scrubber and the garbage collector over its own volumes; the metadata
// leader also runs the repair loop, lifecycle rules and restores:
//
//	loop       where    every               what
//	repair     leader   HeartbeatInterval   re-copy replicas, rebuild EC shards (repair.go)
//	scrub      all      ScrubInterval       re-read every needle; corrupt ones are reported
//	                                        at once, kept across restarts, local EC shards
//	                                        rebuilt (scrub.go)
//	gc         all      GCInterval          delete unreferenced old needles, compact, drop
//	                                        volumes no longer ours; leader drops empty FULL
//	                                        volumes (gc.go)
//	lifecycle  leader   LifecycleInterval   transitions, expirations, aborts (lifecycle.go)
//	restore    leader   LifecycleInterval   finish and lapse restores (restore.go)
//
// Every loop runs under the daemon's RunWhileServing, so it starts once Raft
// is up and stops (and is waited for) at shutdown; goroutines a loop starts
// are waited for before the loop's pass returns.

import (
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/blobd/meta"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Tuning of the maintenance loops.
const (
	// repairConcurrency bounds the volumes (and objects) repaired at once.
	repairConcurrency = 2
	// moveConcurrency bounds the lifecycle transitions running at once.
	moveConcurrency = 2
	// compactRatio: a volume whose deleted bytes exceed this share of its
	// size is compacted.
	compactRatio = 0.30
	// maxRestoreDays bounds RestoreObject's days (and lets restore.go carry
	// them inside a timestamp's sub-millisecond digits).
	maxRestoreDays = 36500
)

// maintState is the memory of the maintenance loops. The leader-only parts
// (repair progress, observation times) start afresh when this node becomes
// leader.
type maintState struct {
	repairPacer *pacer
	// skew shifts the clock the lifecycle and restore loops decide by (not
	// the times they record): tests move days ahead with it.
	skew atomic.Int64

	// mu protects the fields below.
	mu sync.Mutex
	// corrupt holds, per local volume, the needles found failing their
	// checksum (by the scrubber or a reader) and not since repaired.
	corrupt map[uint32]map[uint64]struct{}
	// lastScrub is when the scrubber last finished a pass; scrubFound
	// counts the corrupt needles it has found in all.
	lastScrub  time.Time
	scrubFound int64
	// orphanSince is when GC first saw a local volume the metadata does not
	// list for this server.
	orphanSince map[uint32]time.Time
	// shardRepairs are the objects whose shards this node is rebuilding.
	shardRepairs map[string]bool
	// reportC wakes the scrub loop to persist the corrupt needles and
	// report them to the leader at once (reportCorrupt).
	reportC chan struct{}

	// leader-only state, reset by leaderEpoch when leadership is gained.
	leader       bool
	bytesCopied  int64
	repairing    map[uint32]bool         // volumes being repaired
	missingSince map[[2]string]time.Time // (vid, server) → first seen without its copy
	emptySince   map[uint32]time.Time    // FULL volume → first seen without references
	moving       map[string]bool         // objects a lifecycle transition is moving
	lastDegraded int                     // degraded volumes found by the last pass
}

func newMaintState(cfg Config) *maintState {
	return &maintState{
		repairPacer:  newPacer(cfg.RepairBytesPerSec),
		corrupt:      map[uint32]map[uint64]struct{}{},
		orphanSince:  map[uint32]time.Time{},
		shardRepairs: map[string]bool{},
		reportC:      make(chan struct{}, 1),
		repairing:    map[uint32]bool{},
		missingSince: map[[2]string]time.Time{},
		emptySince:   map[uint32]time.Time{},
		moving:       map[string]bool{},
	}
}

// registerMaintenance sets up the maintenance state and loops (see the top
// of this file).
func (s *Server) registerMaintenance() {
	s.maint = newMaintState(s.cfg)
	s.d.RunWhileServing(s.repairLoop)
	s.d.RunWhileServing(s.scrubLoop)
	s.d.RunWhileServing(s.gcLoop)
	s.d.RunWhileServing(s.lifecycleLoop)
	s.d.RunWhileServing(s.restoreLoop)
}

// isLeader tells whether this node leads the metadata group; on gaining
// leadership it clears the leader-only memory, so progress counts from this
// term.
func (s *Server) isLeader() bool {
	lead := s.node.IsLeader()
	m := s.maint
	m.mu.Lock()
	defer m.mu.Unlock()
	if lead && !m.leader {
		m.bytesCopied, m.lastDegraded = 0, 0
		clear(m.missingSince)
		clear(m.emptySince)
	}
	m.leader = lead
	return lead
}

// maintNow is the clock the lifecycle and restore loops decide by.
func (s *Server) maintNow() time.Time {
	return s.now().Add(time.Duration(s.maint.skew.Load()))
}

// every runs pass every interval until ctx ends (never when interval <= 0).
func every(ctx context.Context, interval time.Duration, pass func(ctx context.Context)) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pass(ctx)
		}
	}
}

// pacer spreads work over time at a bytes-per-second rate: wait(n) returns
// once the bytes before it have had their time.
type pacer struct {
	rate int64 // <= 0: unbounded

	mu   sync.Mutex // protects next
	next time.Time
}

func newPacer(rate int64) *pacer { return &pacer{rate: rate} }

// wait reserves n bytes and blocks until the bytes reserved before may be
// considered done; ctx's error if it ends first.
func (p *pacer) wait(ctx context.Context, n int64) error {
	if p.rate <= 0 || n <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(time.Duration(float64(n) / float64(p.rate) * float64(time.Second)))
	p.mu.Unlock()
	d := time.Until(start)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// volumeClientOf returns a VolumeService client for a registered server.
func (s *Server) volumeClientOf(id string) (blobdpeerv1.VolumeServiceClient, *blobdraftv1.ServerRecord, error) {
	srv, err := s.meta.Server(id)
	if err != nil {
		return nil, nil, err
	}
	conn, err := s.peers.Conn(srv.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("blobd: dial volume server %s at %s: %w", id, srv.Addr, err)
	}
	return blobdpeerv1.NewVolumeServiceClient(conn), srv, nil
}

// fetchNeedle reads a whole needle from server (this node's store when it
// is this node), verified by its checksum.
func (s *Server) fetchNeedle(ctx context.Context, server string, ref *blobdraftv1.NeedleRef) ([]byte, error) {
	r := replica{id: server, up: true}
	if server != s.cfg.ID {
		srv, err := s.meta.Server(server)
		if err != nil {
			return nil, err
		}
		r.addr = srv.Addr
	}
	return s.getNeedle(ctx, r, ref, 0, -1)
}

// putShardNeedle writes data as needle ref on server and waits for its
// fsync.
func (s *Server) putShardNeedle(ctx context.Context, server string, ref *blobdraftv1.NeedleRef, data []byte) error {
	srv, err := s.meta.Server(server)
	if err != nil {
		return err
	}
	return s.putRemote(ctx, srv.Addr, ref, data, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
}

// allocateNeedles takes n fresh needle ids from the metadata counter: a
// block of its own (not the data path's shared one, which may be up to
// GCGrace/2 old), so a rebuilt shard stays young for garbage collection
// until its manifest swap.
func (s *Server) allocateNeedles(ctx context.Context, n int) (uint64, error) {
	res, err := s.propose(ctx, meta.AllocateNeedles(uint64(n)))
	if err != nil {
		return 0, err
	}
	return res.GetNeedles().GetFirst(), nil
}

// upServers returns the ids of the servers recorded UP, and every server
// record by id.
func (s *Server) upServers() (up []string, all map[string]*blobdraftv1.ServerRecord, err error) {
	srvs, err := s.meta.Servers()
	if err != nil {
		return nil, nil, err
	}
	all = make(map[string]*blobdraftv1.ServerRecord, len(srvs))
	for _, r := range srvs {
		all[r.Id] = r
		if r.State == blobdraftv1.ServerState_SERVER_STATE_UP {
			up = append(up, r.Id)
		}
	}
	return up, all, nil
}

// pickServer returns the UP server outside exclude holding the fewest
// volumes (ties broken at random), or "" when there is none.
func pickServer(up []string, vols []*blobdraftv1.VolumeRecord, exclude map[string]bool) string {
	load := map[string]int{}
	for _, v := range vols {
		for _, id := range v.Servers {
			load[id]++
		}
	}
	best, bestLoad := "", 0
	for _, i := range rand.Perm(len(up)) {
		id := up[i]
		if exclude[id] {
			continue
		}
		if best == "" || load[id] < bestLoad {
			best, bestLoad = id, load[id]
		}
	}
	return best
}

// singleVolumeOn returns a writable SINGLE volume on server, creating one
// in the metadata when there is none (the server creates its files on the
// first write).
func (s *Server) singleVolumeOn(ctx context.Context, server string, vols []*blobdraftv1.VolumeRecord) (uint32, error) {
	for _, v := range vols {
		if v.Kind == blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE && v.State == blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE &&
			len(v.Servers) == 1 && v.Servers[0] == server {
			return v.Id, nil
		}
	}
	res, err := s.propose(ctx, meta.CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE, []string{server}, 0))
	if err != nil {
		return 0, err
	}
	return res.GetVolume().GetId(), nil
}

// definitelyRejected tells whether a proposal failed in the state machine
// (so nothing it named was committed), as opposed to failing on the way
// (OUTCOME_UNKNOWN and the like, when it may have been).
func definitelyRejected(err error) bool {
	return err != nil && meta.ReasonOf(err) != ""
}
