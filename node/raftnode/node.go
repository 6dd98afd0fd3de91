package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	"google.golang.org/grpc"

	"cairn.dev/cairn/node"
	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// Node hosts one member of a Raft group. Its methods are safe for concurrent use.
type Node struct {
	cfg     Config
	logger  *slog.Logger
	fsm     *fsm
	metrics *metrics

	transport *Transport
	peers     *connCache
	verifier  *verifier
	forwarder *forwarder
	preVote   *preVoteCheck

	reloadMu sync.Mutex // serializes raft.ReloadConfig calls

	// Set by Start, read-only afterwards.
	raft  *raft.Raft
	store *raftboltdb.BoltStore
	snaps *raft.FileSnapshotStore
	logs  raft.LogStore // the log store behind a cache of recent entries
	// closeLog closes the log store when it is not store.
	closeLog func() error
	notify   chan bool

	readyTerm atomic.Uint64 // term in which this leader has committed (and applied) an entry

	leaderSeen atomic.Int64 // when Health last saw a leader, Unix nanoseconds; 0 never

	barrierMu sync.Mutex     // protects barrier
	barrier   *barrierFlight // the latest term barrier, done or in flight

	// quietMu protects quietAfter and quietThrough: the entries in
	// (quietAfter, quietThrough] are known to hold nothing for the state
	// machine (see appliedThrough).
	quietMu                  sync.Mutex
	quietAfter, quietThrough uint64

	mu         sync.Mutex // protects closed
	closed     bool
	stop       chan struct{}
	goroutines node.Goroutines // started by goFunc; Close waits for them
	started    atomic.Bool
	running    atomic.Bool  // set once Start has set raft
	startedAt  atomic.Int64 // Unix nanoseconds when Start began
}

// New creates a Node; it does not touch the disk or the network until Start.
func New(cfg Config, sm StateMachine, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "raftnode")
	tr, err := NewTransport(TransportConfig{
		LocalAddr: raft.ServerAddress(cfg.Advertise),
		Dial:      cfg.Dial,
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		logger:    logger,
		transport: tr,
		peers:     newConnCache(cfg.Dial),
		stop:      make(chan struct{}),
	}
	n.metrics = newMetrics()
	n.fsm = newFSM(sm, n.fatal, n.metrics.applyDuration)
	n.verifier = newVerifier(n)
	n.forwarder = newForwarder(n)
	n.preVote = &preVoteCheck{n: n}
	tr.onPreVote = n.preVote.asked
	return n, nil
}

// Register adds the Raft transport and the node service to a gRPC server. Call it
// before the server starts serving.
func (n *Node) Register(s grpc.ServiceRegistrar) {
	n.transport.Register(s)
	raftv1.RegisterRaftNodeServiceServer(s, &nodeService{n: n})
}

// Start opens the stores, restores state, bootstraps a new group from Config.Peers
// when there is no Raft state yet, and joins the group.
func (n *Node) Start() error {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("raftnode: already started")
	}
	n.startedAt.Store(time.Now().UnixNano())
	cfg := n.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("raftnode: data dir: %w", err)
	}
	hl := newHCLogger(n.logger)
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:   filepath.Join(cfg.DataDir, "raft.db"),
		NoSync: cfg.NoSync,
		// The freelist is rebuilt on open instead of written on every commit:
		// fewer pages per log append, same durability.
		BoltOptions: &bbolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType},
	})
	if err != nil {
		return fmt.Errorf("raftnode: open stable store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, hl)
	if err != nil {
		store.Close()
		return fmt.Errorf("raftnode: open snapshot store: %w", err)
	}
	n.store, n.snaps = store, snaps

	// The state machine is persistent; restore a snapshot only when it is behind it
	// (for example after its database was lost).
	if err := n.restoreIfBehind(); err != nil {
		store.Close()
		return err
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.MaxAppendEntries = cfg.MaxAppendEntries
	// A buffered apply channel: commands proposed while the leader loop is busy
	// (or back to back, as ApplyAll does) wait there and go out as one batch.
	rc.BatchApplyCh = true
	rc.BatchApplyCh = true
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = hl
	n.notify = make(chan bool, 16)
	rc.NotifyCh = n.notify

	log, closeLog, err := openLogStore(cfg, store, n.logger)
	if err != nil {
		store.Close()
		return err
	}
	n.closeLog = closeLog
	cache, err := raft.NewLogCache(1024, log)
	if err != nil {
		n.closeStores()
		return err
	}
	logs := gapResetLog{LogCache: cache, appendDuration: n.metrics.appendDuration}
	n.logs = logs
	existing, err := raft.HasExistingState(logs, store, snaps)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("raftnode: inspect state: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, store, snaps, n.transport)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("raftnode: start raft: %w", err)
	}
	n.raft = r
	n.running.Store(true)
	if !existing && n.inPeers() {
		var servers []raft.Server
		for _, p := range cfg.Peers {
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr)})
		}
		if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("raftnode: bootstrap: %w", err)
		}
		n.logger.Info("bootstrapped new group", "peers", len(servers))
	}
	n.goFunc(n.watchLeadership)
	n.goFunc(n.watchContact)
	observations := make(chan raft.Observation, 8)
	obs := raft.NewObserver(observations, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.RegisterObserver(obs)
	n.goFunc(func() { n.countLeaderChanges(observations, obs) })
	return nil
}

func (n *Node) inPeers() bool {
	for _, p := range n.cfg.Peers {
		if p.ID == n.cfg.ID {
			return true
		}
	}
	return false
}

func (n *Node) restoreIfBehind() error {
	metas, err := n.snaps.List()
	if err != nil || len(metas) == 0 {
		return err
	}
	latest := metas[0]
	if latest.Index <= n.fsm.appliedIndex() {
		return nil
	}
	_, rc, err := n.snaps.Open(latest.ID)
	if err != nil {
		return fmt.Errorf("raftnode: open snapshot %s: %w", latest.ID, err)
	}
	n.logger.Info("state machine behind latest snapshot; restoring", "applied", n.fsm.appliedIndex(), "snapshot_index", latest.Index)
	if err := n.fsm.Restore(rc); err != nil {
		return fmt.Errorf("raftnode: restore snapshot %s: %w", latest.ID, err)
	}
	return nil
}

// goFunc runs f on a goroutine owned by the node; Close waits for it.
func (n *Node) goFunc(f func()) bool { return n.goroutines.Go(f) }

func (n *Node) watchLeadership() {
	for {
		select {
		case <-n.stop:
			return
		case isLeader := <-n.notify:
			n.logger.Info("leadership changed", "leader", isLeader, "term", n.raft.CurrentTerm())
			if n.cfg.OnLeadership != nil {
				n.cfg.OnLeadership(isLeader)
			}
		}
	}
}

func (n *Node) fatal(err error) {
	n.logger.Error("state machine failed; leaving the group", "err", err)
	if n.cfg.OnFatal != nil {
		n.cfg.OnFatal(err)
	}
}

// Close stops the node. If it leads a group of several voters it first tries to hand
// leadership over, so that clients see no election timeout. Close is idempotent.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.stop)
	n.goroutines.Close()
	n.mu.Unlock()
	n.preVote.stop()

	var errs []error
	if n.raft != nil {
		if n.raft.State() == raft.Leader && n.voters() > 1 {
			if err := n.raft.LeadershipTransfer().Error(); err != nil {
				n.logger.Warn("leadership transfer on close failed", "err", err)
			}
		}
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.transport.Close())
	n.peers.close()
	n.goroutines.Wait()
	errs = append(errs, n.closeStores())
	return errors.Join(errs...)
}

// closeStores closes the log and stable stores opened by Start.
func (n *Node) closeStores() error {
	var errs []error
	if n.closeLog != nil {
		errs = append(errs, n.closeLog())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}

func (n *Node) voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	c := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			c++
		}
	}
	return c
}

// ID returns this member's id.
func (n *Node) ID() string { return n.cfg.ID }

// IsLeader reports whether this node currently believes it leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the id and address of the leader this node knows of ("" if none).
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// Term returns the current Raft term.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// Member is one server of the group's configuration.
type Member struct {
	ID      string
	Addr    string
	Learner bool
}

// Status is a node's view of the group.
type Status struct {
	ID           string
	State        string // "leader", "follower", "candidate" or "shutdown"
	Term         uint64
	LeaderID     string
	LeaderAddr   string
	LastIndex    uint64
	CommitIndex  uint64
	AppliedIndex uint64
	Members      []Member
}

// Status reports this node's view of the group.
func (n *Node) Status() Status {
	lid, laddr := n.Leader()
	st := Status{
		ID:           n.cfg.ID,
		State:        stateName(n.raft.State()),
		Term:         n.raft.CurrentTerm(),
		LeaderID:     lid,
		LeaderAddr:   laddr,
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.fsm.appliedIndex(),
	}
	st.Members, _ = n.Members()
	return st
}

func stateName(s raft.RaftState) string {
	switch s {
	case raft.Leader:
		return "leader"
	case raft.Follower:
		return "follower"
	case raft.Candidate:
		return "candidate"
	default:
		return "shutdown"
	}
}

// Members returns the latest configuration of the group.
func (n *Node) Members() ([]Member, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{ID: string(s.ID), Addr: string(s.Address), Learner: s.Suffrage != raft.Voter})
	}
	return out, nil
}

// WaitLeader blocks until some leader is known or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) (string, error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := n.Leader(); id != "" {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
		case <-n.stop:
			return "", ErrShutdown
		case <-t.C:
		}
	}
}

// Snapshot asks Raft to take a snapshot now (and truncate the log).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }
