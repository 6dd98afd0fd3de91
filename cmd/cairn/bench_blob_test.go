package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/bench/blobbench"
	"cairn.dev/cairn/cluster"
)

func TestBenchBlobCmdRejectsBadFlags(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "id")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv(cluster.EnvDir, t.TempDir())
	for _, args := range [][]string{
		{"blob", "extra", "--endpoints", "http://x:1"},
		{"blob", "--endpoints", "http://x:1", "--output", "yaml"},
		{"blob", "--endpoints", "http://x:1", "--sizes", "4KiB,1T"},
		{"blob", "--endpoints", "http://x:1", "--ops", "put,list"},
		{"blob", "--endpoints", "http://x:1", "--clients", "0"},
		{"blob", "--endpoints", "x:1"},
		{"blob", "--endpoints", "http://x:1", "--bucket", "No_Such"},
		{"blob", "--endpoints", "http://x:1", "--ca-file", "/nonexistent/ca.pem"},
		{"blob"}, // no cluster, no endpoints
		{"blob", "--target", "swift", "--endpoints", "http://x:1"},
		{"blob", "--target", "grpc"},
		{"blob", "--endpoints", "http://x:1", "--insecure"},
		{"blob", "--target", "grpc", "--endpoints", "http://x:1"},
	} {
		cmd := newBenchCmd()
		cmd.SetArgs(args)
		cmd.SetOut(new(strings.Builder))
		cmd.SetErr(new(strings.Builder))
		cmd.SilenceUsage = true
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestBlobTargetFromCluster(t *testing.T) {
	// The cluster's own endpoint goes with the cluster's key, region and
	// CA, whatever the AWS_* environment says.
	t.Setenv("AWS_ACCESS_KEY_ID", "envkey")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	t.Setenv("AWS_DEFAULT_REGION", "env-region")
	t.Setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	require.NoError(t, os.WriteFile(creds, []byte("AKCATEST secretsecret cluster\n"), 0o600))
	st := &cluster.State{Dir: dir, AccessKey: &cluster.AccessKeyState{CredentialsFile: creds, Region: "eu-west-3"}, Nodes: []cluster.NodeState{
		{Name: "blobd-1", Service: "blobd", PID: 0, Ports: map[string]string{"s3": "127.0.0.1:17620"}},
		{Name: "raftkv-1", Service: "raftkv", PID: 10},
		{Name: "blobd-2", Service: "blobd", PID: 11, Ports: map[string]string{"s3": "127.0.0.1:17621"}},
	}}
	require.NoError(t, st.Save())

	cfg := blobbench.DefaultConfig()
	cfg.Region = "" // as the --region flag leaves it
	require.NoError(t, blobTarget(&cfg, nil, "", dir))
	require.Equal(t, []string{"http://127.0.0.1:17621"}, cfg.Endpoints, "the first running blobd node, plaintext")
	require.Equal(t, "AKCATEST", cfg.AccessKey)
	require.Equal(t, "secretsecret", cfg.SecretKey)
	require.Equal(t, "eu-west-3", cfg.Region)
	require.Nil(t, cfg.TLS)

	// Explicit endpoints take the environment's key and region, and its CA
	// file (here a missing one).
	cfg = blobbench.DefaultConfig()
	cfg.Region = ""
	require.ErrorContains(t, blobTarget(&cfg, []string{"https://127.0.0.1:8333"}, "", dir), "/nonexistent/ca.pem")
	require.Equal(t, "envkey", cfg.AccessKey)
	require.Equal(t, "envsecret", cfg.SecretKey)
	require.Equal(t, "env-region", cfg.Region)

	// Explicit endpoints and credentials need no cluster.
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	cfg = blobbench.DefaultConfig()
	cfg.Region = ""
	cfg.AccessKey, cfg.SecretKey = "a", "b"
	require.NoError(t, blobTarget(&cfg, []string{"http://127.0.0.1:8333"}, "", t.TempDir()))
	require.Equal(t, "us-east-1", cfg.Region)
	require.Equal(t, "a", cfg.AccessKey)

	// A cluster without blobd.
	st.Nodes = st.Nodes[1:2]
	require.NoError(t, st.Save())
	cfg = blobbench.DefaultConfig()
	require.ErrorContains(t, blobTarget(&cfg, nil, "", dir), "no running blobd node")
}
