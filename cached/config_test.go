package cached

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node"
)

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.ID = "cached-1"
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no id", func(c *Config) { c.ID = "" }, "cached: id must be set"},
		{"bad id", func(c *Config) { c.ID = "a=b" }, "cached: id \"a=b\""},
		{"resp addr", func(c *Config) { c.RESPAddr = "nope" }, "cached: resp_addr"},
		{"peers", func(c *Config) { c.Peers = "a" }, "cached: peers: \"a\" is not id=grpc-addr[/resp-addr]"},
		{"peers addr", func(c *Config) { c.Peers = "a=x/127.0.0.1:1" }, "cached: peers: a: grpc address \"x\""},
		{"peers twice", func(c *Config) { c.Peers = "a=127.0.0.1:1,a=127.0.0.1:2" }, "listed twice"},
		{"registry", func(c *Config) { c.Registry = "x" }, "cached: registry endpoint \"x\""},
		{"registry ttl", func(c *Config) { c.Registry = "127.0.0.1:7000"; c.RegistryTTL = time.Millisecond }, "cached: registry_ttl"},
		{"vnodes", func(c *Config) { c.VNodes = 0 }, "cached: vnodes 0"},
		{"replicas", func(c *Config) { c.Replicas = 0 }, "cached: replicas 0"},
		{"memory", func(c *Config) { c.MaxMemory = -1 }, "cached: max_memory -1"},
		{"item", func(c *Config) { c.MaxItemBytes = 0 }, "cached: max_item_bytes 0"},
		{"policy", func(c *Config) { c.EvictionPolicy = "random" }, "cached: eviction_policy \"random\""},
		{"forward", func(c *Config) { c.ForwardTimeout = 0 }, "cached: forward_timeout"},
		{"replication", func(c *Config) { c.ReplicationTimeout = 0 }, "cached: replication_timeout"},
		{"clients", func(c *Config) { c.RESPMaxClients = 0 }, "cached: resp_max_clients 0"},
		{"bulk", func(c *Config) { c.RESPMaxBulk = 10 }, "cached: resp_max_bulk 10"},
		{"resp io", func(c *Config) { c.RESPIO = "threads" }, `cached: resp_io "threads": want "loop" or "goroutine"`},
		{"resp loops", func(c *Config) { c.RESPLoops = 0 }, "cached: resp_loops 0 must be in [1, 64]"},
		{"loop spin", func(c *Config) { c.RESPLoopSpin = -time.Microsecond }, "cached: resp_loop_spin -1µs must be in [0, 1s]"},
		{"redirect", func(c *Config) { c.RESPClusterRedirect = "sometimes" }, `cached: resp_cluster_redirect "sometimes": want "aware", "always" or "never"`},
		{"overrides", func(c *Config) { c.DialOverrides = "x" }, "cached: dial_overrides"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"server", func(c *Config) { c.Server.GRPCAddr = "" }, "grpc_addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParsePeers(t *testing.T) {
	ms, err := ParsePeers(" cached-1=127.0.0.1:7200/127.0.0.1:7240, cached-2=127.0.0.1:7202 ,")
	require.NoError(t, err)
	require.Equal(t, []ring.Member{
		{ID: "cached-1", Addr: "127.0.0.1:7200", RESPAddr: "127.0.0.1:7240"},
		{ID: "cached-2", Addr: "127.0.0.1:7202"},
	}, ms)
	again, err := ParsePeers(FormatPeers(ms))
	require.NoError(t, err)
	require.Equal(t, ms, again)
	ms, err = ParsePeers("")
	require.NoError(t, err)
	require.Empty(t, ms)
}

// Every field has a flag; the flags are the documented ones.
func TestConfigFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := pflag.NewFlagSet("cached", pflag.ContinueOnError)
	require.NoError(t, node.BindFlags(fs, &cfg))
	for _, f := range []string{"id", "grpc-addr", "admin-addr", "resp-addr", "peers", "registry", "registry-ttl", "registry-prefix",
		"vnodes", "replicas", "max-memory", "max-item-bytes", "eviction-policy", "forward-timeout", "replication-timeout",
		"resp-max-clients", "resp-max-bulk", "resp-io", "resp-loops", "dial-overrides", "log-level", "log-format"} {
		require.NotNil(t, fs.Lookup(f), "--%s", f)
	}
	require.NoError(t, fs.Parse([]string{"--id", "c1", "--replicas", "2", "--registry-ttl", "3s"}))
	require.NoError(t, node.Load(fs, &cfg, "CAIRN_CACHED_", ""))
	require.Equal(t, "c1", cfg.ID)
	require.Equal(t, 2, cfg.Replicas)
	require.Equal(t, 3*time.Second, cfg.RegistryTTL)
}
