package blobd

// Heartbeats: every node reports itself as a volume server to the metadata
// leader every HeartbeatInterval (the leader to itself, in-process). The
// leader registers unknown, moved or returning servers through Raft, keeps
// the last report of each in memory (for placement and the repair loop) and
// marks a server DOWN after ServerTimeout of silence, counted from when it
// became leader at the earliest.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// heartbeatLoop reports this node to the metadata leader every
// HeartbeatInterval, and applies the metadata's read-only marks to the
// local volumes (so they hold after a restart and follow repairs).
func (s *Server) heartbeatLoop(ctx context.Context) {
	for {
		s.applyVolumeStates()
		if err := s.sendHeartbeat(ctx); err != nil && ctx.Err() == nil {
			s.logger.Debug("heartbeat", "err", err)
		}
		if !s.pause(ctx, nil, s.cfg.HeartbeatInterval) {
			return
		}
	}
}

// advertisedAddr is the gRPC address other nodes reach this one at.
func (s *Server) advertisedAddr() string {
	if s.cfg.Advertise != "" {
		return s.cfg.Advertise
	}
	return s.Addr()
}

// SetS3Addr sets the S3 address this server registers with the metadata
// (ServerRecord.s3_addr, for presigned URLs and redirects) in place of
// Config.S3Addr: the S3 front end calls it with the address it bound when
// that differs (a port 0). Safe for concurrent use.
func (s *Server) SetS3Addr(addr string) { s.core.s3Addr.Store(&addr) }

// s3Addr is the S3 address this server registers.
func (s *Server) s3Addr() string {
	if p := s.core.s3Addr.Load(); p != nil {
		return *p
	}
	return s.cfg.S3Addr
}

// heartbeatRequest describes this volume server now.
func (s *Server) heartbeatRequest() *blobdpeerv1.HeartbeatRequest {
	capacity, free := diskSpace(filepath.Join(s.cfg.DataDir, VolumesDir))
	return &blobdpeerv1.HeartbeatRequest{
		ServerId: s.cfg.ID, Addr: s.advertisedAddr(), S3Addr: s.s3Addr(),
		Volumes: s.localVolumeInfos(), CapacityBytes: capacity, FreeBytes: free,
	}
}

// sendHeartbeat reports once to the leader (itself when it leads).
func (s *Server) sendHeartbeat(ctx context.Context) error {
	req := s.heartbeatRequest()
	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.ServerTimeout/2, s.cfg.HeartbeatInterval))
	defer cancel()
	if s.node.IsLeader() {
		return s.heartbeat(ctx, req)
	}
	conn, err := s.node.LeaderConn()
	if err != nil {
		return err
	}
	_, err = blobdpeerv1.NewMetaPeerServiceClient(conn).Heartbeat(ctx, req)
	return err
}

// notLeader is ErrNotLeader naming the leader this node knows of.
func (s *Server) notLeader() error {
	id, addr := s.node.Leader()
	if id == "" {
		return fmt.Errorf("%w: no leader is known", raftnode.ErrNotLeader)
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w (the leader is %s at %s)", raftnode.ErrNotLeader, id, addr),
		rpcerr.KeyLeader, id, rpcerr.KeyLeaderAddr, addr)
}

// heartbeat records a server's report on the leader (ErrNotLeader on a
// follower). A server the metadata does not know, knows at other
// addresses, holds DOWN, or whose free space moved by over 5% of its
// capacity is registered (RegisterServer) before it returns.
func (s *Server) heartbeat(ctx context.Context, req *blobdpeerv1.HeartbeatRequest) error {
	id := req.GetServerId()
	switch {
	case id == "":
		return invalidField("server_id", "empty server id")
	case req.GetAddr() == "":
		return invalidField("addr", "empty server address")
	}
	l := &s.core.live
	l.mu.Lock()
	if !l.leader {
		l.mu.Unlock()
		return s.notLeader()
	}
	l.heard[id] = &heardServer{at: s.now(), volumes: req.GetVolumes(), capacity: req.GetCapacityBytes(), free: req.GetFreeBytes()}
	busy := l.registering[id]
	l.mu.Unlock()
	rec, err := s.meta.Server(id)
	if err != nil && !errors.Is(err, meta.ErrServerNotFound) {
		return err
	}
	if !needsRegistration(rec, req) || busy {
		return nil
	}
	l.mu.Lock()
	if l.registering[id] {
		l.mu.Unlock()
		return nil
	}
	l.registering[id] = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.registering, id)
		l.mu.Unlock()
	}()
	_, err = s.proposeAsLeader(ctx, meta.RegisterServer(id, req.GetAddr(), req.GetS3Addr(), req.GetCapacityBytes(), req.GetFreeBytes()))
	if err != nil {
		return err
	}
	if rec == nil || rec.GetState() != blobdraftv1.ServerState_SERVER_STATE_UP {
		s.logger.Info("volume server up", "server", id, "addr", req.GetAddr())
	}
	s.kickLeader()
	return nil
}

// needsRegistration says whether rec (nil: unknown) differs from a
// server's report enough to record it.
func needsRegistration(rec *blobdraftv1.ServerRecord, req *blobdpeerv1.HeartbeatRequest) bool {
	if rec == nil || rec.GetAddr() != req.GetAddr() || rec.GetS3Addr() != req.GetS3Addr() ||
		rec.GetState() == blobdraftv1.ServerState_SERVER_STATE_DOWN || rec.GetCapacityBytes() != req.GetCapacityBytes() {
		return true
	}
	diff := int64(rec.GetFreeBytes()) - int64(req.GetFreeBytes())
	return uint64(max(diff, -diff)) > req.GetCapacityBytes()/20
}

// proposeAsLeader commits a command computed from the leader's own memory
// (liveness, placement) only while this node leads: a deposed leader's
// stale view never reaches its successor.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *blobdraftv1.Command) (*blobdraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	return meta.Propose(ctx, s.node.ApplyAsLeader, s.now(), cmd)
}

// leading reports whether this node leads, and since when.
func (s *Server) leading() (bool, time.Time) {
	l := &s.core.live
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader, l.since
}

// serverVolumes returns, on the metadata leader, the volumes server id last
// reported (its heartbeat's VolumeInfo: sizes, damaged, corrupt_needles) and
// when; ok is false on a follower and for a server not heard from since this
// node became leader. The infos are shared: callers must not modify them.
// A volume the metadata places on the server but missing from infos is not
// there (a new volume not yet created, or a lost copy if it holds
// referenced needles).
func (s *Server) serverVolumes(id string) (infos []*blobdpeerv1.VolumeInfo, heard time.Time, ok bool) {
	l := &s.core.live
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.heard[id]
	if !l.leader || h == nil {
		return nil, time.Time{}, false
	}
	return h.volumes, h.at, true
}

// lastHeard returns when the leader last heard from server id, or since
// when it leads if it has not heard from it.
func (s *Server) lastHeard(id string) (time.Time, bool) {
	l := &s.core.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leader {
		return time.Time{}, false
	}
	if h := l.heard[id]; h != nil && h.at.After(l.since) {
		return h.at, true
	}
	return l.since, true
}

// noteWriteFailure records, on the metadata leader, that a needle write of
// this node to server id failed just now (not refused by its volume):
// placement leaves the server out until it heartbeats again, and runs at
// once. A no-op on a follower.
func (s *Server) noteWriteFailure(id string) {
	l := &s.core.live
	l.mu.Lock()
	lead := l.leader
	if lead {
		l.writeFailed[id] = s.now()
	}
	l.mu.Unlock()
	if lead {
		s.kickLeader()
	}
}

// markSilentServers marks DOWN every UP server not heard from for
// ServerTimeout (counted from when this node became leader at the
// earliest).
func (s *Server) markSilentServers(ctx context.Context) {
	servers, err := s.meta.Servers()
	if err != nil {
		s.logger.Warn("liveness: read servers", "err", err)
		return
	}
	for _, rec := range servers {
		if rec.GetState() != blobdraftv1.ServerState_SERVER_STATE_UP {
			continue
		}
		last, ok := s.lastHeard(rec.GetId())
		if !ok {
			return
		}
		silent := s.now().Sub(last)
		if silent <= s.cfg.ServerTimeout {
			continue
		}
		if _, err := s.proposeAsLeader(ctx, meta.SetServerState(rec.GetId(), blobdraftv1.ServerState_SERVER_STATE_DOWN)); err != nil {
			s.logger.Warn("liveness: mark a silent server down", "server", rec.GetId(), "err", err)
			continue
		}
		s.logger.Warn("volume server down: silent too long", "server", rec.GetId(), "silent_for", silent.Round(time.Millisecond))
	}
}
