package streamd

import (
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
)

// Config configures a streamd Server. Every field can be set from a flag, from
// CAIRN_STREAMD_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this node's id, unique in the cluster (e.g. "streamd-1"). It names
	// the node in partition replica lists and in the controller's Raft group.
	ID string `yaml:"id" flag:"id" usage:"node id, unique in the cluster (required)"`
	// ClusterID names the cluster; it is reported in every response header.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the cluster, reported in response headers"`
	// DataDir holds the controller's Raft log, snapshots and metadata, and
	// the partition logs under partitions/.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the controller's Raft log and metadata and the partition logs (required)"`
	// DialOverrides rewrites peer addresses when dialing: "addr=via,…" (fault proxies).
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning of the controller: --peers, --advertise-addr, timeouts, snapshots.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// SessionTimeout is how long the controller waits for a node's heartbeat
	// before it fences the node: the node leaves every ISR and its partitions
	// get new leaders.
	SessionTimeout time.Duration `yaml:"session_timeout" flag:"session-timeout" usage:"a node not heard from for this long is fenced (leaves every ISR, loses its leaderships)"`
	// HeartbeatInterval is how often a node reports to the controller.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" flag:"heartbeat-interval" usage:"how often a node reports to the controller"`
	// ReplicaLagMax: a follower that has not caught up with the leader's log
	// end for this long is removed from the ISR.
	ReplicaLagMax time.Duration `yaml:"replica_lag_max" flag:"replica-lag-max" usage:"a follower not caught up for this long leaves the ISR"`
	// ReplicaFetchWait is the longest a follower's fetch waits at the leader
	// for new records.
	ReplicaFetchWait time.Duration `yaml:"replica_fetch_wait" flag:"replica-fetch-wait" usage:"longest wait of a follower's fetch at the leader"`
	// ReplicaFetchBytes bounds one follower fetch response.
	ReplicaFetchBytes int `yaml:"replica_fetch_bytes" flag:"replica-fetch-bytes" usage:"most bytes in one follower fetch response"`
	// MaxPartitions bounds a topic's partition count.
	MaxPartitions int `yaml:"max_partitions" flag:"max-partitions" usage:"most partitions of one topic"`
	// MaxFetchBytes bounds one consumer fetch response.
	MaxFetchBytes int `yaml:"max_fetch_bytes" flag:"max-fetch-bytes" usage:"most bytes in one fetch response"`
	// MaxWaiters caps the long-polling fetches and fetch streams waiting on
	// one node at once; more fail with LIMIT_EXCEEDED.
	MaxWaiters int `yaml:"max_waiters" flag:"max-waiters" usage:"most long-polling fetches and fetch streams waiting on this node"`
	// PreferredLeaderInterval is how often the controller moves leadership
	// back to each partition's preferred (first) replica when it is in sync;
	// 0 disables it.
	PreferredLeaderInterval time.Duration `yaml:"preferred_leader_interval" flag:"preferred-leader-interval" usage:"how often leadership returns to preferred replicas (0: never)"`
	// RetentionInterval is how often retention and compaction run.
	RetentionInterval time.Duration `yaml:"retention_interval" flag:"retention-interval" usage:"how often retention and compaction run"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults. streamd's ports follow the cluster
// layout: gRPC 127.0.0.1:7400, admin 127.0.0.1:7401.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7400"
	srv.AdminAddr = "127.0.0.1:7401"
	// A fetch or produce carries up to 16 MiB of batches plus framing.
	srv.MaxRecvMsgBytes = 20 << 20
	return Config{
		ClusterID:               "streamd",
		Server:                  srv,
		Settings:                raftnode.DefaultSettings(),
		SessionTimeout:          3 * time.Second,
		HeartbeatInterval:       500 * time.Millisecond,
		ReplicaLagMax:           10 * time.Second,
		ReplicaFetchWait:        500 * time.Millisecond,
		ReplicaFetchBytes:       8 << 20,
		MaxPartitions:           1024,
		MaxFetchBytes:           16 << 20,
		MaxWaiters:              10000,
		PreferredLeaderInterval: 30 * time.Second,
		RetentionInterval:       time.Minute,
		LogLevel:                "info",
		LogFormat:               "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("streamd: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("streamd: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("streamd: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("streamd: dial_overrides: %w", err))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	inRange := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("streamd: %s %v must be in [%v, %v]", name, v, lo, hi))
		}
	}
	inRange("session_timeout", c.SessionTimeout, 100*time.Millisecond, 10*time.Minute)
	inRange("heartbeat_interval", c.HeartbeatInterval, 10*time.Millisecond, time.Minute)
	if c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, fmt.Errorf("streamd: heartbeat_interval %v must be less than session_timeout %v", c.HeartbeatInterval, c.SessionTimeout))
	}
	inRange("replica_lag_max", c.ReplicaLagMax, 100*time.Millisecond, time.Hour)
	inRange("replica_fetch_wait", c.ReplicaFetchWait, time.Millisecond, 30*time.Second)
	inRange("preferred_leader_interval", c.PreferredLeaderInterval, 0, 24*time.Hour)
	inRange("retention_interval", c.RetentionInterval, 10*time.Millisecond, 24*time.Hour)
	if c.ReplicaFetchBytes < 64<<10 || c.ReplicaFetchBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("streamd: replica_fetch_bytes %d must be in [65536, 16777216]", c.ReplicaFetchBytes))
	}
	if c.MaxFetchBytes < 64<<10 || c.MaxFetchBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("streamd: max_fetch_bytes %d must be in [65536, 16777216]", c.MaxFetchBytes))
	}
	if c.MaxPartitions < 1 || c.MaxPartitions > 100000 {
		errs = append(errs, fmt.Errorf("streamd: max_partitions %d must be in [1, 100000]", c.MaxPartitions))
	}
	if c.MaxWaiters < 1 {
		errs = append(errs, fmt.Errorf("streamd: max_waiters %d must be >= 1", c.MaxWaiters))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "streamd", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

// raftConfig derives the Raft host settings (Dial is filled in by StartRaft).
func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}
