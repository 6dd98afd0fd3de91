package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// startGatewayNode runs one plaintext gateway node over an in-process
// raftkv, with a token key, and returns it.
func startGatewayNode(t *testing.T) *gatewayd.Server {
	t.Helper()
	key, err := pki.EnsureTokenKey(filepath.Join(t.TempDir(), "tls"))
	require.NoError(t, err)
	cfg := gatewayd.DefaultConfig()
	cfg.ID = "gatewayd-1"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = time.Second
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Registry = raftkvtest.Start(t)
	cfg.IssuerKeyFile = key
	srv, err := gatewayd.New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	nodetest.Serve(t, "gatewayd", srv)
	return srv
}

// The CLI: config apply (and an invalid document refused with its
// path), config get, routes, consumers, keys, token, stats.
func TestGatewayCLI(t *testing.T) {
	srv := startGatewayNode(t)
	s := &searchCLI{t: t, eps: srv.Addr()}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nroutes:\n  - name: r\n    upstream: nowhere\n"), 0o600))
	r := s.run("gateway", "config", "apply", bad)
	require.Equal(t, exitUsage, r.code(), "%v", r.err)
	require.Contains(t, r.err.Error(), "routes[0].upstream")

	require.Contains(t, s.ok("gateway", "config", "apply", "../../examples/gateway.yaml", "--dry-run"), "valid: 1 routes, 1 upstreams, 2 consumers")
	out := s.ok("gateway", "config", "apply", "../../examples/gateway.yaml")
	require.Contains(t, out, "applied version ")
	nodetest.WaitFor(t, 10*time.Second, "config applied", func() bool { return srv.ConfigVersion() > 0 })

	require.Contains(t, s.ok("gateway", "config", "get"), "cluster_issuer: true")
	var cfg struct {
		Version int64  `json:"version"`
		Source  string `json:"source"`
	}
	require.NoError(t, json.Unmarshal([]byte(s.ok("gateway", "config", "get", "-o", "json")), &cfg))
	require.Equal(t, srv.ConfigVersion(), cfg.Version)
	require.Equal(t, "raftkv", cfg.Source)

	out = s.ok("gateway", "routes")
	require.Contains(t, out, "auth,authorize,rate_limit,transcode")
	require.Contains(t, s.ok("gateway", "consumers"), "demo")

	secret := strings.TrimSpace(s.ok("gateway", "keys", "create", "demo"))
	require.True(t, strings.HasPrefix(secret, "cgw_"), secret)
	id := strings.Split(secret, "_")[1]
	require.Contains(t, s.ok("gateway", "keys", "list"), id)
	require.Contains(t, s.ok("gateway", "keys", "delete", id), "deleted "+id)
	r = s.run("gateway", "keys", "delete", id)
	require.Equal(t, exitNotFound, r.code(), "%v", r.err)

	tok := strings.TrimSpace(s.ok("gateway", "token", "--consumer", "demo", "--ttl", "10m"))
	require.Len(t, strings.Split(tok, "."), 3)
	r = s.run("gateway", "token", "--consumer", "nobody")
	require.Equal(t, exitNotFound, r.code(), "%v", r.err)

	require.Contains(t, s.ok("gateway", "stats"), "gatewayd-1 (config v")
}
