package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/pki"
)

// healthOf checks node addr's health with cfg, within a short deadline.
func healthOf(t *testing.T, addr string, cfg node.DialConfig) error {
	t.Helper()
	conn, err := node.Dial(addr, cfg)
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestUpRunsMutualTLSAndKeepsTheCA(t *testing.T) {
	opts := fakeOptions(t, 2)
	c := upFake(t, opts)
	tdir := filepath.Join(opts.Dir, TLSDirName)

	st := c.State()
	require.NotNil(t, st.TLS)
	require.Equal(t, pki.CAFile(tdir), st.TLS.CAFile)
	for _, n := range st.Nodes {
		cert, key := pki.NodeFiles(tdir, n.Name)
		require.FileExists(t, cert)
		require.FileExists(t, key)
	}
	addr := st.Nodes[0].GRPCAddr

	// The recorded client certificate works; no client certificate, or no
	// TLS at all, does not.
	require.NoError(t, healthOf(t, addr, node.DialConfig{TLS: st.TLS.Files()}))
	require.Error(t, healthOf(t, addr, node.DialConfig{TLS: node.TLSFiles{CAFile: st.TLS.CAFile}}))
	require.Error(t, healthOf(t, addr, node.DialConfig{}))
	tc, err := c.ClientTLS()
	require.NoError(t, err)
	require.NotNil(t, tc)

	// A restart on the same directory reuses the CA.
	ca, err := os.ReadFile(st.TLS.CAFile)
	require.NoError(t, err)
	require.NoError(t, c.Down())
	opts.Clean = true
	c = upFake(t, opts)
	again, err := os.ReadFile(st.TLS.CAFile)
	require.NoError(t, err)
	require.Equal(t, ca, again)
	require.NoError(t, c.Down())
}

func TestUpInsecureRunsPlaintext(t *testing.T) {
	opts := fakeOptions(t, 1)
	opts.Insecure = true
	c := upFake(t, opts)
	st := c.State()
	require.Nil(t, st.TLS)
	tc, err := st.ClientTLS()
	require.NoError(t, err)
	require.Nil(t, tc)
	require.NoError(t, healthOf(t, st.Nodes[0].GRPCAddr, node.DialConfig{}))
	require.NoDirExists(t, filepath.Join(opts.Dir, TLSDirName))
	require.NoError(t, c.Down())
}
