package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/node/nodetest"
)

// startCachedNode runs a one-node cached server in-process on ports from :0
// and returns its gRPC address.
func startCachedNode(t *testing.T) *cached.Server {
	t.Helper()
	cfg := cached.DefaultConfig()
	cfg.ID = "cached-1"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = time.Second
	cfg.RESPAddr = "127.0.0.1:0"
	srv, err := cached.New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	nodetest.Serve(t, "cached", srv)
	return srv
}

type cacheRun struct {
	stdout, stderr string
	err            error
}

func runCache(t *testing.T, addr string, args ...string) cacheRun {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"cache", "--endpoints", addr}, args...))
	err := root.Execute()
	return cacheRun{out.String(), errb.String(), err}
}

func TestCacheCommands(t *testing.T) {
	srv := startCachedNode(t)
	addr := srv.Addr()

	r := runCache(t, addr, "set", "user:123", `{"name":"John"}`, "--ttl", "1h")
	require.NoError(t, r.err)
	require.Equal(t, "OK\n", r.stdout)
	r = runCache(t, addr, "get", "user:123")
	require.NoError(t, r.err)
	require.Equal(t, `{"name":"John"}`+"\n", r.stdout)

	// A missing key prints nothing and exits 3 (not found).
	r = runCache(t, addr, "get", "nope")
	require.Equal(t, exitNotFound, exitCode(r.err))
	require.Empty(t, r.stdout)

	// A condition that prevents a set exits 5 (conflict).
	r = runCache(t, addr, "set", "user:123", "x", "--nx")
	require.Equal(t, exitConflict, exitCode(r.err))
	r = runCache(t, addr, "set", "other", "x", "--xx")
	require.Equal(t, exitConflict, exitCode(r.err))
	r = runCache(t, addr, "set", "k", "v", "--nx", "--xx")
	require.Error(t, r.err)

	r = runCache(t, addr, "ttl", "user:123")
	require.NoError(t, r.err)
	d, err := time.ParseDuration(r.stdout[:len(r.stdout)-1])
	require.NoError(t, err, r.stdout)
	require.Greater(t, d, 59*time.Minute)
	r = runCache(t, addr, "ttl", "user:123", "--set", "0")
	require.NoError(t, r.err)
	r = runCache(t, addr, "ttl", "user:123")
	require.NoError(t, r.err)
	require.Equal(t, "none\n", r.stdout)
	r = runCache(t, addr, "ttl", "nope", "--set", "30s")
	require.Equal(t, exitNotFound, exitCode(r.err))

	r = runCache(t, addr, "incr", "n")
	require.NoError(t, r.err)
	require.Equal(t, "1\n", r.stdout)
	r = runCache(t, addr, "incr", "n", "--by", "41")
	require.NoError(t, r.err)
	require.Equal(t, "42\n", r.stdout)

	r = runCache(t, addr, "-o", "json", "get", "n")
	require.NoError(t, r.err)
	var item cacheItemJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &item))
	require.Equal(t, cacheItemJSON{Key: "n", Found: true, Value: "42", Version: item.Version, ServedBy: "cached-1"}, item)

	r = runCache(t, addr, "del", "n", "user:123", "nope")
	require.NoError(t, r.err)
	require.Equal(t, "2\n", r.stdout)

	r = runCache(t, addr, "stats")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "HIT RATIO")
	require.Contains(t, r.stdout, "cached-1")
	r = runCache(t, addr, "-o", "json", "stats")
	require.NoError(t, r.err)
	var stats struct {
		Nodes []cacheStatsJSON `json:"nodes"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &stats))
	require.Len(t, stats.Nodes, 1)
	require.Positive(t, stats.Nodes[0].Hits)

	r = runCache(t, addr, "ring")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, srv.RESPAddr())
	require.Contains(t, r.stdout, "100.0%")
	r = runCache(t, addr, "-o", "json", "ring")
	require.NoError(t, r.err)
	var ring struct {
		Members []struct {
			ID       string  `json:"id"`
			Addr     string  `json:"addr"`
			RESPAddr string  `json:"resp_addr"`
			Share    float64 `json:"share"`
		} `json:"members"`
		VNodes   int    `json:"vnodes"`
		Replicas int    `json:"replicas"`
		Epoch    uint64 `json:"epoch"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ring), r.stdout)
	require.Len(t, ring.Members, 1)
	require.Equal(t, srv.RESPAddr(), ring.Members[0].RESPAddr)
	require.Equal(t, 160, ring.VNodes)
	require.Equal(t, 1, ring.Replicas)

	r = runCache(t, addr, "-o", "yaml", "get", "k")
	require.ErrorContains(t, r.err, "--output")
	require.Equal(t, exitUsage, exitCode(r.err))
}

func TestCacheValueInput(t *testing.T) {
	srv := startCachedNode(t)
	addr := srv.Addr()
	bin := make([]byte, 300<<10) // above the shell's argument limit per word
	for i := range bin {
		bin[i] = byte(i*7 + i/256)
	}
	res := runCLI(t, bin, "cache", "--endpoints", addr, "set", "blob", "-")
	require.Equal(t, 0, res.code, res.stderr)
	res = runCLI(t, nil, "cache", "--endpoints", addr, "get", "blob")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, bin, []byte(res.stdout), "binary values print byte for byte")

	file := filepath.Join(t.TempDir(), "v")
	require.NoError(t, os.WriteFile(file, []byte("-\n"), 0o600))
	res = runCLI(t, nil, "cache", "--endpoints", addr, "set", "dash", "--file", file)
	require.Equal(t, 0, res.code, res.stderr)
	res = runCLI(t, nil, "cache", "--endpoints", addr, "get", "dash")
	require.Equal(t, "-\n", res.stdout, "a value ending in a newline gets none added")

	res = runCLI(t, nil, "cache", "--endpoints", addr, "-o", "json", "get", "blob")
	require.Equal(t, 0, res.code, res.stderr)
	var item cacheItemJSON
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &item))
	require.Equal(t, "base64", item.ValueEncoding)
	require.Equal(t, base64.StdEncoding.EncodeToString(bin), item.Value)

	res = runCLI(t, nil, "cache", "--endpoints", addr, "set", "k", "v", "--file", file)
	require.Equal(t, exitUsage, res.code, "a value and --file: %s", res.stderr)
}

func TestCacheNoEndpoints(t *testing.T) {
	root := newRootCmd()
	root.SetArgs([]string{"cache", "get", "k", "--cluster-dir", t.TempDir()})
	err := root.Execute()
	require.Error(t, err)
	require.Equal(t, exitUnavailable, exitCode(err), "no cluster to discover: %v", err)
}

func TestBenchCache(t *testing.T) {
	srv := startCachedNode(t)
	for _, args := range [][]string{
		{"get", "--total", "500", "--keys", "100", "--clients", "4"},
		{"aside", "--total", "300", "--keys", "1000", "--zipf", "1.2", "--batch", "8", "--clients", "4", "-o", "json"},
		{"set", "--total", "100", "--clients", "2"},
		{"aside", "--target", "resp", "--endpoints", srv.RESPAddr(), "--total", "200", "--batch", "4", "--clients", "2"},
	} {
		cmd := newBenchCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		full := append([]string{"cache"}, args...)
		if !slices.Contains(args, "--endpoints") {
			full = append(full, "--endpoints", srv.Addr())
		}
		cmd.SetArgs(full)
		require.NoError(t, cmd.Execute(), args)
		if args[len(args)-1] == "json" {
			var res struct {
				Requests int     `json:"requests"`
				Errors   int     `json:"errors"`
				HitRatio float64 `json:"hit_ratio"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &res))
			require.Equal(t, 300, res.Requests)
			require.Zero(t, res.Errors)
			require.Positive(t, res.HitRatio)
		} else {
			require.Contains(t, out.String(), "req/s")
			require.NotContains(t, out.String(), "errors, e.g.")
		}
	}
}
