// Package lockdtest runs lockd clusters in-process for tests of code that uses
// lockd (the Go client, tools, benchmarks). Import it from _test.go files only.
//
//	c := lockdtest.New(t, 3, nil)      // ports from :0; stopped by t.Cleanup
//	cli, _ := client.New(client.Config{Endpoints: c.Endpoints()})
//	c.Stop(c.WaitLeader())             // fail the leader over
package lockdtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/lockd"
	"cairn.dev/cairn/node/nodetest"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Cluster is a lockd group of in-process members. Member 1 bootstraps alone and
// adds the others as voters, so no port is guessed. Its methods fail the test on
// error and must be called from the test's goroutine.
type Cluster struct {
	t    testing.TB
	dir  string
	tune func(*lockd.Config)

	mu      sync.Mutex // protects members
	members map[string]*Member
}

// Member is one member of a Cluster.
type Member struct {
	ID     string
	Config lockd.Config
	Server *lockd.Server
	cancel context.CancelFunc
	done   chan error
}

// FastConfig returns a member config tuned for tests: loopback ports from :0,
// no admin server, 200ms Raft timeouts, a 100ms minimum session TTL, a 20ms
// expiry tick and no fsync.
func FastConfig(id, dir string) lockd.Config {
	cfg := lockd.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.HeartbeatTimeout = 200 * time.Millisecond
	cfg.ElectionTimeout = 200 * time.Millisecond
	cfg.ApplyTimeout = 3 * time.Second
	cfg.MinSessionTTL = 100 * time.Millisecond
	cfg.ExpiryTick = 20 * time.Millisecond
	cfg.NoSync = true
	return cfg
}

// New starts an n-member cluster; tune, if not nil, adjusts every member's config.
func New(t testing.TB, n int, tune func(*lockd.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir(), tune: tune, members: map[string]*Member{}}
	t.Cleanup(c.stopAll)
	first := c.start("lockd-1", true)
	c.WaitLeader()
	conn := dial(t, first.Server.Addr())
	defer conn.Close()
	for i := 2; i <= n; i++ {
		id := fmt.Sprintf("lockd-%d", i)
		m := c.start(id, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := lockdv1.NewClusterServiceClient(conn).MemberAdd(ctx, &lockdv1.MemberAddRequest{Id: id, Address: m.Server.Addr()})
		cancel()
		if err != nil {
			t.Fatalf("lockdtest: add %s: %v", id, err)
		}
	}
	c.waitFor(15*time.Second, "every member to see the full membership", func() bool {
		for _, m := range c.Live() {
			ms, err := m.Server.Node().Members()
			if err != nil || len(ms) != n {
				return false
			}
		}
		return true
	})
	return c
}

func dial(t testing.TB, addr string) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("lockdtest: dial %s: %v", addr, err)
	}
	return conn
}

func (c *Cluster) start(id string, bootstrap bool) *Member {
	c.t.Helper()
	cfg := FastConfig(id, c.dir)
	if c.tune != nil {
		c.tune(&cfg)
	}
	if bootstrap {
		// The bootstrap peer list needs the real address: bind, learn it, rebind.
		srv, err := lockd.New(cfg, nil)
		if err != nil {
			c.t.Fatalf("lockdtest: %v", err)
		}
		cfg.Server.GRPCAddr = srv.Addr()
		srv.Close()
		cfg.Peers = id + "=" + cfg.Server.GRPCAddr
	}
	return c.run(cfg)
}

func (c *Cluster) run(cfg lockd.Config) *Member {
	c.t.Helper()
	srv, err := lockd.New(cfg, nodetest.Logger(c.t).With("test_member", cfg.ID))
	if err != nil {
		c.t.Fatalf("lockdtest: start %s: %v", cfg.ID, err)
	}
	cfg.Server.GRPCAddr = srv.Addr() // a restart keeps the address
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{ID: cfg.ID, Config: cfg, Server: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- srv.Serve(ctx) }()
	select {
	case <-srv.ReadyNotify():
	case err := <-m.done:
		c.t.Fatalf("lockdtest: member %s stopped at start: %v", cfg.ID, err)
	}
	c.mu.Lock()
	c.members[cfg.ID] = m
	c.mu.Unlock()
	return m
}

// Endpoints returns the gRPC addresses of every member, live or not, in id order.
func (c *Cluster) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, id := range c.idsLocked() {
		out = append(out, c.members[id].Config.Server.GRPCAddr)
	}
	return out
}

func (c *Cluster) idsLocked() []string {
	ids := make([]string, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Member returns member id.
func (c *Cluster) Member(id string) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id]
}

// Live returns the running members in id order.
func (c *Cluster) Live() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Member
	for _, id := range c.idsLocked() {
		if m := c.members[id]; m.cancel != nil {
			out = append(out, m)
		}
	}
	return out
}

// Stop stops member id gracefully and waits for it.
func (c *Cluster) Stop(id string) {
	c.t.Helper()
	m := c.Member(id)
	if m == nil || m.cancel == nil {
		return
	}
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		c.t.Fatalf("lockdtest: member %s did not stop", id)
	}
	c.mu.Lock()
	m.cancel = nil
	c.mu.Unlock()
}

// Restart starts a stopped member again from its data dir, on its address.
func (c *Cluster) Restart(id string) *Member {
	c.t.Helper()
	return c.run(c.Member(id).Config)
}

func (c *Cluster) stopAll() {
	c.mu.Lock()
	ids := c.idsLocked()
	c.mu.Unlock()
	for _, id := range ids {
		c.Stop(id)
	}
}

// WaitLeader waits until every live member names the same live leader, other than
// exclude, and returns its id.
func (c *Cluster) WaitLeader(exclude ...string) string {
	c.t.Helper()
	var leader string
	c.waitFor(15*time.Second, "a leader all live members agree on", func() bool {
		leader = ""
		for _, m := range c.Live() {
			id, _ := m.Server.Node().Leader()
			if id == "" || (leader != "" && id != leader) {
				return false
			}
			leader = id
		}
		for _, x := range exclude {
			if leader == x {
				return false
			}
		}
		lm := c.Member(leader)
		return lm != nil && lm.cancel != nil && lm.Server.Node().IsLeader()
	})
	return leader
}

// waitFor polls cond every 10ms until it holds, failing the test after timeout.
func (c *Cluster) waitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("lockdtest: timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
