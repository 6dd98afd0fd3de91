package searchd

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
)

// Config configures a searchd Server. Every field can be set from a flag,
// from CAIRN_SEARCHD_<FLAG> in the environment, or from a YAML file (see
// node.Load).
type Config struct {
	// ID is this node's id, unique in the cluster ("searchd-1"): its name
	// as a member of the metadata Raft group and as a holder of shard copies.
	ID string `yaml:"id" flag:"id" usage:"node id, unique in the cluster (required)"`
	// ClusterID names the cluster.
	ClusterID string `yaml:"cluster_id" flag:"cluster-id" usage:"name of the cluster"`
	// DataDir holds the metadata Raft log and database and the shard copies
	// under shards/.
	DataDir string `yaml:"data_dir" flag:"data-dir" usage:"directory for the metadata Raft log and database and the shard copies (required)"`
	// DialOverrides rewrites peer addresses when dialing: "addr=via,…".
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	// HTTPAddr is the listen address of the Elasticsearch-compatible HTTP
	// API, served beside the Server by package searchd/es when set (the
	// binary attaches it); empty disables it.
	HTTPAddr string `yaml:"http_addr" flag:"http-addr" usage:"listen address of the Elasticsearch-compatible HTTP API (empty: disabled)"`

	// StreamdEndpoints are gRPC addresses of streamd nodes, where indexes
	// keep their writes (comma-separated). Required.
	StreamdEndpoints string `yaml:"streamd_endpoints" flag:"streamd-endpoints" usage:"comma-separated gRPC addresses of streamd nodes (required)"`
	// StreamdCAFile, StreamdCertFile and StreamdKeyFile are the TLS files
	// of the streamd client; empty means the node's own (--tls-ca,
	// --tls-cert, --tls-key), plaintext when the node is --insecure.
	StreamdCAFile   string `yaml:"streamd_tls_ca" flag:"streamd-tls-ca" usage:"CA bundle trusted for streamd (default: --tls-ca)"`
	StreamdCertFile string `yaml:"streamd_tls_cert" flag:"streamd-tls-cert" usage:"client certificate for streamd (default: --tls-cert)"`
	StreamdKeyFile  string `yaml:"streamd_tls_key" flag:"streamd-tls-key" usage:"client key for streamd (default: --tls-key)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// Raft membership and tuning of the metadata group.
	raftnode.Settings `yaml:",inline" flag:",inline"`

	// RefreshInterval is the refresh_interval of indexes created without one.
	RefreshInterval time.Duration `yaml:"refresh_interval" flag:"refresh-interval" usage:"default refresh interval of new indexes"`
	// CommitInterval and CommitOps: a shard copy commits (fsyncs its
	// segments with its partition offset) after this long or this many
	// applied writes, whichever comes first, and on close.
	CommitInterval time.Duration `yaml:"commit_interval" flag:"commit-interval" usage:"longest time between two commits of a shard copy"`
	CommitOps      int           `yaml:"commit_ops" flag:"commit-ops" usage:"applied writes after which a shard copy commits"`
	// NodeTimeout: a node not heard from for this long is down and its
	// copies are replaced on other nodes.
	NodeTimeout time.Duration `yaml:"node_timeout" flag:"node-timeout" usage:"a node silent this long is down and its shard copies are replaced"`
	// HeartbeatInterval is how often the metadata leader polls every node.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" flag:"heartbeat-interval" usage:"how often the metadata leader checks on every node"`
	// StreamdReplicas caps the replication of new index topics (the streamd
	// node count is the other cap).
	StreamdReplicas int `yaml:"streamd_replicas" flag:"streamd-replicas" usage:"most replicas of an index's streamd topic"`

	// MaxDocumentBytes refuses larger document sources.
	MaxDocumentBytes int `yaml:"max_document_bytes" flag:"max-document-bytes" usage:"largest document source"`
	// MaxBulkItems and MaxBulkBytes bound one Bulk request.
	MaxBulkItems int `yaml:"max_bulk_items" flag:"max-bulk-items" usage:"most items in one bulk request"`
	MaxBulkBytes int `yaml:"max_bulk_bytes" flag:"max-bulk-bytes" usage:"most source bytes in one bulk request"`
	// MaxClauses, MaxExpansions and MaxResultWindow bound queries.
	MaxClauses      int `yaml:"max_clauses" flag:"max-clauses" usage:"most clauses of a query after expansion"`
	MaxExpansions   int `yaml:"max_expansions" flag:"max-expansions" usage:"most terms one fuzzy or prefix query expands to"`
	MaxResultWindow int `yaml:"max_result_window" flag:"max-result-window" usage:"largest from+size of a search"`
	// SearchTimeout bounds a search, its phases included.
	SearchTimeout time.Duration `yaml:"search_timeout" flag:"search-timeout" usage:"longest a search may run"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults. searchd's ports follow the cluster
// layout: gRPC 127.0.0.1:7600, admin 127.0.0.1:7601; HTTP is off.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7600"
	srv.AdminAddr = "127.0.0.1:7601"
	return Config{
		ClusterID:         "searchd",
		Server:            srv,
		Settings:          raftnode.DefaultSettings(),
		RefreshInterval:   time.Second,
		CommitInterval:    30 * time.Second,
		CommitOps:         50000,
		NodeTimeout:       10 * time.Second,
		HeartbeatInterval: time.Second,
		StreamdReplicas:   3,
		MaxDocumentBytes:  10 << 20,
		MaxBulkItems:      10000,
		MaxBulkBytes:      100 << 20,
		MaxClauses:        1024,
		MaxExpansions:     50,
		MaxResultWindow:   10000,
		SearchTimeout:     30 * time.Second,
		LogLevel:          "info",
		LogFormat:         "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("searchd: id must be set"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("searchd: data_dir must be set"))
	}
	if _, err := raftnode.ParsePeers(c.Peers); err != nil {
		errs = append(errs, fmt.Errorf("searchd: peers: %w", err))
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("searchd: dial_overrides: %w", err))
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("searchd: http_addr %q is not host:port: %w", c.HTTPAddr, err))
		}
	}
	if len(c.streamdEndpoints()) == 0 {
		errs = append(errs, errors.New("searchd: streamd_endpoints must name at least one streamd node"))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	checkDur := func(name string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			errs = append(errs, fmt.Errorf("searchd: %s %v must be in [%v, %v]", name, d, lo, hi))
		}
	}
	checkInt := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("searchd: %s %d must be in [%d, %d]", name, v, lo, hi))
		}
	}
	checkDur("refresh_interval", c.RefreshInterval, -1, time.Hour)
	checkDur("commit_interval", c.CommitInterval, 10*time.Millisecond, time.Hour)
	checkDur("node_timeout", c.NodeTimeout, 100*time.Millisecond, time.Hour)
	checkDur("heartbeat_interval", c.HeartbeatInterval, 10*time.Millisecond, time.Minute)
	checkDur("search_timeout", c.SearchTimeout, 10*time.Millisecond, time.Hour)
	checkInt("commit_ops", c.CommitOps, 1, 100_000_000)
	checkInt("streamd_replicas", c.StreamdReplicas, 1, 7)
	checkInt("max_document_bytes", c.MaxDocumentBytes, 1, 1<<30)
	checkInt("max_bulk_items", c.MaxBulkItems, 1, 1_000_000)
	checkInt("max_bulk_bytes", c.MaxBulkBytes, 1, 1<<30)
	checkInt("max_clauses", c.MaxClauses, 1, 1<<20)
	checkInt("max_expansions", c.MaxExpansions, 1, 1<<20)
	checkInt("max_result_window", c.MaxResultWindow, 1, 1<<30)
	if c.HeartbeatInterval >= c.NodeTimeout {
		errs = append(errs, fmt.Errorf("searchd: heartbeat_interval %v must be below node_timeout %v", c.HeartbeatInterval, c.NodeTimeout))
	}
	if err := c.raftConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// streamdEndpoints splits StreamdEndpoints.
func (c Config) streamdEndpoints() []string {
	var out []string
	for _, e := range strings.Split(c.StreamdEndpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// streamdTLS returns the TLS files of the streamd client.
func (c Config) streamdTLS() node.TLSFiles {
	t := c.Server.TLS
	if c.StreamdCAFile != "" {
		t.CAFile = c.StreamdCAFile
	}
	if c.StreamdCertFile != "" {
		t.CertFile = c.StreamdCertFile
	}
	if c.StreamdKeyFile != "" {
		t.KeyFile = c.StreamdKeyFile
	}
	return t
}

// daemonConfig is the part of c the Raft-daemon skeleton uses.
func (c Config) daemonConfig() raftnode.DaemonConfig {
	return raftnode.DaemonConfig{Name: "searchd", ID: c.ID, DataDir: c.DataDir, DialOverrides: c.DialOverrides, Server: c.Server, Settings: c.Settings}
}

// raftConfig derives the Raft host settings.
func (c Config) raftConfig() raftnode.Config {
	return c.Settings.Config(c.ID, c.DataDir, c.Server.GRPCAddr)
}
