// Package cachedtest runs cached nodes in-process for the tests of code that
// uses cached (the gateway's global rate limits and response cache, the
// CLI). Import it from _test.go files only.
//
//	addrs := cachedtest.Start(t, 3)  // three nodes on ports from :0, static ring
//	c, _ := client.New(client.Config{Endpoints: addrs})
package cachedtest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/node/nodetest"
)

// Start runs n cached nodes (plaintext, static membership, RESP off) until
// the test ends and returns their gRPC addresses.
func Start(t testing.TB, n int) []string {
	t.Helper()
	srvs := StartServers(t, n)
	addrs := make([]string, n)
	for i, srv := range srvs {
		addrs[i] = srv.Addr()
	}
	return addrs
}

// StartServers is Start returning the servers, for tests that stop a node
// (Close) before the end.
func StartServers(t testing.TB, n int) []*cached.Server {
	t.Helper()
	addrs := make([]string, n)
	lis := make([]net.Listener, n)
	for i := range n {
		// Reserve the ports first so that every node's peers are known.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("cachedtest: %v", err)
		}
		lis[i], addrs[i] = l, l.Addr().String()
	}
	peers := make([]string, n)
	for i := range n {
		peers[i] = fmt.Sprintf("cached-%d=%s", i+1, addrs[i])
	}
	for i := range n {
		_ = lis[i].Close()
	}
	srvs := make([]*cached.Server, n)
	for i := range n {
		srvs[i] = StartNode(t, fmt.Sprintf("cached-%d", i+1), addrs[i], strings.Join(peers, ","))
	}
	return srvs
}

// StartNode runs one cached node with id on addr and static peers until the
// test ends.
func StartNode(t testing.TB, id, addr, peers string) *cached.Server {
	t.Helper()
	cfg := cached.DefaultConfig()
	cfg.ID = id
	cfg.Server.GRPCAddr = addr
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = time.Second
	cfg.RESPAddr = ""
	cfg.Peers = peers
	srv, err := cached.New(cfg, nodetest.Logger(t).With("test_node", id))
	if err != nil {
		t.Fatalf("cachedtest: %v", err)
	}
	nodetest.Serve(t, "cachedtest: cached "+id, srv)
	return srv
}
