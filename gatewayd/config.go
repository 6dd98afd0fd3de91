package gatewayd

import (
	"errors"
	"fmt"
	"net"
	"time"

	"cairn.dev/cairn/gatewayd/edge"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpproxy"
	"cairn.dev/cairn/node/registry"
)

// Defaults of the raftkv keys the gateway uses.
const (
	DefaultConfigKey      = "/cairn/gatewayd/config"
	DefaultKeysPrefix     = "/cairn/gatewayd/keys/"
	DefaultServicesPrefix = registry.DefaultPrefix
)

// Config configures a gatewayd Server. Every field can be set from a flag,
// from CAIRN_GATEWAYD_<FLAG> in the environment, or from a YAML file (see
// node.Load). It configures the process; the routes, upstreams, consumers
// and plugins are the configuration document (package gwconfig), read from
// raftkv (Registry) or from ConfigFile.
type Config struct {
	// ID is this node's id ("gatewayd-1"), in logs, stats and the admin API.
	ID string `yaml:"id" flag:"id" usage:"node id (required)"`
	// Role is "gateway" (the API gateway) or "edge" (a CDN edge node: the
	// edge.Settings below apply, the gateway-only settings do not).
	Role string `yaml:"role" flag:"role" usage:"gateway, or edge: a CDN edge node (docs/edge.md)"`
	// Edge holds the edge role's settings.
	Edge edge.Settings `yaml:"edge" flag:",inline"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// HTTPAddr is the listen address of the gateway's traffic (HTTP/1.1 and
	// HTTP/2; HTTPS with the node's certificate unless --insecure).
	HTTPAddr string `yaml:"http_addr" flag:"http-addr" usage:"listen address of the gateway's HTTP traffic"`
	// H2C also accepts HTTP/2 without TLS (prior knowledge) on a plaintext
	// listener.
	H2C bool `yaml:"h2c" flag:"h2c" usage:"accept HTTP/2 without TLS (prior knowledge) on a plaintext listener"`
	// HTTPCerts are extra certificate pairs for the HTTPS listener,
	// "cert.pem:key.pem,…", chosen by SNI (the node certificate is the
	// default); files are reloaded when they change.
	HTTPCerts string `yaml:"http_certs" flag:"http-certs" usage:"extra HTTPS certificates chosen by SNI: cert.pem:key.pem,... (reloaded when they change)"`

	// Registry lists raftkv endpoints ("host:port,…"): the configuration
	// document, API keys and service discovery live there.
	Registry string `yaml:"registry" flag:"registry" usage:"raftkv endpoints host:port,... holding the configuration, API keys and the service registry"`
	// ConfigKey is the raftkv key of the configuration document.
	ConfigKey string `yaml:"config_key" flag:"config-key" usage:"raftkv key of the configuration document"`
	// KeysPrefix is the raftkv prefix of the API keys (stored hashed).
	KeysPrefix string `yaml:"keys_prefix" flag:"keys-prefix" usage:"raftkv prefix of API keys"`
	// ServicesPrefix is the raftkv prefix of the service registry:
	// <prefix><service>/<id> = {"address":"host:port","weight":1}.
	ServicesPrefix string `yaml:"services_prefix" flag:"services-prefix" usage:"raftkv prefix of the service registry"`
	// ConfigFile is a configuration document. Without Registry it is the
	// configuration (re-read when the file changes); with Registry it is
	// stored in raftkv at start when raftkv holds none yet.
	ConfigFile string `yaml:"config_file" flag:"config-file" usage:"configuration document (YAML); with --registry it seeds raftkv when raftkv holds none"`

	// CacheEndpoints lists cached nodes ("host:port,…") for cluster-wide
	// rate limits and the shared response cache; without them global limits
	// act on each node alone (limit / gateway nodes) and responses are cached
	// per node.
	CacheEndpoints string `yaml:"cache_endpoints" flag:"cache-endpoints" usage:"cached endpoints host:port,... for global rate limits and the shared response cache"`
	// GatewayNodes is how many gateway nodes share global limits when cached
	// is unreachable (each then admits its share).
	GatewayNodes int `yaml:"gateway_nodes" flag:"gateway-nodes" usage:"number of gateway nodes (each admits limit/gateway_nodes of a global limit when cached is unreachable)"`

	// IssuerKeyFile is the cluster's token key (PKCS#8 PEM, Ed25519): the
	// admin API's IssueToken signs with it, and providers with
	// cluster_issuer verify with its public half.
	IssuerKeyFile string `yaml:"issuer_key" flag:"issuer-key" usage:"the cluster's token signing key (PKCS#8 PEM); providers with cluster_issuer verify with its public key"`

	// ReadHeaderTimeout bounds reading a request's headers (slow clients).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" flag:"read-header-timeout" usage:"longest time to read a request's headers"`
	// IdleTimeout closes idle client connections.
	IdleTimeout time.Duration `yaml:"idle_timeout" flag:"idle-timeout" usage:"idle client connections are closed after this long"`
	// MaxHeaderBytes bounds a request's header block (431 above).
	MaxHeaderBytes int `yaml:"max_header_bytes" flag:"max-header-bytes" usage:"largest request header block, in bytes"`
	// ResponseCacheBytes bounds the node-local tier of the response cache.
	ResponseCacheBytes int64 `yaml:"response_cache_bytes" flag:"response-cache-bytes" usage:"memory of the node-local response cache tier, in bytes"`
	// RetryBudget is the share of requests that may be retries (plus 10
	// retries a second).
	RetryBudget float64 `yaml:"retry_budget" flag:"retry-budget" usage:"retries allowed as a share of requests (plus 10/s)"`
	// AccessLog logs every request at info level.
	AccessLog bool `yaml:"access_log" flag:"access-log" usage:"log every request"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`
}

// DefaultConfig returns the defaults: gRPC (admin API) on 127.0.0.1:7700,
// admin HTTP on 127.0.0.1:7701, traffic on 127.0.0.1:7720.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7700"
	srv.AdminAddr = "127.0.0.1:7701"
	return Config{
		Role:               RoleGateway,
		Edge:               edge.DefaultSettings(),
		Server:             srv,
		HTTPAddr:           "127.0.0.1:7720",
		ConfigKey:          DefaultConfigKey,
		KeysPrefix:         DefaultKeysPrefix,
		ServicesPrefix:     DefaultServicesPrefix,
		GatewayNodes:       1,
		ReadHeaderTimeout:  10 * time.Second,
		IdleTimeout:        2 * time.Minute,
		MaxHeaderBytes:     32 << 10,
		ResponseCacheBytes: 64 << 20,
		RetryBudget:        0.2,
		LogLevel:           "info",
		LogFormat:          "text",
	}
}

// Roles of a gatewayd process.
const (
	RoleGateway = "gateway"
	RoleEdge    = "edge"
)

// EdgeConfig is the configuration of the edge role: the process settings
// shared with the gateway and the edge's own.
func (c Config) EdgeConfig() edge.Config {
	return edge.Config{
		ID:                c.ID,
		Server:            c.Server,
		HTTPAddr:          c.HTTPAddr,
		H2C:               c.H2C,
		HTTPCerts:         c.HTTPCerts,
		Registry:          c.Registry,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
		AccessLog:         c.AccessLog,
		Settings:          c.Edge,
	}
}

// Validate reports every bad field, each error naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("gatewayd: "+format, args...)) }
	if c.ID == "" {
		bad("id must be set")
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http_addr %q: %v", c.HTTPAddr, err)
	}
	if c.H2C && c.Server.TLS.Enabled() {
		bad("h2c needs a plaintext listener (--insecure)")
	}
	if _, err := httpproxy.ParseCertPairs(c.HTTPCerts); err != nil {
		bad("http_certs: %v", err)
	}
	if _, err := parseEndpoints("registry", c.Registry); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseEndpoints("cache_endpoints", c.CacheEndpoints); err != nil {
		errs = append(errs, err)
	}
	if c.Registry != "" {
		for name, v := range map[string]string{"config_key": c.ConfigKey, "keys_prefix": c.KeysPrefix, "services_prefix": c.ServicesPrefix} {
			if v == "" {
				bad("%s must be set with a registry", name)
			}
		}
	}
	if c.GatewayNodes < 1 || c.GatewayNodes > 1000 {
		bad("gateway_nodes %d must be in [1, 1000]", c.GatewayNodes)
	}
	if c.ReadHeaderTimeout <= 0 {
		bad("read_header_timeout %v must be positive", c.ReadHeaderTimeout)
	}
	if c.IdleTimeout <= 0 {
		bad("idle_timeout %v must be positive", c.IdleTimeout)
	}
	if c.MaxHeaderBytes < 1<<10 || c.MaxHeaderBytes > 1<<20 {
		bad("max_header_bytes %d must be in [1024, 1048576]", c.MaxHeaderBytes)
	}
	if c.ResponseCacheBytes < 0 {
		bad("response_cache_bytes %d must be >= 0", c.ResponseCacheBytes)
	}
	if c.RetryBudget < 0 || c.RetryBudget > 1 {
		bad("retry_budget %v must be in [0, 1]", c.RetryBudget)
	}
	return errors.Join(errs...)
}

// parseEndpoints splits "host:port,…" of a config field; empty gives none.
func parseEndpoints(field, s string) ([]string, error) {
	eps, err := node.ParseEndpoints(field, s)
	if err != nil {
		return nil, fmt.Errorf("gatewayd: %w", err)
	}
	return eps, nil
}
