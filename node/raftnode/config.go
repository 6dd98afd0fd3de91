package raftnode

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
)

// Peer is one member of the group as given on the command line: "id=host:port".
type Peer struct {
	ID   string
	Addr string
}

// ParsePeers parses a comma-separated list of id=host:port pairs.
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, addr, ok := strings.Cut(part, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("raftnode: peers: %q is not id=host:port", part)
		}
		if seen[id] {
			return nil, fmt.Errorf("raftnode: peers: id %q listed twice", id)
		}
		seen[id] = true
		peers = append(peers, Peer{ID: id, Addr: addr})
	}
	return peers, nil
}

// Config configures a Node.
type Config struct {
	// ID is this member's unique id within the group, e.g. "raftkv-1".
	ID string
	// Advertise is the gRPC address peers use to reach this node.
	Advertise string
	// DataDir holds raft.db (the stable store: term and vote, and the log when
	// LogStore is LogStoreBoltDB), wal/ (the log when LogStore is LogStoreWAL)
	// and snapshots/.
	DataDir string
	// LogStore chooses where the Raft log lives: LogStoreWAL (default) or
	// LogStoreBoltDB. A data dir whose log is in raft-boltdb is moved to the
	// WAL when it is opened with LogStoreWAL; the reverse is refused.
	LogStore string
	// Peers bootstraps a new group when DataDir holds no Raft state and Peers
	// includes ID. A node not in Peers starts empty and waits to be added.
	Peers []Peer

	// HeartbeatTimeout is how long a follower goes without hearing from the
	// leader before it campaigns (it checks 1 to 1.25 timeouts after its last
	// contact, and a follower that refused a pre-vote checks as soon as its
	// own contact is that old). The leader sends heartbeats every tenth of
	// it. Shorter means faster failover after a leader dies; longer means
	// more tolerance of a stalled or starved leader before an election.
	HeartbeatTimeout time.Duration
	// ElectionTimeout is how long a candidate waits for its election before
	// starting another (randomized up to twice as long); it is also the
	// grace before a member with no leader reports itself unhealthy.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader keeps leading without answers
	// from a quorum before it steps down; it must be below HeartbeatTimeout.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout is how often an idle leader sends its commit index to
	// followers. It bounds how long a follower's linearizable read waits for an
	// entry the leader has already committed, so it is kept short.
	CommitTimeout time.Duration
	// SnapshotThreshold is how many log entries since the last snapshot trigger a new one.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries are kept after a snapshot, so that slow
	// followers can catch up from the log instead of a snapshot.
	TrailingLogs   uint64
	SnapshotRetain int
	// MaxAppendEntries caps the entries per AppendEntries message.
	MaxAppendEntries int
	// ApplyTimeout bounds how long Apply waits for a commit when the caller's
	// context has no earlier deadline.
	ApplyTimeout time.Duration
	// LeaderWait bounds how long Apply and LinearizableRead wait for a leader
	// this member can reach (on the leader: for answers from a quorum) before
	// they fail with the definite ErrNoLeader or ErrNoQuorum, so that a client
	// can try another member. It covers an election, not a long outage: a
	// member that knows no leader (or, as leader, hears from no quorum) and
	// has been out of touch for longer than an ordinary election takes (the
	// longer of 1.5*HeartbeatTimeout and ElectionTimeout, and at least a
	// second) fails at once.
	LeaderWait time.Duration
	// NoSync turns off fsync of the Raft log. Tests only: it breaks durability.
	NoSync bool

	// Dial opens a client connection to a peer's gRPC address. Required.
	Dial func(target string) (*grpc.ClientConn, error)
	// OnLeadership is called, in order and from one goroutine, whenever this node
	// gains (true) or loses (false) leadership. It must not block for long.
	OnLeadership func(isLeader bool)
	// OnFatal is called when the state machine reports a storage failure; the node
	// has already stopped taking part in the group. Nil means log only.
	OnFatal func(error)
}

// The log stores a Node can use.
const (
	// LogStoreWAL is package wal: one write and one fdatasync per append.
	LogStoreWAL = "wal"
	// LogStoreBoltDB is raft-boltdb, in raft.db beside the stable store.
	LogStoreBoltDB = "boltdb"
)

// DefaultConfig returns settings suited to a LAN or one machine.
func DefaultConfig() Config {
	return Config{
		LogStore:           LogStoreWAL,
		HeartbeatTimeout:   1000 * time.Millisecond,
		ElectionTimeout:    1000 * time.Millisecond,
		LeaderLeaseTimeout: 900 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		SnapshotThreshold:  8192,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
		MaxAppendEntries:   256,
		ApplyTimeout:       5 * time.Second,
		LeaderWait:         2 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("raftnode: id must be set"))
	}
	if c.Advertise == "" {
		errs = append(errs, errors.New("raftnode: advertise address must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("raftnode: data_dir must be set"))
	}
	if c.Dial == nil {
		errs = append(errs, errors.New("raftnode: dial must be set"))
	}
	if c.LogStore != LogStoreWAL && c.LogStore != LogStoreBoltDB {
		errs = append(errs, fmt.Errorf("raftnode: log_store %q must be %q or %q", c.LogStore, LogStoreWAL, LogStoreBoltDB))
	}
	if c.HeartbeatTimeout < 5*time.Millisecond {
		errs = append(errs, fmt.Errorf("raftnode: heartbeat_timeout %v must be >= 5ms", c.HeartbeatTimeout))
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("raftnode: election_timeout %v must be >= heartbeat_timeout %v", c.ElectionTimeout, c.HeartbeatTimeout))
	}
	if c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout >= c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("raftnode: leader_lease_timeout %v must be in [5ms, heartbeat_timeout %v)", c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.CommitTimeout <= 0 {
		errs = append(errs, errors.New("raftnode: commit_timeout must be > 0"))
	}
	if c.SnapshotThreshold == 0 {
		errs = append(errs, errors.New("raftnode: snapshot_threshold must be > 0"))
	}
	if c.SnapshotInterval < 5*time.Millisecond {
		errs = append(errs, errors.New("raftnode: snapshot_interval must be >= 5ms"))
	}
	if c.SnapshotRetain < 1 {
		errs = append(errs, errors.New("raftnode: snapshot_retain must be >= 1"))
	}
	if c.MaxAppendEntries < 1 || c.MaxAppendEntries > 1024 {
		errs = append(errs, errors.New("raftnode: max_append_entries must be in [1, 1024]"))
	}
	if c.ApplyTimeout <= 0 {
		errs = append(errs, errors.New("raftnode: apply_timeout must be > 0"))
	}
	if c.LeaderWait <= 0 {
		errs = append(errs, errors.New("raftnode: leader_wait must be > 0"))
	}
	ids := map[string]bool{}
	for _, p := range c.Peers {
		if ids[p.ID] {
			return fmt.Errorf("raftnode: peers: id %q listed twice", p.ID)
		}
		ids[p.ID] = true
	}
	return errors.Join(errs...)
}
