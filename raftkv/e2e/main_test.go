package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/nodetest"
)

var (
	// cairnBin is the binary built once by TestMain.
	cairnBin string
	seedFlag = flag.Uint64("seed", 0, "random seed for workloads and fault schedules (0 = from the clock)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "cairn-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	build := exec.Command(gobin, "build", "-o", cairnBin, "cairn.dev/cairn/cmd/cairn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// seed returns the run's seed and logs it so that a failure can be replayed with
// -seed.
func seed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed=%d (replay with: go test ./raftkv/e2e -run %s -seed %d)", s, t.Name(), s)
	return s
}

// upCluster starts a real cluster of the given services in dir on a free port
// range and tears it down when the test ends.
func upCluster(t *testing.T, rng *rand.Rand, dir string, services ...string) (*cluster.Cluster, cluster.Options) {
	t.Helper()
	opts := cluster.Options{
		Dir:         dir,
		Binary:      cairnBin,
		Services:    services,
		Logger:      nodetest.Logger(t),
		StopTimeout: 10 * time.Second,
	}
	for attempt := 0; ; attempt++ {
		opts.BasePort = 20000 + rng.IntN(2000)*10
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		c, err := cluster.Up(ctx, opts)
		cancel()
		if errors.Is(err, cluster.ErrPortInUse) && attempt < 20 {
			continue
		}
		require.NoError(t, err)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("node logs are in %s", filepath.Join(dir, "logs"))
			}
			_ = c.Down()
		})
		return c, opts
	}
}

// clientTLS returns the client TLS configuration of c (its nodes run mutual
// TLS, the harness default).
func clientTLS(t *testing.T, c *cluster.Cluster) *tls.Config {
	t.Helper()
	tc, err := c.ClientTLS()
	require.NoError(t, err)
	require.NotNil(t, tc, "the harness runs mutual TLS by default")
	return tc
}
