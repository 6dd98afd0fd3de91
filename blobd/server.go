package blobd

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Version is reported by Status.
const Version = "0.1.0"

// MetaFileName is the metadata database inside DataDir; VolumesDir holds the
// volume files.
const (
	MetaFileName = "blobd-meta.db"
	VolumesDir   = "volumes"
)

// Server is one blobd node: a member of the metadata Raft group (the
// blobd/meta state machine on the Raft-daemon skeleton) and a volume server
// (a blobd/volume store). Every node takes object reads and writes: it
// splits objects into chunks, writes each chunk to its volume's servers
// (itself or peers), and commits the manifest through Raft.
type Server struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	d     *raftnode.Daemon
	node  *raftnode.Node
	meta  *meta.Store
	vols  *volume.Store
	peers *node.ConnPool

	// core is the data path's state (core.go).
	core *core

	// chunkBufs recycles the Config.ChunkBytes buffers (*[]byte) writes
	// stream bodies through; freed queues needles to delete after commits
	// (body.go).
	chunkBufs sync.Pool
	freed     chan []*blobdraftv1.NeedleRef
	// readBufs recycles the buffers of chunks read for peers and from
	// them (bufpool.go); needleCodec receives needles from peers
	// (needlerecv.go).
	readBufs    *readBufPool
	needleCodec needleCodec

	maint *maintState // repair, scrub, GC, lifecycle and restores (maint.go)
}

// New validates cfg, opens the metadata database and the volume store and
// prepares the server. It binds the listeners (so ports from ":0" are known
// through Addr) but serves nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("member", cfg.ID)
	d, err := raftnode.NewDaemon(cfg.daemonConfig(), logger)
	if err != nil {
		return nil, err
	}
	st, err := meta.Open(filepath.Join(cfg.DataDir, MetaFileName), meta.Options{Logger: logger})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("blobd: open metadata: %w", err)
	}
	d.OnRelease(func() {
		if err := st.Close(); err != nil {
			logger.Warn("metadata close", "err", err)
		}
	})
	vols, err := volume.Open(volume.Options{
		Dir: filepath.Join(cfg.DataDir, VolumesDir), MaxVolumeBytes: cfg.MaxVolumeBytes,
		MaxNeedleBytes: int64(cfg.ChunkBytes) + 64, ScrubBytesPerSec: cfg.ScrubBytesPerSec, Logger: logger,
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("blobd: open volumes: %w", err)
	}
	d.OnRelease(func() {
		if err := vols.Close(); err != nil {
			logger.Warn("volumes close", "err", err)
		}
	})
	s := &Server{cfg: cfg, logger: logger, now: time.Now, d: d, meta: st, vols: vols, core: newCore(),
		needleCodec: newNeedleCodec()}
	s.readBufs = newReadBufPool(s.maxNeedleBytes())
	overrides, err := node.ParseDialOverrides(cfg.DialOverrides)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("blobd: dial_overrides: %w", err)
	}
	s.peers = node.NewConnPool(node.DialConfig{TLS: cfg.Server.TLS, MaxMsgBytes: cfg.Server.MaxRecvMsgBytes}, overrides)
	d.OnRelease(s.peers.Close)
	n, err := d.StartRaft(st, raftnode.RaftOptions{OnLeadership: s.onLeadership, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	s.registerCore()
	s.registerObjects()
	s.registerAPI()
	s.registerMaintenance()
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// Config returns the server's configuration (S3Addr, TLS, for the S3 API).
func (s *Server) Config() Config { return s.cfg }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Node exposes the metadata Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// Meta exposes the metadata state machine, for tests and front ends in this
// module (local reads; see Server.barrier for linearizable ones).
func (s *Server) Meta() *meta.Store { return s.meta }

// Volumes exposes this node's volume store, for tests (the chaos tests
// damage its files).
func (s *Server) Volumes() *volume.Store { return s.vols }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Stopping is closed when shutdown begins: front ends stop taking requests.
func (s *Server) Stopping() <-chan struct{} { return s.d.Stopping() }

// RunWhileServing registers the loop of a front end that serves beside the
// gRPC services (blobd/s3): Serve starts it once Raft is up and, at
// shutdown, cancels it and waits for it before Raft stops. Call it before
// Serve.
func (s *Server) RunWhileServing(loop func(ctx context.Context)) { s.d.RunWhileServing(loop) }

// OnRelease registers f to run when the server releases what it holds (after
// Serve has stopped, or on Close of a server never served): a front end
// closes its listener there. Functions run last registered first.
func (s *Server) OnRelease(f func()) { s.d.OnRelease(f) }

// Serve starts Raft and serves until ctx is cancelled, Close is called or the
// state machine fails; then it stops gracefully.
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server (see Serve) and waits for it. Idempotent.
func (s *Server) Close() { s.d.Close() }

func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

// propose stamps cmd with this node's clock, commits it through the
// metadata leader (forwarded from a follower) and returns its result; a
// failure the state machine recorded comes back as meta's sentinel.
func (s *Server) propose(ctx context.Context, cmd *blobdraftv1.Command) (*blobdraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	if s.cfg.GCGrace > 0 && cmd.NeedleMaxAgeNanos == 0 {
		// Never reference a needle garbage collection may have taken (gc.go).
		meta.WithNeedleMaxAge(cmd, s.cfg.GCGrace)
	}
	return meta.Propose(ctx, s.node.Apply, s.now(), cmd)
}

// barrier waits until this node's metadata reflects every write committed
// before the call (the Raft read barrier), for linearizable reads.
func (s *Server) barrier(ctx context.Context) error { return s.node.LinearizableRead(ctx) }
