package raftnode

import (
	"errors"
	"time"

	"google.golang.org/grpc"
)

// Settings are the identity and tuning of a Raft member that a daemon exposes
// to operators. A daemon embeds it in its Config with
// `yaml:",inline" flag:",inline"`, so every replicated daemon has the same
// flags, environment variables and YAML keys for them.
type Settings struct {
	// Peers is the initial membership, "id=host:port,…"; used to bootstrap a new
	// group. A node with existing state ignores it.
	Peers string `yaml:"peers" flag:"peers" usage:"initial members id=host:port,... (bootstraps a new group when the data dir is empty)"`
	// Advertise is the address peers and clients use to reach this node; it
	// defaults to the gRPC listen address.
	Advertise string `yaml:"advertise_addr" flag:"advertise-addr" usage:"address advertised to peers (default: the gRPC address)"`

	HeartbeatTimeout  time.Duration `yaml:"heartbeat_timeout" flag:"heartbeat-timeout" usage:"Raft heartbeat timeout"`
	ElectionTimeout   time.Duration `yaml:"election_timeout" flag:"election-timeout" usage:"Raft election timeout"`
	SnapshotThreshold uint64        `yaml:"snapshot_threshold" flag:"snapshot-threshold" usage:"log entries between snapshots"`
	SnapshotInterval  time.Duration `yaml:"snapshot_interval" flag:"snapshot-interval" usage:"how often to check whether a snapshot is due"`
	TrailingLogs      uint64        `yaml:"trailing_logs" flag:"trailing-logs" usage:"log entries kept after a snapshot"`
	// LogStore is where the Raft log lives; see Config.LogStore.
	LogStore string `yaml:"raft_log_store" flag:"raft-log-store" usage:"Raft log store: wal (one fsync per append) or boltdb (raft-boltdb)"`
	// ApplyTimeout bounds how long a write waits to commit before it fails.
	ApplyTimeout time.Duration `yaml:"apply_timeout" flag:"apply-timeout" usage:"how long a write may wait for a quorum"`
	// LeaderWait bounds how long a write or linearizable read waits for a
	// leader (or, on a leader, for a quorum) before it fails with a definite
	// error; see Config.LeaderWait.
	LeaderWait time.Duration `yaml:"leader_wait" flag:"leader-wait" usage:"how long a write or linearizable read waits for a leader or quorum before failing as not applied"`

	// NoSync disables fsync of the Raft log. Tests only: it breaks durability.
	NoSync bool `yaml:"-"`
}

// LeaderLease is the leader lease for a heartbeat timeout: nine tenths of it.
// A leader cut off from the majority steps down a little before the followers
// start to campaign, and a leader that misses heartbeat answers for up to
// nine of the ten heartbeat intervals (a loaded host) keeps leading.
func LeaderLease(heartbeat time.Duration) time.Duration { return heartbeat * 9 / 10 }

// DefaultSettings returns the defaults of DefaultConfig.
func DefaultSettings() Settings {
	c := DefaultConfig()
	return Settings{
		LogStore:          c.LogStore,
		HeartbeatTimeout:  c.HeartbeatTimeout,
		ElectionTimeout:   c.ElectionTimeout,
		SnapshotThreshold: c.SnapshotThreshold,
		SnapshotInterval:  c.SnapshotInterval,
		TrailingLogs:      c.TrailingLogs,
		ApplyTimeout:      c.ApplyTimeout,
		LeaderWait:        c.LeaderWait,
	}
}

// Config derives the Config of member id with its data in dataDir; grpcAddr
// is the advertised address when Advertise is empty. The leader lease is nine
// tenths of the heartbeat timeout (see LeaderLease). An invalid Peers value is left for
// Config.Validate to report. Dial is a placeholder the daemon replaces.
func (s Settings) Config(id, dataDir, grpcAddr string) Config {
	c := DefaultConfig()
	c.ID = id
	c.Advertise = s.Advertise
	if c.Advertise == "" {
		c.Advertise = grpcAddr
	}
	c.DataDir = dataDir
	c.Peers, _ = ParsePeers(s.Peers)
	c.LogStore = s.LogStore
	c.HeartbeatTimeout = s.HeartbeatTimeout
	c.ElectionTimeout = s.ElectionTimeout
	c.LeaderLeaseTimeout = LeaderLease(s.HeartbeatTimeout)
	c.SnapshotThreshold = s.SnapshotThreshold
	c.SnapshotInterval = s.SnapshotInterval
	c.TrailingLogs = s.TrailingLogs
	c.ApplyTimeout = s.ApplyTimeout
	c.LeaderWait = s.LeaderWait
	c.NoSync = s.NoSync
	c.Dial = func(string) (*grpc.ClientConn, error) { return nil, errors.New("raftnode: dial not set") }
	return c
}
