package lbd

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"cairn.dev/cairn/node"
)

// Defaults of an lbd node.
const (
	DefaultAdminPrefix    = "/cairn/lbd/admin/"
	DefaultServicesPrefix = "/cairn/services/"
	DefaultElection       = "lbd"
	DefaultHATTL          = 3 * time.Second
	DefaultReloadInterval = 2 * time.Second
)

// Config configures an lbd Server. Every field can be set from a flag, from
// CAIRN_LBD_<FLAG> in the environment, or from a YAML file (see node.Load).
// The frontends and pools are in their own document (LBFile, see
// lbd/lbconfig), reloaded when it changes.
type Config struct {
	// ID is this node's name, unique in its HA group ("lbd-1").
	ID string `yaml:"id" flag:"id" usage:"node id, unique in the HA group (required)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// LBFile is the frontends-and-pools document (YAML, lbd/lbconfig); it
	// is watched and reloaded without dropping connections.
	LBFile string `yaml:"lb_file" flag:"lb-file" usage:"frontends and pools, YAML (see docs/lbd.md); reloaded when it changes (required)"`
	// ReloadInterval is how often LBFile is checked for changes.
	ReloadInterval time.Duration `yaml:"reload_interval" flag:"reload-interval" usage:"how often the lb file is checked for changes"`

	// Registry lists raftkv endpoints, "host:port,…": pools with a service
	// take members from its registry, and administrative state (drain,
	// weight) is shared there by every lbd node.
	Registry string `yaml:"registry" flag:"registry" usage:"raftkv endpoints host:port,...: service discovery and shared admin state (empty: static pools, node-local admin state)"`
	// ServicesPrefix is where services register in raftkv.
	ServicesPrefix string `yaml:"services_prefix" flag:"services-prefix" usage:"raftkv prefix of service registrations"`
	// AdminPrefix is where administrative state lives in raftkv.
	AdminPrefix string `yaml:"admin_prefix" flag:"admin-prefix" usage:"raftkv prefix of backends' admin state (drain, disable, weight)"`

	// Lockd lists lockd endpoints; with VIP set the nodes elect the active
	// one there.
	Lockd string `yaml:"lockd" flag:"lockd" usage:"lockd endpoints host:port,... for the HA election (with --vip)"`
	// VIP is the virtual address (an IP) the active node holds: frontends
	// listening on it are bound only while this node is active.
	VIP string `yaml:"vip" flag:"vip" usage:"virtual IP held by the active node; frontends on it listen only while active (needs --lockd)"`
	// Election is the lockd election of the HA group.
	Election string `yaml:"election" flag:"election" usage:"lockd election name of the HA group"`
	// HATTL is the lockd session TTL: a crashed active node is replaced
	// within about this long.
	HATTL time.Duration `yaml:"ha_ttl" flag:"ha-ttl" usage:"lockd session TTL: a crashed active node is replaced within about this long"`

	// Seed feeds random choices (p2c, random, check jitter); 0 picks one
	// from the node id.
	Seed uint64 `yaml:"seed" flag:"seed" usage:"seed of random choices (0: derived from the id)"`

	AccessLog bool   `yaml:"access_log" flag:"access-log" usage:"log every HTTP request at info level"`
	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"log level: debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"log format: text or json"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7800"
	srv.AdminAddr = "127.0.0.1:7801"
	return Config{
		Server:         srv,
		ReloadInterval: DefaultReloadInterval,
		ServicesPrefix: DefaultServicesPrefix,
		AdminPrefix:    DefaultAdminPrefix,
		Election:       DefaultElection,
		HATTL:          DefaultHATTL,
		LogLevel:       "info",
		LogFormat:      "text",
	}
}

// Validate reports every bad setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("lbd: "+format, args...)) }
	if c.ID == "" {
		bad("id must be set")
	} else if strings.ContainsAny(c.ID, "=,/ \t") {
		bad("id %q must not contain '=', ',', '/' or spaces", c.ID)
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.LBFile == "" {
		bad("lb_file must be set")
	}
	if c.ReloadInterval < 100*time.Millisecond || c.ReloadInterval > time.Hour {
		bad("reload_interval %v is outside 100ms..1h", c.ReloadInterval)
	}
	if _, err := node.ParseEndpoints("registry", c.Registry); err != nil {
		errs = append(errs, err)
	}
	if _, err := node.ParseEndpoints("lockd", c.Lockd); err != nil {
		errs = append(errs, err)
	}
	for field, p := range map[string]string{"services_prefix": c.ServicesPrefix, "admin_prefix": c.AdminPrefix} {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
			bad("%s %q must start and end with '/'", field, p)
		}
	}
	if c.VIP != "" {
		if _, err := netip.ParseAddr(c.VIP); err != nil {
			bad("vip %q is not an IP address", c.VIP)
		}
		if c.Lockd == "" {
			bad("vip needs lockd (the HA election)")
		}
	}
	if c.Election == "" || len(c.Election) > 256 {
		bad("election must be 1..256 bytes")
	}
	if c.HATTL < time.Second || c.HATTL > time.Minute {
		bad("ha_ttl %v is outside 1s..1m", c.HATTL)
	}
	return errors.Join(errs...)
}
