package queued

import (
	"errors"
	"fmt"
	"net"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
)

// Config configures a queued Server. Every field can be set from a flag, from
// CAIRN_QUEUED_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this member's id, unique in the group (e.g. "queued-1").
	ID string `yaml:"id" flag:"id" usage:"member id, unique in the group (required)"`
	// ClusterID names the group; it is reported in every response header.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the group, reported in response headers"`
	// DataDir holds the Raft log, snapshots and the message database.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the Raft log, snapshots and messages (required)"`
	// DialOverrides rewrites peer addresses when dialing: "addr=via,…" (fault proxies).
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`
	// SQSAddr is the listen address of the SQS HTTP API, served by package
	// queued/sqs beside the Server when set (it calls the Server's
	// QueueService and TopicService in-process); empty disables it.
	SQSAddr string `yaml:"sqs_addr" flag:"sqs-addr" usage:"listen address of the SQS HTTP API (empty: disabled)"`
	// SQSRegion is the region SQS requests are signed for and queue ARNs name.
	SQSRegion string `yaml:"sqs_region" flag:"sqs-region" usage:"region of the SQS API: requests are signed for it, queue ARNs name it"`
	// SQSAccountID is the account of SQS queue URLs and ARNs (12 digits).
	SQSAccountID string `yaml:"sqs_account_id" flag:"sqs-account-id" usage:"account id (12 digits) of SQS queue URLs and ARNs"`
	// SQSCredentialsFile holds the access keys of the SQS API, one per line:
	// ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]. It must be mode 0600;
	// secrets never go on a command line. Required with SQSAddr.
	SQSCredentialsFile string `yaml:"sqs_credentials_file" flag:"sqs-credentials-file" usage:"file of SQS access keys, 'ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]' per line, mode 0600 (required with --sqs-addr)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning: --peers, --advertise-addr, timeouts, snapshots.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// MaxBatchBytes bounds the bodies of one Send (all entries together).
	MaxBatchBytes int `yaml:"max_batch_bytes" flag:"max-batch-bytes" usage:"most body bytes in one send batch"`
	// MaxPrefetch caps a Consume stream's prefetch window.
	MaxPrefetch int `yaml:"max_prefetch" flag:"max-prefetch" usage:"largest prefetch window of a consume stream"`
	// MaxWaiters caps the long polls and Consume streams waiting on one node
	// at once; more fail with LIMIT_EXCEEDED.
	MaxWaiters int `yaml:"max_waiters" flag:"max-waiters" usage:"most long polls and consume streams waiting on this node"`
	// SweepMaxChanges bounds the work of one sweep entry (messages moved,
	// dropped or made visible); the leader proposes another while more is due.
	SweepMaxChanges int `yaml:"sweep_max_changes" flag:"sweep-max-changes" usage:"most changes one sweep entry makes"`
	// SweepInterval is the least time between two sweeps that found no more
	// work, so that many deadlines close together cost one entry; counts of
	// visible and in-flight messages lag by about this much.
	SweepInterval time.Duration `yaml:"sweep_interval" flag:"sweep-interval" usage:"least time between two sweeps"`
	// SweepPoll is the longest the leader sleeps before it looks at the next
	// due time again (deadlines set by receives do not wake it).
	SweepPoll time.Duration `yaml:"sweep_poll" flag:"sweep-poll" usage:"longest sleep of the sweep loop between checks of the next due time"`
	// MaxMetricQueues caps the queues reported in per-queue metrics (by name
	// order), bounding the metrics' cardinality.
	MaxMetricQueues int `yaml:"max_metric_queues" flag:"max-metric-queues" usage:"most queues reported in per-queue metrics"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults. queued's ports follow the cluster
// layout: gRPC 127.0.0.1:7300, admin 127.0.0.1:7301; SQS is off.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7300"
	srv.AdminAddr = "127.0.0.1:7301"
	return Config{
		ClusterID:       "queued",
		Server:          srv,
		Settings:        raftnode.DefaultSettings(),
		SQSRegion:       "us-east-1",
		SQSAccountID:    "000000000000",
		MaxBatchBytes:   4 << 20,
		MaxPrefetch:     1000,
		MaxWaiters:      10000,
		SweepMaxChanges: 1000,
		SweepInterval:   100 * time.Millisecond,
		SweepPoll:       time.Second,
		MaxMetricQueues: 1000,
		LogLevel:        "info",
		LogFormat:       "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("queued: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("queued: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("queued: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("queued: dial_overrides: %w", err))
	}
	if c.SQSAddr != "" {
		if _, _, err := net.SplitHostPort(c.SQSAddr); err != nil {
			errs = append(errs, fmt.Errorf("queued: sqs_addr %q is not host:port: %w", c.SQSAddr, err))
		}
		if c.SQSCredentialsFile == "" {
			errs = append(errs, errors.New("queued: sqs_credentials_file must be set with sqs_addr"))
		}
		if c.SQSRegion == "" {
			errs = append(errs, errors.New("queued: sqs_region must be set with sqs_addr"))
		}
		if !validAccountID(c.SQSAccountID) {
			errs = append(errs, fmt.Errorf("queued: sqs_account_id %q must be 12 digits", c.SQSAccountID))
		}
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBatchBytes < 1<<20 || c.MaxBatchBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("queued: max_batch_bytes %d must be in [1048576, 67108864]", c.MaxBatchBytes))
	}
	if c.MaxPrefetch < 1 || c.MaxPrefetch > 100000 {
		errs = append(errs, fmt.Errorf("queued: max_prefetch %d must be in [1, 100000]", c.MaxPrefetch))
	}
	if c.MaxWaiters < 1 {
		errs = append(errs, fmt.Errorf("queued: max_waiters %d must be >= 1", c.MaxWaiters))
	}
	if c.SweepMaxChanges < 1 || c.SweepMaxChanges > 100000 {
		errs = append(errs, fmt.Errorf("queued: sweep_max_changes %d must be in [1, 100000]", c.SweepMaxChanges))
	}
	if c.SweepInterval < 0 || c.SweepInterval > time.Minute {
		errs = append(errs, fmt.Errorf("queued: sweep_interval %v must be in [0, 1m]", c.SweepInterval))
	}
	if c.SweepPoll < time.Millisecond || c.SweepPoll > time.Minute {
		errs = append(errs, fmt.Errorf("queued: sweep_poll %v must be in [1ms, 1m]", c.SweepPoll))
	}
	if c.MaxMetricQueues < 0 {
		errs = append(errs, fmt.Errorf("queued: max_metric_queues %d must be >= 0", c.MaxMetricQueues))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "queued", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

// raftConfig derives the Raft host settings (Dial is filled in by StartRaft).
func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}

// validAccountID reports whether id is 12 digits, an AWS account id.
func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
