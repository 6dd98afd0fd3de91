package edge

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"cairn.dev/cairn/gatewayd/edge/geodns"
	"cairn.dev/cairn/node"
)

// Defaults of the edge role.
const (
	DefaultZone        = "cdn.cairn.test"
	DefaultPurgePrefix = "/cairn/edge/"
	DefaultCacheMemory = 256 << 20
	DefaultGrace       = time.Hour
	// OriginBlobd names blobd as the origin (Settings.Origin).
	OriginBlobd = "blobd"
)

// Settings are the edge role's own settings: the flags `cairn gatewayd --role
// edge` adds to gatewayd's. Every field can be set from a flag, from
// CAIRN_GATEWAYD_<FLAG>, or from the YAML file's edge section.
type Settings struct {
	// Origin is where misses go: "blobd" (the object /<bucket>/<key> from
	// BlobdEndpoints) or an http:// or https:// base URL.
	Origin string `yaml:"origin" flag:"origin" usage:"edge role: the origin, \"blobd\" (objects at /<bucket>/<key> from --blobd-endpoints) or an http(s):// base URL"`
	// BlobdEndpoints lists blobd nodes ("host:port,…") for origin blobd.
	BlobdEndpoints string `yaml:"blobd_endpoints" flag:"blobd-endpoints" usage:"edge role: blobd endpoints host:port,... (origin blobd)"`
	// Region is this edge's region, in stats and the DNS answers' logs.
	Region string `yaml:"region" flag:"region" usage:"edge role: this edge's region (tokyo, frankfurt, ...)"`
	// Shields is the shield tier, "name=host:port,…" (the edge nodes' HTTP
	// addresses; this node's own id among them): a miss goes to the node
	// owning the URL (rendezvous hash), which alone asks the origin. Empty:
	// every edge asks the origin itself.
	Shields string `yaml:"shields" flag:"shields" usage:"edge role: the shield tier, name=host:port,... (misses go to the node owning the URL; empty: straight to the origin)"`
	// CacheMemory bounds the memory tier, in bytes.
	CacheMemory int64 `yaml:"cache_memory" flag:"cache-memory" usage:"edge role: memory tier of the cache, in bytes"`
	// CacheDisk bounds the disk tier, in bytes (0: no disk tier).
	CacheDisk int64 `yaml:"cache_disk" flag:"cache-disk" usage:"edge role: disk tier of the cache, in bytes (0: none; needs --cache-dir)"`
	// CacheDir holds the disk tier (kept across restarts).
	CacheDir string `yaml:"cache_dir" flag:"cache-dir" usage:"edge role: directory of the disk tier"`
	// Grace is how long past staleness content may be served when the
	// origin fails or is overwhelmed.
	Grace time.Duration `yaml:"grace" flag:"grace" usage:"edge role: how long stale content may be served when the origin fails or is overwhelmed"`
	// DNSAddr is the listen address (UDP and TCP) of the nearest-edge DNS
	// server; "" runs none.
	DNSAddr string `yaml:"dns_addr" flag:"dns-addr" usage:"edge role: listen address (UDP and TCP) of the nearest-edge DNS server"`
	// DNSZone is the CDN hostname the DNS server answers for.
	DNSZone string `yaml:"dns_zone" flag:"dns-zone" usage:"edge role: the CDN hostname the DNS server answers for"`
	// DNSRegions maps client subnets to regions and their edges:
	// "tokyo=127.0.1.0/24@127.0.1.1;frankfurt=127.0.2.0/24@127.0.2.1".
	DNSRegions string `yaml:"dns_regions" flag:"dns-regions" usage:"edge role: region map of the DNS server, name=cidr,...@addr,...;... (the first region is the default)"`
	// PurgePrefix is the raftkv prefix of purges, their acknowledgements
	// and the live edges (package purge).
	PurgePrefix string `yaml:"purge_prefix" flag:"purge-prefix" usage:"edge role: raftkv prefix of purges, acknowledgements and live edges"`
	// RulesFile is the edge logic (rewrites, redirects, A/B tests, header
	// rules, deny list), YAML; see docs/edge.md.
	RulesFile string `yaml:"rules_file" flag:"rules-file" usage:"edge role: edge rules (rewrites, redirects, A/B tests, headers, deny list), YAML"`
	// IPRate limits requests per client IP per second (0: no limit), with
	// IPBurst.
	IPRate  float64 `yaml:"ip_rate" flag:"ip-rate" usage:"edge role: requests per second per client IP (0: unlimited)"`
	IPBurst int     `yaml:"ip_burst" flag:"ip-burst" usage:"edge role: burst of the per-IP request limit"`
	// IPConns caps concurrent connections per client IP (0: no cap).
	IPConns int `yaml:"ip_conns" flag:"ip-conns" usage:"edge role: concurrent connections per client IP (0: unlimited)"`
	// NoCompress turns off compression at the edge.
	NoCompress bool `yaml:"no_compress" flag:"no-compress" usage:"edge role: do not compress responses"`
	// NoImages turns off image transforms (?width=&format=&quality=).
	NoImages bool `yaml:"no_images" flag:"no-images" usage:"edge role: no on-the-fly image transforms"`
}

// DefaultSettings returns the defaults.
func DefaultSettings() Settings {
	return Settings{
		Origin:      OriginBlobd,
		CacheMemory: DefaultCacheMemory,
		Grace:       DefaultGrace,
		DNSZone:     DefaultZone,
		PurgePrefix: DefaultPurgePrefix,
		IPBurst:     100,
	}
}

// Config configures an edge Server: the process settings it shares with
// gatewayd and its own Settings.
type Config struct {
	ID     string
	Server node.ServerConfig
	// HTTPAddr is the listen address of the edge's traffic (HTTPS with the
	// node's certificate unless the server runs without TLS).
	HTTPAddr  string
	H2C       bool
	HTTPCerts string
	// Registry lists raftkv endpoints: purges reach the edge through it.
	// Without it only the admin API's Purge purges.
	Registry          string
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	AccessLog         bool
	Settings
}

// Validate reports every bad field, each error naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("edge: "+format, args...)) }
	if c.ID == "" {
		bad("id must be set")
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http_addr %q: %v", c.HTTPAddr, err)
	}
	switch {
	case c.Origin == OriginBlobd:
		if eps, err := node.ParseEndpoints("blobd_endpoints", c.BlobdEndpoints); err != nil {
			errs = append(errs, err)
		} else if len(eps) == 0 {
			bad("origin blobd needs blobd_endpoints")
		}
	default:
		if _, err := originURL(c.Origin); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := node.ParseEndpoints("registry", c.Registry); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseShields(c.Shields); err != nil {
		errs = append(errs, err)
	}
	if c.CacheMemory < 1<<20 {
		bad("cache_memory %d must be at least 1048576 (1 MiB)", c.CacheMemory)
	}
	if c.CacheDisk < 0 {
		bad("cache_disk %d must be >= 0", c.CacheDisk)
	}
	if c.CacheDisk > 0 && c.CacheDir == "" {
		bad("cache_disk needs cache_dir")
	}
	if c.Grace < 0 {
		bad("grace %v must be >= 0", c.Grace)
	}
	if c.DNSAddr != "" {
		if _, _, err := net.SplitHostPort(c.DNSAddr); err != nil {
			bad("dns_addr %q: %v", c.DNSAddr, err)
		}
		if strings.TrimSpace(c.DNSZone) == "" {
			bad("dns_zone must be set with dns_addr")
		}
		if rs, err := geodns.ParseRegions(c.DNSRegions); err != nil {
			bad("dns_regions: %v", err)
		} else if len(rs) == 0 {
			bad("dns_regions must name at least one region with dns_addr")
		}
	}
	if c.Registry != "" && c.PurgePrefix == "" {
		bad("purge_prefix must be set with a registry")
	}
	if c.IPRate < 0 {
		bad("ip_rate %v must be >= 0", c.IPRate)
	}
	if c.IPRate > 0 && c.IPBurst < 1 {
		bad("ip_burst %d must be at least 1 with ip_rate", c.IPBurst)
	}
	if c.IPConns < 0 {
		bad("ip_conns %d must be >= 0", c.IPConns)
	}
	if c.ReadHeaderTimeout <= 0 {
		bad("read_header_timeout %v must be positive", c.ReadHeaderTimeout)
	}
	if c.IdleTimeout <= 0 {
		bad("idle_timeout %v must be positive", c.IdleTimeout)
	}
	return errors.Join(errs...)
}

// originURL parses an HTTP origin.
func originURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("edge: origin %q: want %q or an http:// or https:// URL", s, OriginBlobd)
	}
	return u, nil
}

// shieldNode is one entry of Settings.Shields.
type shieldNode struct{ name, addr string }

// parseShields reads "name=host:port,…".
func parseShields(s string) ([]shieldNode, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []shieldNode
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("edge: shields: %q is not name=host:port", p)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("edge: shields: %q: %v", p, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("edge: shields: %q listed twice", name)
		}
		seen[name] = true
		out = append(out, shieldNode{name, addr})
	}
	return out, nil
}
