package raftkv

import (
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/raftkv/mvcc"
)

// Config configures a raftkv Server. Every field can be set from a flag, from
// CAIRN_RAFTKV_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this member's id, unique in the group (e.g. "raftkv-1").
	ID string `yaml:"id" flag:"id" usage:"member id, unique in the group (required)"`
	// ClusterID names the group; it is reported in every response header.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the group, reported in response headers"`
	// DataDir holds the Raft log, snapshots and the key-value database.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the Raft log, snapshots and the database (required)"`

	// DialOverrides rewrites peer addresses when dialing: "addr=via,…". The chaos
	// harness routes every peer link through a fault proxy this way.
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning: --peers, --advertise-addr, timeouts, snapshots.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// BackendBatchInterval and BackendBatchLimit bound how long and for how many
	// entries applied writes may wait before the database commits them (they
	// are durable in the Raft log before they are applied).
	BackendBatchInterval time.Duration `yaml:"backend_batch_interval" flag:"backend-batch-interval" usage:"longest wait before applied writes are committed to the database"`
	BackendBatchLimit    int           `yaml:"backend_batch_limit" flag:"backend-batch-limit" usage:"most applied entries before the database commits them"`

	MaxKeyBytes     int `yaml:"max_key_bytes" flag:"max-key-bytes" usage:"largest key accepted"`
	MaxValueBytes   int `yaml:"max_value_bytes" flag:"max-value-bytes" usage:"largest value accepted"`
	MaxRequestBytes int `yaml:"max_request_bytes" flag:"max-request-bytes" usage:"largest encoded write request (put or txn) accepted"`
	MaxTxnOps       int `yaml:"max_txn_ops" flag:"max-txn-ops" usage:"most compares or ops in one txn branch"`
	// MaxLeaseTTL caps a lease's time to live, in seconds.
	MaxLeaseTTL int64 `yaml:"max_lease_ttl" flag:"max-lease-ttl" usage:"longest lease TTL in seconds"`
	// MaxRangeKeys caps how many keys one Range returns when it sets no limit.
	MaxRangeKeys int64 `yaml:"max_range_keys" flag:"max-range-keys" usage:"most keys returned by one range without a limit"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7000"
	srv.AdminAddr = "127.0.0.1:7001"
	return Config{
		ClusterID:            "raftkv",
		Server:               srv,
		Settings:             raftnode.DefaultSettings(),
		BackendBatchInterval: mvcc.DefaultCommitInterval,
		BackendBatchLimit:    mvcc.DefaultCommitEntries,
		MaxKeyBytes:          4 << 10,
		MaxValueBytes:        1 << 20,
		MaxRequestBytes:      (1 << 20) + (512 << 10),
		// SQL transactions (raftkv/sql/kvtxn) commit as one txn with up to
		// 10000 writes plus their read-set compares; max_request_bytes
		// still bounds the total size.
		MaxTxnOps:    16384,
		MaxLeaseTTL:  365 * 24 * 3600,
		MaxRangeKeys: 100000,
		LogLevel:     "info",
		LogFormat:    "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("raftkv: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("raftkv: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("raftkv: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("raftkv: dial_overrides: %w", err))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.BackendBatchInterval <= 0 || c.BackendBatchInterval > 10*time.Second {
		errs = append(errs, fmt.Errorf("raftkv: backend_batch_interval %s must be in (0, 10s]", c.BackendBatchInterval))
	}
	if c.BackendBatchLimit < 1 || c.BackendBatchLimit > 1000000 {
		errs = append(errs, fmt.Errorf("raftkv: backend_batch_limit %d must be in [1, 1000000]", c.BackendBatchLimit))
	}
	if c.MaxKeyBytes < 1 || c.MaxKeyBytes > 64<<10 {
		errs = append(errs, fmt.Errorf("raftkv: max_key_bytes %d must be in [1, 65536]", c.MaxKeyBytes))
	}
	if c.MaxValueBytes < 0 || c.MaxValueBytes > 8<<20 {
		errs = append(errs, fmt.Errorf("raftkv: max_value_bytes %d must be in [0, 8388608]", c.MaxValueBytes))
	}
	if c.MaxRequestBytes < c.MaxKeyBytes+c.MaxValueBytes {
		errs = append(errs, fmt.Errorf("raftkv: max_request_bytes %d must be >= max_key_bytes + max_value_bytes", c.MaxRequestBytes))
	}
	if c.Server.MaxRecvMsgBytes > 0 && c.MaxRequestBytes > c.Server.MaxRecvMsgBytes {
		errs = append(errs, fmt.Errorf("raftkv: max_request_bytes %d must be <= max_recv_msg_bytes %d", c.MaxRequestBytes, c.Server.MaxRecvMsgBytes))
	}
	if c.MaxTxnOps < 1 {
		errs = append(errs, fmt.Errorf("raftkv: max_txn_ops %d must be >= 1", c.MaxTxnOps))
	}
	if c.MaxLeaseTTL < 1 {
		errs = append(errs, fmt.Errorf("raftkv: max_lease_ttl %d must be >= 1", c.MaxLeaseTTL))
	}
	if c.MaxRangeKeys < 1 {
		errs = append(errs, fmt.Errorf("raftkv: max_range_keys %d must be >= 1", c.MaxRangeKeys))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// raftConfig derives the Raft host settings; Dial is filled in by New.
// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "raftkv", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}
