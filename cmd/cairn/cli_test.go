package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/nodetest"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// cliRun is the outcome of one run of the whole CLI (run, as main calls it).
type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs `cairn <args>` as main does, with stdin, and returns its exit
// code and output.
func runCLI(t *testing.T, stdin []byte, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, bytes.NewReader(stdin), &out, &errb)
	return cliRun{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestExitCode(t *testing.T) {
	withReason := func(c codes.Code, reason string) error {
		st, err := status.New(c, "x").WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "cairn"})
		require.NoError(t, err)
		return st.Err()
	}
	// A reason listed in reasonExitCodes wins over the status code.
	reasonExitCodes["TEST_KEY_NOT_FOUND"] = exitNotFound
	t.Cleanup(func() { delete(reasonExitCodes, "TEST_KEY_NOT_FOUND") })
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("boom"), exitFailure},
		{usageErrorf("--x: bad"), exitUsage},
		{fmt.Errorf("wrapped: %w", withExit(exitLost, errors.New("lost"))), exitLost},
		{status.Error(codes.InvalidArgument, "bad"), exitUsage},
		{status.Error(codes.OutOfRange, "compacted"), exitUsage},
		{status.Error(codes.NotFound, "no lease"), exitNotFound},
		{status.Error(codes.Unavailable, "no leader"), exitUnavailable},
		{fmt.Errorf("put: %w", status.Error(codes.DeadlineExceeded, "slow")), exitUnavailable},
		{status.Error(codes.FailedPrecondition, "not held"), exitConflict},
		{status.Error(codes.Aborted, "conflict"), exitConflict},
		{status.Error(codes.AlreadyExists, "exists"), exitConflict},
		{status.Error(codes.PermissionDenied, "not yours"), exitFailure},
		{status.Error(codes.Internal, "bug"), exitFailure},
		{withReason(codes.Unavailable, "NOT_LISTED"), exitUnavailable},
		{fmt.Errorf("get: %w", withReason(codes.FailedPrecondition, "TEST_KEY_NOT_FOUND")), exitNotFound},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), exitUnavailable},
	} {
		require.Equal(t, tc.want, exitCode(tc.err), "%v", tc.err)
	}
	// No two outcomes that scripts must tell apart share a code.
	codesSeen := map[int]bool{}
	for _, c := range []int{exitOK, exitFailure, exitUsage, exitNotFound, exitUnavailable, exitConflict, exitLost} {
		require.False(t, codesSeen[c], "exit code %d used twice", c)
		codesSeen[c] = true
	}
}

func TestRootHelpListsExitCodes(t *testing.T) {
	res := runCLI(t, nil, "--help")
	require.Equal(t, 0, res.code)
	require.Contains(t, res.stdout, exitCodesHelp)
	for _, group := range []string{"kv", "cache", "lock", "sem", "election"} {
		res := runCLI(t, nil, group, "--help")
		require.Equal(t, 0, res.code, group)
		require.Contains(t, res.stdout, exitCodesHelp, group)
	}
}

// Every client group has the same client flags with the same defaults.
func TestClientFlagsShared(t *testing.T) {
	root := newRootCmd()
	for _, group := range []string{"kv", "cache", "lock", "sem", "election"} {
		cmd, _, err := root.Find([]string{group})
		require.NoError(t, err)
		pf := cmd.PersistentFlags()
		for name, def := range map[string]string{"endpoints": "[]", "cluster-dir": "", "output": "table", "timeout": defaultClientTimeout.String()} {
			f := pf.Lookup(name)
			require.NotNil(t, f, "%s --%s", group, name)
			require.Equal(t, def, f.DefValue, "%s --%s", group, name)
		}
		require.Equal(t, "o", pf.Lookup("output").Shorthand, group)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"kv", "nosuch"},
		{"kv", "get"},
		{"kv", "get", "k", "--bogus"},
		{"kv", "get", "k", "--prefix", "--from-key"},
		{"kv", "put", "k", "v", "--lease", "abc"},
		{"kv", "lease", "grant", "-5"},
		{"kv", "lease", "grant", "--", "-5"},
		{"kv", "lease", "grant", "soon"},
		{"cache", "set", "k"},
		{"cache", "incr", "k", "--by", "x"},
		{"cluster", "status", "-o", "yaml"},
		{"kv", "snapshot", "restore", "f"},
	} {
		res := runCLI(t, nil, append(args, "--endpoints", "127.0.0.1:1")...)
		require.Equal(t, exitUsage, res.code, "%v: %s", args, res.stderr)
		require.True(t, strings.HasPrefix(res.stderr, "cairn: "), res.stderr)
	}
	// Negative numbers reach the command's validation, which names them.
	res := runCLI(t, nil, "kv", "lease", "grant", "-5", "--endpoints", "127.0.0.1:1")
	require.Contains(t, res.stderr, "<ttl>: must be positive, got -5")
	require.NotContains(t, res.stderr, "unknown")
}

func TestNegativeNumbersAsArgs(t *testing.T) {
	root := newRootCmd()
	for _, tc := range []struct{ in, want string }{
		{"kv lease grant -5", "kv lease grant -- -5"},
		{"kv lease grant -5s --timeout 3s", "kv lease grant --timeout 3s -- -5s"},
		{"kv put k -1 --lease 7", "kv put k --lease 7 -- -1"},
		{"kv put -1 v", "kv put -- -1 v"},
		{"kv put -1 -", "kv put -- -1 -"},
		{"cache --endpoints a:1 incr k --by -3", "cache --endpoints a:1 incr k --by -3"},
		{"cache incr k --by=-3", "cache incr k --by=-3"},
		{"kv get k -o json", "kv get k -o json"},
		{"kv compact -2 -o json", "kv compact -o json -- -2"},
		{"lock acquire L -- sleep -1", "lock acquire L -- sleep -1"},
		{"cluster delay raftkv-1 -5ms", "cluster delay raftkv-1 -- -5ms"},
	} {
		got := negativeNumbersAsArgs(root, strings.Fields(tc.in))
		require.Equal(t, tc.want, strings.Join(got, " "), tc.in)
	}
}

func TestParseSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"30s", 30, ""},
		{"30", 30, ""},
		{"1m30s", 90, ""},
		{"2h", 7200, ""},
		{"0", 0, "must be positive"},
		{"-5", 0, "must be positive"},
		{"-5s", 0, "must be positive"},
		{"1500ms", 0, "whole seconds"},
		{"abc", 0, "want a duration"},
		{"", 0, "want a duration"},
		{"99999999999999999", 0, "too long"},
	} {
		got, err := parseSeconds("<ttl>", tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			require.Equal(t, exitUsage, exitCode(err))
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestProtoObject(t *testing.T) {
	resp := &raftkvv1.RangeResponse{
		Header: &raftkvv1.ResponseHeader{Revision: 1 << 40, MemberId: "kv-1"},
		Kvs: []*raftkvv1.KeyValue{
			{Key: []byte("k"), Value: []byte("héllo"), ModRevision: 1 << 40, Version: 2},
			{Key: []byte{0xff}, Value: []byte{0, 0xfe}},
		},
		Count: 2,
	}
	var buf bytes.Buffer
	require.NoError(t, writeJSON(&buf, resp))
	require.Equal(t, 1, strings.Count(buf.String(), "\n"), "one line")
	var got map[string]any
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	require.NoError(t, dec.Decode(&got))
	require.Equal(t, json.Number("2"), got["count"], "int64 as a number")
	require.Equal(t, false, got["more"], "scalars always present")
	hdr := got["header"].(map[string]any)
	require.Equal(t, json.Number("1099511627776"), hdr["revision"])
	kvs := got["kvs"].([]any)
	kv0 := kvs[0].(map[string]any)
	require.Equal(t, "k", kv0["key"])
	require.Equal(t, "héllo", kv0["value"])
	require.NotContains(t, kv0, "value_encoding")
	require.Equal(t, json.Number("1099511627776"), kv0["mod_revision"])
	kv1 := kvs[1].(map[string]any)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{0xff}), kv1["key"])
	require.Equal(t, "base64", kv1["key_encoding"])
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{0, 0xfe}), kv1["value"])
	require.Equal(t, "base64", kv1["value_encoding"])

	// Enums lose their common prefix; repeated fields are [] when empty.
	ev := &raftkvv1.WatchResponse{Events: []*raftkvv1.Event{{Type: raftkvv1.Event_EVENT_TYPE_DELETE, Kv: &raftkvv1.KeyValue{Key: []byte("k")}}}}
	buf.Reset()
	require.NoError(t, writeJSON(&buf, ev))
	require.Contains(t, buf.String(), `"type":"delete"`)
	buf.Reset()
	require.NoError(t, writeJSON(&buf, &raftkvv1.RangeResponse{}))
	require.Contains(t, buf.String(), `"kvs":[]`)
	require.NotContains(t, buf.String(), `"header"`, "unset messages are left out")
}

func TestTextValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello", "hello\n"},
		{"hello\n", "hello\n"},
		{"", "\n"},
		{"\xff\x00", "\xff\x00"},
		{"two\nlines", "two\nlines\n"},
	} {
		var buf bytes.Buffer
		require.NoError(t, textValue(&buf, []byte(tc.in)))
		require.Equal(t, tc.want, buf.String(), "%q", tc.in)
	}
}

func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	require.Equal(t, "cairn v0.3.0 rev 0123456789ab-dirty (2026-01-02T03:04:05Z) go1.26.0", formatVersion(bi))
	require.Equal(t, "cairn (devel) go1.26.0", formatVersion(&debug.BuildInfo{GoVersion: "go1.26.0"}))

	res := runCLI(t, nil, "--version")
	require.Equal(t, 0, res.code, res.stderr)
	require.True(t, strings.HasPrefix(res.stdout, "cairn "), res.stdout)
	require.Contains(t, res.stdout, "go1.")
}

func TestStatusVerdict(t *testing.T) {
	ok := cluster.NodeStatus{Name: "raftkv-1", Health: cluster.HealthServing}
	require.NoError(t, statusVerdict([]cluster.NodeStatus{ok}))
	err := statusVerdict([]cluster.NodeStatus{ok, {Name: "raftkv-2", Health: cluster.HealthUnreachable}, {Name: "raftkv-3", Health: cluster.HealthPaused}})
	require.Equal(t, exitUnavailable, exitCode(err))
	require.ErrorContains(t, err, "2 of 3 nodes not serving: raftkv-2 (unreachable), raftkv-3 (paused)")
}

// startRaftKVNode runs a one-member raftkv group in-process and returns its
// address once it accepts writes.
func startRaftKVNode(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String() // the bootstrap peer list needs the address up front
	require.NoError(t, ln.Close())
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr = addr
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.Peers = cfg.ID + "=" + addr
	cfg.NoSync = true
	srv, err := raftkv.New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("raftkv stopped at start: %v", err)
	}
	c, err := kvclient.New(kvclient.Config{Endpoints: []string{addr}})
	require.NoError(t, err)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Put(pctx, "ready", "")
		pcancel()
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("raftkv never accepted a write: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not synchronisation
	}
}

func TestKVValuesAndExitCodes(t *testing.T) {
	addr := startRaftKVNode(t)
	kv := func(stdin []byte, args ...string) cliRun {
		t.Helper()
		return runCLI(t, stdin, append([]string{"kv", "--endpoints", addr}, args...)...)
	}

	// 800000 random-looking bytes through stdin come back byte for byte.
	big := make([]byte, 800000)
	for i := range big {
		big[i] = byte(i*131 + i>>9)
	}
	res := kv(big, "put", "big", "-")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "OK\n", res.stdout)
	res = kv(nil, "get", "big")
	require.Equal(t, 0, res.code, res.stderr)
	require.Len(t, res.stdout, 800000)
	require.True(t, bytes.Equal(big, []byte(res.stdout)))

	// stdin holding text; --file; a literal "-" through --file.
	res = kv([]byte("hello\n"), "put", "k", "-")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "hello\n", kv(nil, "get", "k").stdout)
	file := filepath.Join(t.TempDir(), "v")
	require.NoError(t, os.WriteFile(file, []byte("-"), 0o600))
	res = kv(nil, "put", "dash", "--file", file)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "-\n", kv(nil, "get", "dash").stdout)
	res = kv(nil, "put", "k", "v", "--file", file)
	require.Equal(t, exitUsage, res.code, res.stderr)
	res = kv(nil, "put", "k", "--file", filepath.Join(t.TempDir(), "missing"))
	require.Equal(t, exitUsage, res.code, res.stderr)

	// A txn put takes --file too.
	res = kv(nil, "txn", "--then", "put t --file="+file, "--then", "get t")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "SUCCESS\n\nOK\n\nt\n-\n", res.stdout)

	// A missing key: nothing on stdout, exit 3; an empty range is fine.
	res = kv(nil, "get", "nope")
	require.Equal(t, exitNotFound, res.code, res.stderr)
	require.Empty(t, res.stdout)
	res = kv(nil, "get", "nope", "--prefix")
	require.Equal(t, 0, res.code, res.stderr)

	// JSON: numbers as numbers, binary values as base64 with their encoding.
	res = kv(nil, "get", "big", "-o", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var got struct {
		Count int64 `json:"count"`
		Kvs   []struct {
			Key           string `json:"key"`
			Value         string `json:"value"`
			ValueEncoding string `json:"value_encoding"`
			ModRevision   int64  `json:"mod_revision"`
		} `json:"kvs"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &got), res.stdout)
	require.EqualValues(t, 1, got.Count)
	require.Equal(t, "big", got.Kvs[0].Key)
	require.Equal(t, "base64", got.Kvs[0].ValueEncoding)
	require.Equal(t, base64.StdEncoding.EncodeToString(big), got.Kvs[0].Value)
	require.Positive(t, got.Kvs[0].ModRevision)

	// Lease TTLs are durations; plain integers are seconds.
	for _, ttl := range []string{"30s", "30", "1m"} {
		res = kv(nil, "lease", "grant", ttl, "-o", "json")
		require.Equal(t, 0, res.code, res.stderr)
		var lease struct {
			ID  int64 `json:"id"`
			TTL int64 `json:"ttl"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &lease), res.stdout)
		require.Positive(t, lease.ID)
		want := int64(30)
		if ttl == "1m" {
			want = 60
		}
		require.Equal(t, want, lease.TTL)
		res = kv(nil, "put", "leased", "v", "--lease", fmt.Sprintf("0x%x", lease.ID))
		require.Equal(t, 0, res.code, res.stderr)
	}
	res = kv(nil, "lease", "revoke", "12345")
	require.Equal(t, exitNotFound, res.code, "revoking an unknown lease: %s", res.stderr)
}

func TestClientUnavailableExit4(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	for _, args := range [][]string{
		{"kv", "get", "k"},
		{"kv", "put", "k", "v"},
		{"lock", "list"},
	} {
		res := runCLI(t, nil, append(args, "--endpoints", addr, "--timeout", "1s")...)
		require.Equal(t, exitUnavailable, res.code, "%v: %s", args, res.stderr)
	}
	res := runCLI(t, nil, "kv", "get", "k", "--cluster-dir", t.TempDir())
	require.Equal(t, exitUnavailable, res.code, "no cluster to discover: %s", res.stderr)
}
