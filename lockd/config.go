package lockd

import (
	"errors"
	"fmt"
	"math"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
)

// Config configures a lockd Server. Every field can be set from a flag, from
// CAIRN_LOCKD_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this member's id, unique in the group (e.g. "lockd-1").
	ID string `yaml:"id" flag:"id" usage:"member id, unique in the group (required)"`
	// ClusterID names the group; it is reported in every response header.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the group, reported in response headers"`
	// DataDir holds the Raft log and snapshots.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the Raft log and snapshots (required)"`
	// DialOverrides rewrites peer addresses when dialing: "addr=via,…" (fault proxies).
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning: --peers, --advertise-addr, timeouts, snapshots.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// MinSessionTTL and MaxSessionTTL bound a session's TTL.
	MinSessionTTL time.Duration `yaml:"min_session_ttl" flag:"min-session-ttl" usage:"shortest session TTL accepted"`
	MaxSessionTTL time.Duration `yaml:"max_session_ttl" flag:"max-session-ttl" usage:"longest session TTL accepted"`
	// MaxLockDelay caps a lock's lock_delay.
	MaxLockDelay time.Duration `yaml:"max_lock_delay" flag:"max-lock-delay" usage:"longest lock delay accepted"`
	// ExpiryTick is how often the leader looks for expired sessions and ended lock
	// delays; a session expires at most about one tick after its deadline.
	ExpiryTick time.Duration `yaml:"expiry_tick" flag:"expiry-tick" usage:"how often the leader checks session deadlines and lock delays"`

	MaxNameBytes  int `yaml:"max_name_bytes" flag:"max-name-bytes" usage:"longest lock, semaphore or election name, in bytes"`
	MaxOwnerBytes int `yaml:"max_owner_bytes" flag:"max-owner-bytes" usage:"largest owner or election value, in bytes"`
	// MaxPermits caps a semaphore's size.
	MaxPermits int `yaml:"max_permits" flag:"max-permits" usage:"largest semaphore size"`
	// MaxSessions caps the live sessions; CreateSession fails beyond it.
	MaxSessions int `yaml:"max_sessions" flag:"max-sessions" usage:"most live sessions"`
	// MaxWaiters caps the queue of one lock, semaphore or election.
	MaxWaiters int `yaml:"max_waiters" flag:"max-waiters" usage:"most waiters queued on one lock, semaphore or election"`
	// MaxListItems caps one List page (and is the page size when limit is 0).
	MaxListItems int `yaml:"max_list_items" flag:"max-list-items" usage:"most items returned by one list call"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults. lockd's ports follow the cluster layout:
// gRPC 127.0.0.1:7100, admin 127.0.0.1:7101.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7100"
	srv.AdminAddr = "127.0.0.1:7101"
	return Config{
		ClusterID:     "lockd",
		Server:        srv,
		Settings:      raftnode.DefaultSettings(),
		MinSessionTTL: time.Second,
		MaxSessionTTL: time.Hour,
		MaxLockDelay:  time.Minute,
		ExpiryTick:    100 * time.Millisecond,
		MaxNameBytes:  256,
		MaxOwnerBytes: 4 << 10,
		MaxPermits:    1 << 16,
		MaxSessions:   100000,
		MaxWaiters:    10000,
		MaxListItems:  1000,
		LogLevel:      "info",
		LogFormat:     "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("lockd: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("lockd: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("lockd: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("lockd: dial_overrides: %w", err))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MinSessionTTL < time.Millisecond {
		errs = append(errs, fmt.Errorf("lockd: min_session_ttl %v must be >= 1ms", c.MinSessionTTL))
	}
	if c.MaxSessionTTL < c.MinSessionTTL {
		errs = append(errs, fmt.Errorf("lockd: max_session_ttl %v must be >= min_session_ttl %v", c.MaxSessionTTL, c.MinSessionTTL))
	}
	if c.MaxLockDelay < 0 {
		errs = append(errs, fmt.Errorf("lockd: max_lock_delay %v must be >= 0", c.MaxLockDelay))
	}
	if c.ExpiryTick < time.Millisecond || c.ExpiryTick > time.Minute {
		errs = append(errs, fmt.Errorf("lockd: expiry_tick %v must be in [1ms, 1m]", c.ExpiryTick))
	}
	if c.MaxNameBytes < 1 || c.MaxNameBytes > 64<<10 {
		errs = append(errs, fmt.Errorf("lockd: max_name_bytes %d must be in [1, 65536]", c.MaxNameBytes))
	}
	if c.MaxOwnerBytes < 0 || c.MaxOwnerBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("lockd: max_owner_bytes %d must be in [0, 1048576]", c.MaxOwnerBytes))
	}
	if c.MaxPermits < 1 || c.MaxPermits > math.MaxUint32 {
		errs = append(errs, fmt.Errorf("lockd: max_permits %d must be in [1, 4294967295]", c.MaxPermits))
	}
	if c.MaxSessions < 1 {
		errs = append(errs, fmt.Errorf("lockd: max_sessions %d must be >= 1", c.MaxSessions))
	}
	if c.MaxWaiters < 1 {
		errs = append(errs, fmt.Errorf("lockd: max_waiters %d must be >= 1", c.MaxWaiters))
	}
	if c.MaxListItems < 1 {
		errs = append(errs, fmt.Errorf("lockd: max_list_items %d must be >= 1", c.MaxListItems))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// raftConfig derives the Raft host settings; Dial is filled in by New.
// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "lockd", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}
