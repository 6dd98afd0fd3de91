package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/registry"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// registryWait bounds every wait on the in-process raftkv.
const registryWait = 15 * time.Second

// TestPoolFollowsRegistry: a pool whose upstream names a service follows the
// service's registrations in raftkv without a reload (the registry itself
// is tested in node/registry).
func TestPoolFollowsRegistry(t *testing.T) {
	node := raftkvtest.StartNode(t)
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{node.Addr()}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kv.Close() })
	ctx := context.Background()
	res := registry.NewResolver(kv, "", nodetest.Logger(t))

	p, err := New(gwconfig.Upstream{Name: "u", Service: "web"}, Options{Resolver: res, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	defer p.Close()
	<-p.Ready()
	_, _, err = p.Pick("")
	require.ErrorIs(t, err, ErrNoTargets)

	d1, err := registry.Register(ctx, kv, "", "web", "a", "127.0.0.1:9001", 1, 5*time.Second)
	require.NoError(t, err)
	d2, err := registry.Register(ctx, kv, "", "web", "b", "127.0.0.1:9002", 3, 5*time.Second)
	require.NoError(t, err)
	nodetest.WaitFor(t, registryWait, "both instances picked", func() bool {
		seen := map[string]bool{}
		for range 4 {
			tg, err := pickRelease(t, p, KindSuccess)
			if err != nil {
				return false
			}
			seen[tg.Address] = true
		}
		return len(seen) == 2
	})
	weights := map[string]int{}
	for _, ts := range p.Stats().Targets {
		weights[ts.Address] = ts.Weight
	}
	require.Equal(t, map[string]int{"127.0.0.1:9001": 1, "127.0.0.1:9002": 3}, weights, "the registered weights")
	d1()
	d2()
	nodetest.WaitFor(t, registryWait, "no targets", func() bool {
		_, _, err := p.Pick("")
		return err != nil
	})
	_, _, err = p.Pick("")
	require.ErrorIs(t, err, ErrNoTargets)
}
