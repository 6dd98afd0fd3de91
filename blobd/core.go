package blobd

// The data path: every node is a volume server (peer.go) and reports to the
// metadata leader (heartbeat.go); the leader tracks liveness and keeps
// writable volumes placed (placement.go); every node writes and reads
// chunks over the volume servers (chunks.go, needles.go).
//
// What the object API and maintenance use (each safe for concurrent use):
//
//	writeChunk(ctx, tier, data)          store a chunk, fsynced everywhere → *Chunk (offset 0)
//	readChunk(ctx, c)                    a chunk's data from any healthy copy, CRC-checked
//	readChunkRange(ctx, c, off, n)       part of it; a replicated chunk transfers only the range
//	deleteNeedles(ctx, refs)             free needles on their servers, best effort
//	writeShard(ctx, exclude, data)       one shard onto a SINGLE volume of a server not in exclude
//	serverVolumes(id)                    (leader) a server's last heartbeat VolumeInfo and when
//	markCorrupt(vid, nid)                record a local corrupt needle (heartbeats report it)
//	corruptNeedles(vid)                  the local needles known corrupt
//	receiveVolume(ctx, vid, source)      pull a volume from source here (the ReceiveVolume RPC's body)
//	dropLocalVolume(vid)                 drop a local volume (the DropVolume RPC's body)
//	deleteLocalNeedles(vid, nids)        tombstone local needles and fsync them
//
// Reads report a corrupt local copy with localCorrupt: markCorrupt, then
// maintenance's reportCorrupt. A volume server applies the metadata's
// READONLY mark to its copy (SetReadOnly, which waits out writes in
// progress) every heartbeat and before serving CopyVolume, so a repair that
// marks a volume READONLY and then copies it misses no write. The receiver
// of a copy refuses one holding a corrupt needle: repair copies from a
// replica whose heartbeat reports no corrupt needles and no damage.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
)

// core is the data path's state. Lock order: liveness.mu, then anything
// else; no two of the other mutexes are held together.
type core struct {
	live liveness
	ids  needleIDs
	lay  layoutCache
	loc  localVolumes
	// s3Addr, when set, is the S3 address to register (SetS3Addr).
	s3Addr atomic.Pointer[string]
	// readAhead holds a token per chunk object readers fetch beyond the
	// next one each (reader.go).
	readAhead chan struct{}
}

// liveness is the metadata leader's memory of the volume servers (it is
// rebuilt by every new leader from the heartbeats it receives).
type liveness struct {
	mu sync.Mutex // protects the fields below
	// leader says whether this node leads the metadata group, since when.
	leader bool
	since  time.Time
	// heard is the last report of each server since this node became leader.
	heard map[string]*heardServer
	// registering holds the servers whose RegisterServer is in flight.
	registering map[string]bool
	// writeFailed is when a needle write of this node to each server last
	// failed (placement leaves a server out until it heartbeats again).
	writeFailed map[string]time.Time
	// lacking is when placement first saw a server lack its copy of a
	// volume that holds data (placement.go: lostCopies).
	lacking map[copyKey]time.Time

	// kick wakes the leader loop (leadership gained, a server registered).
	kick chan struct{}
}

// copyKey names a server's copy of a volume.
type copyKey struct {
	vid    uint32
	server string
}

// heardServer is a server's last heartbeat as the leader received it.
type heardServer struct {
	at       time.Time
	volumes  []*blobdpeerv1.VolumeInfo
	capacity uint64
	free     uint64
}

// localVolumes is what this volume server knows of its own volumes beyond
// the volume store: the needles found corrupt (reported in heartbeats until
// the volume is installed again) and the volumes being received.
type localVolumes struct {
	mu        sync.Mutex // protects the fields below
	corrupt   map[uint32]map[uint64]bool
	receiving map[uint32]bool
}

func newCore() *core {
	return &core{
		live: liveness{heard: map[string]*heardServer{}, registering: map[string]bool{}, writeFailed: map[string]time.Time{},
			lacking: map[copyKey]time.Time{}, kick: make(chan struct{}, 1)},
		loc:       localVolumes{corrupt: map[uint32]map[uint64]bool{}, receiving: map[uint32]bool{}},
		readAhead: make(chan struct{}, readAheadSlots),
	}
}

// registerCore registers the peer services (cairn.blobd.peer.v1) and starts
// the heartbeat and leader loops with the server. Called once from New.
func (s *Server) registerCore() {
	g := s.d.GRPC()
	blobdpeerv1.RegisterVolumeServiceServer(g, &volumeService{s: s})
	blobdpeerv1.RegisterMetaPeerServiceServer(g, &metaPeerService{s: s})
	s.d.RunWhileServing(s.heartbeatLoop)
	s.d.RunWhileServing(s.leaderLoop)
}

// onLeadership is the Raft leadership callback: a new leader forgets what
// an earlier term heard, counts silence from now, and wakes its loop. It
// never blocks.
func (s *Server) onLeadership(isLeader bool) {
	l := &s.core.live
	l.mu.Lock()
	l.leader = isLeader
	l.since = s.now()
	l.heard = map[string]*heardServer{}
	l.registering = map[string]bool{}
	l.writeFailed = map[string]time.Time{}
	l.lacking = map[copyKey]time.Time{}
	l.mu.Unlock()
	if isLeader {
		s.logger.Info("metadata leader: tracking volume servers and placing volumes")
	}
	s.kickLeader()
}

// kickLeader wakes the leader loop.
func (s *Server) kickLeader() {
	select {
	case s.core.live.kick <- struct{}{}:
	default:
	}
}

// pause waits for d, a wake-up or the end of ctx or of the server; it
// returns false when ctx ended or the server is stopping.
func (s *Server) pause(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
	case <-ctx.Done():
		return false
	case <-s.stopping():
		return false
	}
	return true
}
