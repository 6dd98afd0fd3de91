package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
)

// tlsClusterDir writes a cluster directory whose state file records the
// client certificate of a fresh CA (also issuing node "cached-1"), with nodes.
func tlsClusterDir(t *testing.T, nodes ...cluster.NodeState) string {
	t.Helper()
	dir := t.TempDir()
	tdir := filepath.Join(dir, cluster.TLSDirName)
	require.NoError(t, pki.Ensure(tdir, []string{"cached-1"}))
	cert, key := pki.ClientFiles(tdir)
	st := &cluster.State{Dir: dir, Nodes: nodes, TLS: &cluster.TLSState{CAFile: pki.CAFile(tdir), CertFile: cert, KeyFile: key}}
	require.NoError(t, st.Save())
	return dir
}

func TestClientTLSConfig(t *testing.T) {
	t.Setenv(cluster.EnvDir, "")
	for _, env := range []string{envTLSCA, envTLSCert, envTLSKey} {
		t.Setenv(env, "")
	}
	none := t.TempDir()
	tc, err := (&clientTLSFlags{}).config(none)
	require.NoError(t, err)
	require.Nil(t, tc, "no cluster, no flags: plaintext")

	plain := t.TempDir()
	require.NoError(t, (&cluster.State{Dir: plain}).Save())
	tc, err = (&clientTLSFlags{}).config(plain)
	require.NoError(t, err)
	require.Nil(t, tc, "an --insecure cluster: plaintext")

	dir := tlsClusterDir(t)
	tc, err = (&clientTLSFlags{}).config(dir)
	require.NoError(t, err)
	require.NotNil(t, tc)
	require.Len(t, tc.Certificates, 1, "the cluster's client certificate")
	require.NotNil(t, tc.RootCAs)

	t.Setenv(cluster.EnvDir, dir)
	tc, err = (&clientTLSFlags{}).config("")
	require.NoError(t, err)
	require.NotNil(t, tc, "found through $"+cluster.EnvDir)
	t.Setenv(cluster.EnvDir, "")

	tc, err = (&clientTLSFlags{insecure: true}).config(dir)
	require.NoError(t, err)
	require.Nil(t, tc, "--insecure wins over the cluster")
	_, err = (&clientTLSFlags{insecure: true, ca: "ca.pem"}).config(dir)
	require.ErrorContains(t, err, "--insecure cannot be combined")

	tdir := filepath.Join(dir, cluster.TLSDirName)
	cert, key := pki.ClientFiles(tdir)
	tc, err = (&clientTLSFlags{ca: pki.CAFile(tdir), cert: cert, key: key}).config(none)
	require.NoError(t, err)
	require.Len(t, tc.Certificates, 1, "explicit flags, no cluster")

	t.Setenv(envTLSCA, pki.CAFile(tdir))
	t.Setenv(envTLSCert, cert)
	t.Setenv(envTLSKey, key)
	tc, err = (&clientTLSFlags{}).config(none)
	require.NoError(t, err)
	require.Len(t, tc.Certificates, 1, "from $CAIRN_TLS_*")
	tc, err = (&clientTLSFlags{}).configFor(false, none)
	require.NoError(t, err)
	require.Nil(t, tc, "etcd or Redis targets take only explicit flags")

	_, err = (&clientTLSFlags{ca: filepath.Join(none, "missing.pem")}).config(none)
	require.ErrorContains(t, err, "--tls-ca")
}

func TestClusterEnv(t *testing.T) {
	nodes := []cluster.NodeState{
		{Name: "raftkv-1", Service: "raftkv", GRPCAddr: "127.0.0.1:7000"},
		{Name: "raftkv-2", Service: "raftkv", GRPCAddr: "127.0.0.1:7002"},
		{Name: "cached-1", Service: "cached", GRPCAddr: "127.0.0.1:7200", Ports: map[string]string{"resp": "127.0.0.1:7220"}},
	}
	var b bytes.Buffer
	st := &cluster.State{Dir: "/c/it's", Nodes: nodes, TLS: &cluster.TLSState{CAFile: "/c/tls/ca.pem", CertFile: "/c/tls/client.pem", KeyFile: "/c/tls/client-key.pem"}}
	require.NoError(t, writeClusterEnv(&b, st))
	require.Equal(t, `# cairn cluster in /c/it's, mutual TLS; load with: eval "$(cairn cluster env)"
export CAIRN_CLUSTER_DIR='/c/it'\''s'
export CAIRN_TLS_CA='/c/tls/ca.pem'
export CAIRN_TLS_CERT='/c/tls/client.pem'
export CAIRN_TLS_KEY='/c/tls/client-key.pem'
export CAIRN_ENDPOINTS_RAFTKV='127.0.0.1:7000,127.0.0.1:7002'
export CAIRN_ENDPOINTS_CACHED='127.0.0.1:7200'
export CAIRN_RESP_CACHED='127.0.0.1:7220'
`, b.String())

	b.Reset()
	st.TLS = nil
	require.NoError(t, writeClusterEnv(&b, st))
	require.Contains(t, b.String(), "plaintext (--insecure)")
	require.Contains(t, b.String(), "unset CAIRN_TLS_CA CAIRN_TLS_CERT CAIRN_TLS_KEY\n")
	require.NotContains(t, b.String(), "AWS_", "no queued, no SQS exports")
}

func TestClusterEnvSQS(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, cluster.SQSCredentialsFileName)
	require.NoError(t, os.WriteFile(creds, []byte("AKCATEST secret/x+y= cluster\n"), 0o600))
	st := &cluster.State{Dir: dir,
		Nodes: []cluster.NodeState{{Name: "queued-1", Service: "queued", GRPCAddr: "127.0.0.1:7300", Ports: map[string]string{"sqs": "127.0.0.1:7320"}}},
		TLS:   &cluster.TLSState{CAFile: "/c/tls/ca.pem", CertFile: "/c/tls/client.pem", KeyFile: "/c/tls/client-key.pem"},
		SQS:   &cluster.SQSState{CredentialsFile: creds, Region: "us-east-1"}}
	var b bytes.Buffer
	require.NoError(t, writeClusterEnv(&b, st))
	for _, line := range []string{
		"export CAIRN_SQS_QUEUED='127.0.0.1:7320'\n",
		"export AWS_ACCESS_KEY_ID='AKCATEST'\n",
		"export AWS_SECRET_ACCESS_KEY='secret/x+y='\n",
		"export AWS_DEFAULT_REGION='us-east-1'\n",
		"export AWS_CA_BUNDLE='/c/tls/ca.pem'\n",
	} {
		require.Contains(t, b.String(), line)
	}
	b.Reset()
	st.TLS = nil
	require.NoError(t, writeClusterEnv(&b, st))
	require.Contains(t, b.String(), "unset AWS_CA_BUNDLE CURL_CA_BUNDLE\n")
}

// TestClusterEnvS3: a cluster with blobd exports its S3 endpoint, the
// cluster access key and the CA for awscli and curl.
func TestClusterEnvS3(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, cluster.AccessKeyFileName)
	require.NoError(t, os.WriteFile(creds, []byte("AKCATEST secret cluster\n"), 0o600))
	st := &cluster.State{Dir: dir,
		Nodes: []cluster.NodeState{
			{Name: "blobd-1", Service: "blobd", GRPCAddr: "127.0.0.1:7500", Ports: map[string]string{"s3": "127.0.0.1:7520"}},
			{Name: "blobd-2", Service: "blobd", GRPCAddr: "127.0.0.1:7502", Ports: map[string]string{"s3": "127.0.0.1:7521"}},
		},
		TLS:       &cluster.TLSState{CAFile: "/c/tls/ca.pem", CertFile: "/c/tls/client.pem", KeyFile: "/c/tls/client-key.pem"},
		AccessKey: &cluster.AccessKeyState{CredentialsFile: creds, Region: "us-east-1"}}
	var b bytes.Buffer
	require.NoError(t, writeClusterEnv(&b, st))
	for _, line := range []string{
		"export CAIRN_S3_BLOBD='127.0.0.1:7520,127.0.0.1:7521'\n",
		"export CAIRN_S3_ENDPOINT='https://127.0.0.1:7520'\n",
		"export AWS_ACCESS_KEY_ID='AKCATEST'\n",
		"export AWS_CA_BUNDLE='/c/tls/ca.pem'\n",
		"export CURL_CA_BUNDLE='/c/tls/ca.pem'\n",
	} {
		require.Contains(t, b.String(), line)
	}
	b.Reset()
	st.TLS = nil
	require.NoError(t, writeClusterEnv(&b, st))
	require.Contains(t, b.String(), "export CAIRN_S3_ENDPOINT='http://127.0.0.1:7520'\n")
}

func TestDaemonRequiresTLSOrInsecure(t *testing.T) {
	cmd := newCachedCmd()
	cmd.SetArgs([]string{"--id", "cached-1", "--grpc-addr", "127.0.0.1:0", "--admin-addr", ""})
	err := cmd.Execute()
	require.ErrorContains(t, err, "--insecure")
	require.ErrorContains(t, err, "--tls-cert")
}

// TestClientFindsClusterTLSWithExplicitEndpoints runs a cached node with
// mutual TLS and reaches it by --endpoints: the client certificate comes from
// the cluster directory; without it (--insecure) the call fails.
func TestClientFindsClusterTLSWithExplicitEndpoints(t *testing.T) {
	dir := tlsClusterDir(t)
	tdir := filepath.Join(dir, cluster.TLSDirName)
	cfg := cached.DefaultConfig()
	cfg.ID = "cached-1"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = time.Second
	cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile = pki.NodeFiles(tdir, "cached-1")
	cfg.Server.TLS.CAFile = pki.CAFile(tdir)
	srv, err := cached.New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	<-srv.ReadyNotify()

	r := runCache(t, srv.Addr(), "--cluster-dir", dir, "set", "k", "v")
	require.NoError(t, r.err, r.stderr)
	r = runCache(t, srv.Addr(), "--cluster-dir", dir, "get", "k")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, "v\n", r.stdout)
	r = runCache(t, srv.Addr(), "--cluster-dir", dir, "--insecure", "--timeout", "2s", "get", "k")
	require.Error(t, r.err, "plaintext to a TLS node")
}
