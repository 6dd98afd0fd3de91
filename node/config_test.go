package node

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

type exampleConfig struct {
	ID      string        `yaml:"id" flag:"id" usage:"node id"`
	Peers   []string      `yaml:"peers" flag:"peers" usage:"comma separated id=addr"`
	Timeout time.Duration `yaml:"timeout" flag:"timeout" usage:"request timeout"`
	Verbose bool          `yaml:"verbose" flag:"verbose" usage:"log more"`
	Count   int64         `yaml:"count" flag:"count" usage:"a count"`
	Big     uint64        `yaml:"big" flag:"big" usage:"a big count"`
	Ratio   float64       `yaml:"ratio" flag:"ratio" usage:"a ratio"`
	Store   storeConfig   `yaml:"store" flag:"store"`
	Server  ServerConfig  `yaml:"server" flag:",inline"`
	NoFlag  string        `yaml:"no_flag"`
}

type storeConfig struct {
	Dir string `yaml:"dir" flag:"dir" usage:"data directory"`
}

func defaultExample() exampleConfig {
	return exampleConfig{
		ID:      "default",
		Peers:   []string{"default"},
		Timeout: time.Second,
		Count:   1,
		Big:     1,
		Ratio:   0.5,
		Store:   storeConfig{Dir: "default"},
		Server:  DefaultServerConfig(),
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// load runs the same sequence a daemon runs: BindFlags, Parse, Load.
func load(t *testing.T, yamlText string, env map[string]string, args []string) (exampleConfig, error) {
	t.Helper()
	cfg := defaultExample()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	require.NoError(t, BindFlags(fs, &cfg))
	require.NoError(t, fs.Parse(args))
	for k, v := range env {
		t.Setenv(k, v)
	}
	path := ""
	if yamlText != "" {
		path = writeFile(t, "config.yaml", yamlText)
	}
	err := Load(fs, &cfg, "CAIRN_TEST_", path)
	return cfg, err
}

func TestLoadPrecedence(t *testing.T) {
	const yamlAll = `
id: yaml
peers: [a=1, b=2]
timeout: 2s
store:
  dir: /yaml
server:
  grpc_addr: 127.0.0.1:2000
  tls:
    ca: /yaml/ca.pem
`
	envAll := map[string]string{
		"CAIRN_TEST_ID":        "env",
		"CAIRN_TEST_TIMEOUT":   "3s",
		"CAIRN_TEST_STORE_DIR": "/env",
		"CAIRN_TEST_GRPC_ADDR": "127.0.0.1:3000",
		"CAIRN_TEST_TLS_CA":    "/env/ca.pem",
	}
	flagsAll := []string{"--id=flag", "--store-dir=/flag", "--tls-ca=/flag/ca.pem", "--peers=c=3,d=4"}

	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c exampleConfig)
	}{
		{"defaults", "", nil, nil, func(t *testing.T, c exampleConfig) {
			require.Equal(t, defaultExample(), c)
		}},
		{"yaml over default", yamlAll, nil, nil, func(t *testing.T, c exampleConfig) {
			require.Equal(t, "yaml", c.ID)
			require.Equal(t, []string{"a=1", "b=2"}, c.Peers)
			require.Equal(t, 2*time.Second, c.Timeout)
			require.Equal(t, "/yaml", c.Store.Dir)
			require.Equal(t, "127.0.0.1:2000", c.Server.GRPCAddr)
			require.Equal(t, "/yaml/ca.pem", c.Server.TLS.CAFile)
			require.Equal(t, DefaultServerConfig().AdminAddr, c.Server.AdminAddr, "unset keys keep defaults")
			require.Equal(t, int64(1), c.Count)
		}},
		{"env over yaml", yamlAll, envAll, nil, func(t *testing.T, c exampleConfig) {
			require.Equal(t, "env", c.ID)
			require.Equal(t, []string{"a=1", "b=2"}, c.Peers, "not in env: yaml value")
			require.Equal(t, 3*time.Second, c.Timeout)
			require.Equal(t, "/env", c.Store.Dir)
			require.Equal(t, "127.0.0.1:3000", c.Server.GRPCAddr)
			require.Equal(t, "/env/ca.pem", c.Server.TLS.CAFile)
		}},
		{"flag over env", yamlAll, envAll, flagsAll, func(t *testing.T, c exampleConfig) {
			require.Equal(t, "flag", c.ID)
			require.Equal(t, []string{"c=3", "d=4"}, c.Peers)
			require.Equal(t, 3*time.Second, c.Timeout, "not a flag: env value")
			require.Equal(t, "/flag", c.Store.Dir)
			require.Equal(t, "127.0.0.1:3000", c.Server.GRPCAddr)
			require.Equal(t, "/flag/ca.pem", c.Server.TLS.CAFile)
		}},
		{"flag over default", "", nil, []string{"--verbose", "--count=7", "--big=18446744073709551615", "--ratio=0.25", "--shutdown-timeout=1m", "--max-recv-msg-bytes=1024"}, func(t *testing.T, c exampleConfig) {
			require.True(t, c.Verbose)
			require.Equal(t, int64(7), c.Count)
			require.Equal(t, uint64(18446744073709551615), c.Big)
			require.Equal(t, 0.25, c.Ratio)
			require.Equal(t, time.Minute, c.Server.ShutdownTimeout)
			require.Equal(t, 1024, c.Server.MaxRecvMsgBytes)
			require.Equal(t, "default", c.ID)
		}},
		{"flag set to its default still wins", yamlAll, envAll, []string{"--id=default"}, func(t *testing.T, c exampleConfig) {
			require.Equal(t, "default", c.ID)
		}},
		{"env of every type", "", map[string]string{
			"CAIRN_TEST_VERBOSE":            "true",
			"CAIRN_TEST_COUNT":              "-5",
			"CAIRN_TEST_BIG":                "42",
			"CAIRN_TEST_RATIO":              "1.5",
			"CAIRN_TEST_PEERS":              " x=1 , y=2 ,",
			"CAIRN_TEST_MAX_SEND_MSG_BYTES": "2048",
			"CAIRN_TEST_ADMIN_ADDR":         "",
		}, nil, func(t *testing.T, c exampleConfig) {
			require.True(t, c.Verbose)
			require.Equal(t, int64(-5), c.Count)
			require.Equal(t, uint64(42), c.Big)
			require.Equal(t, 1.5, c.Ratio)
			require.Equal(t, []string{"x=1", "y=2"}, c.Peers)
			require.Equal(t, 2048, c.Server.MaxSendMsgBytes)
			require.Empty(t, c.Server.AdminAddr, "a set but empty variable applies")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.yaml, tt.env, tt.args)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr []string
	}{
		{"unknown yaml key", "id: x\nbogus_key: 1\n", nil, []string{"bogus_key"}},
		{"unknown nested yaml key", "server:\n  grpc_adr: x\n", nil, []string{"grpc_adr"}},
		{"bad yaml type", "count: many\n", nil, []string{"config.yaml", "many"}},
		{"bad env duration", "", map[string]string{"CAIRN_TEST_TIMEOUT": "soon"}, []string{"CAIRN_TEST_TIMEOUT", "soon"}},
		{"bad env int", "", map[string]string{"CAIRN_TEST_MAX_RECV_MSG_BYTES": "16MiB"}, []string{"CAIRN_TEST_MAX_RECV_MSG_BYTES"}},
		{"bad env bool", "", map[string]string{"CAIRN_TEST_VERBOSE": "sure"}, []string{"CAIRN_TEST_VERBOSE"}},
		{"bad env uint", "", map[string]string{"CAIRN_TEST_BIG": "-1"}, []string{"CAIRN_TEST_BIG"}},
		{"bad env float", "", map[string]string{"CAIRN_TEST_RATIO": "half"}, []string{"CAIRN_TEST_RATIO"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.yaml, tt.env, nil)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}

	cfg := defaultExample()
	require.ErrorContains(t, Load(nil, &cfg, "X_", filepath.Join(t.TempDir(), "missing.yaml")), "node: config file")
	require.ErrorContains(t, Load(nil, cfg, "X_", ""), "pointer to a struct")
}

func TestLoadEmptyYAMLAndNilFlags(t *testing.T) {
	cfg := defaultExample()
	require.NoError(t, Load(nil, &cfg, "CAIRN_TEST_", writeFile(t, "empty.yaml", "")))
	require.Equal(t, defaultExample(), cfg)
}

func TestBindFlags(t *testing.T) {
	cfg := defaultExample()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	require.NoError(t, BindFlags(fs, &cfg))
	for name, def := range map[string]string{
		"id":                 "default",
		"peers":              "[default]",
		"timeout":            "1s",
		"store-dir":          "default",
		"grpc-addr":          "127.0.0.1:7000",
		"admin-addr":         "127.0.0.1:7100",
		"tls-cert":           "",
		"tls-key":            "",
		"tls-ca":             "",
		"max-recv-msg-bytes": "16777216",
		"max-send-msg-bytes": "16777216",
		"shutdown-timeout":   "10s",
	} {
		f := fs.Lookup(name)
		require.NotNil(t, f, "flag --%s", name)
		require.Equal(t, def, f.DefValue, "flag --%s", name)
	}
	require.Nil(t, fs.Lookup("no-flag"))
	require.Equal(t, "node id", fs.Lookup("id").Usage)

	require.NoError(t, fs.Parse([]string{"--id=parsed"}))
	require.Equal(t, "default", cfg.ID, "parsing alone does not touch cfg")

	require.ErrorContains(t, BindFlags(fs, &cfg), "already defined")

	type dup struct {
		A string `flag:"x"`
		B string `flag:"x"`
	}
	require.ErrorContains(t, BindFlags(pflag.NewFlagSet("d", pflag.ContinueOnError), &dup{}), `both use flag "x"`)
	type bad struct {
		M map[string]string `flag:"m"`
	}
	require.ErrorContains(t, BindFlags(pflag.NewFlagSet("b", pflag.ContinueOnError), &bad{}), "field M: unsupported type")
	type untaggedStruct struct {
		S storeConfig `flag:""`
	}
	require.ErrorContains(t, BindFlags(pflag.NewFlagSet("u", pflag.ContinueOnError), &untaggedStruct{}), "needs a flag name")
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "CAIRN_RAFTKV_DATA_DIR", EnvName("CAIRN_RAFTKV_", "data-dir"))
	require.Equal(t, "X_GRPC_ADDR", EnvName("X_", "grpc-addr"))
}

func TestServerConfigValidate(t *testing.T) {
	require.NoError(t, DefaultServerConfig().Validate())
	tests := []struct {
		name    string
		mutate  func(*ServerConfig)
		wantErr string
	}{
		{"empty grpc addr", func(c *ServerConfig) { c.GRPCAddr = "" }, "node: grpc_addr must not be empty"},
		{"bad grpc addr", func(c *ServerConfig) { c.GRPCAddr = "nope" }, "node: grpc_addr"},
		{"bad admin addr", func(c *ServerConfig) { c.AdminAddr = "nope" }, "node: admin_addr"},
		{"recv", func(c *ServerConfig) { c.MaxRecvMsgBytes = 0 }, "node: max_recv_msg_bytes must be > 0"},
		{"send", func(c *ServerConfig) { c.MaxSendMsgBytes = -1 }, "node: max_send_msg_bytes must be > 0"},
		{"shutdown", func(c *ServerConfig) { c.ShutdownTimeout = 0 }, "node: shutdown_timeout must be > 0"},
		{"tls half", func(c *ServerConfig) { c.TLS.CertFile = "c.pem" }, "node: tls.cert and tls.key must be set together"},
		{"tls ca only", func(c *ServerConfig) { c.TLS.CAFile = "ca.pem" }, "node: tls.ca on a server requires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultServerConfig()
			tt.mutate(&c)
			require.ErrorContains(t, c.Validate(), tt.wantErr)
		})
	}
	c := DefaultServerConfig()
	c.AdminAddr = ""
	require.NoError(t, c.Validate(), "admin disabled")
}
