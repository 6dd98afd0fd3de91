package blobd

import (
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
)

// Config configures a blobd Server. Every field can be set from a flag, from
// CAIRN_BLOBD_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this node's id, unique in the cluster (e.g. "blobd-1"). It names
	// the node as a volume server and as a member of the metadata Raft group.
	ID string `yaml:"id" flag:"id" usage:"node id, unique in the cluster (required)"`
	// ClusterID names the cluster; it is reported in every response header.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the cluster, reported in response headers"`
	// DataDir holds the metadata Raft log, snapshots and database, and the
	// volume files under volumes/.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the metadata Raft log and database and the volume files (required)"`
	// DialOverrides rewrites peer addresses when dialing: "addr=via,…" (fault proxies).
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	// S3Addr is the listen address of the S3 HTTP API, served by package
	// blobd/s3 beside the Server when set; empty disables it. It is also
	// the address this server registers for presigned URLs and redirects.
	S3Addr string `yaml:"s3_addr" flag:"s3-addr" usage:"listen address of the S3 HTTP API (empty: disabled)"`
	// S3Region is the region S3 requests are signed for.
	S3Region string `yaml:"s3_region" flag:"s3-region" usage:"region of the S3 API: requests are signed for it"`
	// S3CredentialsFile holds bootstrap access keys of the S3 API, one per
	// line: ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL], mode 0600. Keys
	// created through the API (AdminService) live in the metadata and work
	// beside these.
	S3CredentialsFile string `yaml:"s3_credentials_file" flag:"s3-credentials-file" usage:"file of bootstrap S3 access keys, 'ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]' per line, mode 0600"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning of the metadata group: --peers, --advertise-addr, timeouts, snapshots.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// Replicas is how many volume servers hold each hot chunk (and the
	// fewest servers a cluster needs to take hot writes).
	Replicas int `yaml:"replicas" flag:"replicas" usage:"volume servers holding each hot chunk"`
	// ChunkBytes is the size objects are split into (the last chunk is
	// shorter); at most meta.MaxChunkBytes.
	ChunkBytes int `yaml:"chunk_bytes" flag:"chunk-bytes" usage:"size of the chunks objects are split into"`
	// MaxVolumeBytes is the size at which a volume stops taking writes.
	MaxVolumeBytes int64 `yaml:"max_volume_bytes" flag:"max-volume-bytes" usage:"size at which a volume file is full"`
	// WritableVolumes is how many writable volumes of each kind the leader
	// keeps open, so that concurrent writes spread over servers and files.
	WritableVolumes int `yaml:"writable_volumes" flag:"writable-volumes" usage:"writable volumes of each kind the leader keeps open"`
	// ServerTimeout: a volume server not heard from for this long is DOWN and
	// its volumes are repaired onto other servers.
	ServerTimeout time.Duration `yaml:"server_timeout" flag:"server-timeout" usage:"a volume server not heard from for this long is down and its volumes are repaired elsewhere"`
	// HeartbeatInterval is how often a volume server reports to the leader.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" flag:"heartbeat-interval" usage:"how often a volume server reports to the metadata leader"`
	// RepairBytesPerSec bounds the copy rate of repairs on one node
	// (<= 0: unbounded).
	RepairBytesPerSec int64 `yaml:"repair_bytes_per_sec" flag:"repair-bytes-per-sec" usage:"most bytes per second one node copies for repairs (0: unbounded)"`
	// ScrubInterval is how often a node re-reads all its volumes to verify
	// checksums (0: never); ScrubBytesPerSec paces it.
	ScrubInterval    time.Duration `yaml:"scrub_interval" flag:"scrub-interval" usage:"how often every needle is re-read and its checksum verified (0: never)"`
	ScrubBytesPerSec int64         `yaml:"scrub_bytes_per_sec" flag:"scrub-bytes-per-sec" usage:"most bytes per second the scrubber reads (0: unbounded)"`
	// GCInterval is how often the leader collects garbage (needles of
	// failed uploads, compaction of volumes with deleted bytes); GCGrace is
	// how old an unreferenced needle must be to be collected.
	GCInterval time.Duration `yaml:"gc_interval" flag:"gc-interval" usage:"how often garbage is collected"`
	GCGrace    time.Duration `yaml:"gc_grace" flag:"gc-grace" usage:"how old an unreferenced needle must be to be collected"`
	// LifecycleInterval is how often the leader applies lifecycle rules.
	LifecycleInterval time.Duration `yaml:"lifecycle_interval" flag:"lifecycle-interval" usage:"how often lifecycle rules are applied"`
	// RestoreDelay is how long a restore of an archived object takes.
	RestoreDelay time.Duration `yaml:"restore_delay" flag:"restore-delay" usage:"how long restoring an archived object takes"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults. blobd's ports follow the cluster
// layout: gRPC 127.0.0.1:7500, admin 127.0.0.1:7501, S3 off.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7500"
	srv.AdminAddr = "127.0.0.1:7501"
	// A needle write or read message carries up to 1 MiB of data.
	srv.MaxRecvMsgBytes = 4 << 20
	return Config{
		ClusterID:         "blobd",
		S3Region:          "us-east-1",
		Server:            srv,
		Settings:          raftnode.DefaultSettings(),
		Replicas:          3,
		ChunkBytes:        8 << 20,
		MaxVolumeBytes:    1 << 30,
		WritableVolumes:   4,
		ServerTimeout:     5 * time.Second,
		HeartbeatInterval: time.Second,
		RepairBytesPerSec: 200 << 20,
		ScrubInterval:     24 * time.Hour,
		ScrubBytesPerSec:  50 << 20,
		GCInterval:        time.Minute,
		GCGrace:           time.Hour,
		LifecycleInterval: time.Minute,
		RestoreDelay:      10 * time.Second,
		LogLevel:          "info",
		LogFormat:         "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("blobd: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("blobd: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("blobd: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("blobd: dial_overrides: %w", err))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	inRange := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("blobd: %s %v must be in [%v, %v]", name, v, lo, hi))
		}
	}
	inRange("server_timeout", c.ServerTimeout, 100*time.Millisecond, time.Hour)
	inRange("heartbeat_interval", c.HeartbeatInterval, 10*time.Millisecond, time.Minute)
	if c.HeartbeatInterval >= c.ServerTimeout {
		errs = append(errs, fmt.Errorf("blobd: heartbeat_interval %v must be less than server_timeout %v", c.HeartbeatInterval, c.ServerTimeout))
	}
	inRange("scrub_interval", c.ScrubInterval, 0, 365*24*time.Hour)
	inRange("gc_interval", c.GCInterval, 10*time.Millisecond, 24*time.Hour)
	inRange("gc_grace", c.GCGrace, 0, 30*24*time.Hour)
	inRange("lifecycle_interval", c.LifecycleInterval, 10*time.Millisecond, 24*time.Hour)
	inRange("restore_delay", c.RestoreDelay, 0, 7*24*time.Hour)
	if c.Replicas < 1 || c.Replicas > 7 {
		errs = append(errs, fmt.Errorf("blobd: replicas %d must be in [1, 7]", c.Replicas))
	}
	if c.ChunkBytes < 64<<10 || c.ChunkBytes > 8<<20 {
		errs = append(errs, fmt.Errorf("blobd: chunk_bytes %d must be in [65536, 8388608]", c.ChunkBytes))
	}
	if c.MaxVolumeBytes < 16<<20 || c.MaxVolumeBytes > 32<<30 {
		errs = append(errs, fmt.Errorf("blobd: max_volume_bytes %d must be in [16 MiB, 32 GiB]", c.MaxVolumeBytes))
	}
	if c.WritableVolumes < 1 || c.WritableVolumes > 64 {
		errs = append(errs, fmt.Errorf("blobd: writable_volumes %d must be in [1, 64]", c.WritableVolumes))
	}
	if c.RepairBytesPerSec < 0 {
		errs = append(errs, fmt.Errorf("blobd: repair_bytes_per_sec %d must be >= 0", c.RepairBytesPerSec))
	}
	if c.ScrubBytesPerSec < 0 {
		errs = append(errs, fmt.Errorf("blobd: scrub_bytes_per_sec %d must be >= 0", c.ScrubBytesPerSec))
	}
	if c.S3CredentialsFile != "" && c.S3Addr == "" {
		errs = append(errs, errors.New("blobd: s3_credentials_file needs s3_addr"))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "blobd", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

// raftConfig derives the Raft host settings (Dial is filled in by StartRaft).
func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}
