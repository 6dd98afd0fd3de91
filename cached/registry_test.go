package cached

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// startRaftKV runs a one-member raftkv group in-process and returns its
// address.
func startRaftKV(t *testing.T) string { return raftkvtest.Start(t) }

func ringIDs(s *Server) []string {
	v := s.currentView()
	if v == nil {
		return nil
	}
	var ids []string
	for _, m := range v.ring.Members() {
		ids = append(ids, m.ID)
	}
	return ids
}

// Nodes find each other through the registry: a crashed node leaves every
// ring within its lease TTL, a stopped one at once, a new one joins.
func TestRegistryMembership(t *testing.T) {
	kv := startRaftKV(t)
	// Live nodes keep their leases alive every third of the TTL: 2s leaves a
	// loaded machine room between keep-alives. The waits below are bounds for a
	// loaded machine, not expectations.
	const ttl = 2 * time.Second
	prefix := "/test/cached/members/"
	tune := func(cfg *Config) {
		cfg.Registry = kv
		cfg.RegistryTTL = ttl
		cfg.RegistryPrefix = prefix
	}
	c := &testCluster{t: t}
	t.Cleanup(c.stopAll)
	add := func(id string, crash bool) *testNode {
		cfg := testConfig(id)
		tune(&cfg)
		cfg.crashOnStop = crash
		srv, err := New(cfg, nodetest.Logger(t).With("test_node", id))
		require.NoError(t, err)
		nd := &testNode{id: id, srv: srv}
		c.nodes = append(c.nodes, nd)
		c.serve(nd)
		return nd
	}
	add("cached-1", false)
	add("cached-2", true)
	add("cached-3", false)
	all := []string{"cached-1", "cached-2", "cached-3"}
	for _, nd := range c.nodes {
		nodetest.WaitFor(t, 30*time.Second, nd.id+" sees 3 members", func() bool { return slices.Equal(ringIDs(nd.srv), all) })
	}
	// Forwarding works over the registry's addresses.
	key := c.keyOwnedBy(2, "reg-")
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "OK", rc.do("SET", key, "v"))
	require.Equal(t, `"v"`, dialRESP(t, c.nodes[1].srv.RESPAddr()).do("GET", key))
	epoch := c.nodes[0].srv.currentView().epoch

	// cached-2 crashes: it does not revoke its lease, which expires.
	start := time.Now()
	c.stop(1)
	for _, i := range []int{0, 2} {
		nodetest.WaitFor(t, ttl+20*time.Second, "cached-2 leaves", func() bool {
			return slices.Equal(ringIDs(c.nodes[i].srv), []string{"cached-1", "cached-3"})
		})
	}
	t.Logf("crashed node left after %v (ttl %v)", time.Since(start), ttl)
	require.Greater(t, c.nodes[0].srv.currentView().epoch, epoch)
	require.Equal(t, c.nodes[0].srv.currentView().epoch, c.nodes[2].srv.currentView().epoch, "epochs are raftkv revisions")

	// A new node joins without restarts.
	add("cached-4", false)
	want := []string{"cached-1", "cached-3", "cached-4"}
	for _, i := range []int{0, 2, 3} {
		nodetest.WaitFor(t, 30*time.Second, c.nodes[i].id+" sees cached-4", func() bool { return slices.Equal(ringIDs(c.nodes[i].srv), want) })
	}

	// cached-3 stops gracefully and revokes its lease: it leaves well within the TTL.
	start = time.Now()
	c.stop(2)
	for _, i := range []int{0, 3} {
		nodetest.WaitFor(t, 30*time.Second, "cached-3 leaves", func() bool {
			return slices.Equal(ringIDs(c.nodes[i].srv), []string{"cached-1", "cached-4"})
		})
	}
	t.Logf("stopped node left after %v", time.Since(start))
}
