// Package rafttest runs in-process groups of any Raft daemon built on
// node/raftnode (raftkv, lockd, and those to come) for tests. Import it from
// _test.go files and from a daemon's own test package (lockd/lockdtest).
//
//	c := rafttest.New(t, 3, rafttest.Spec[lockd.Config, *lockd.Server]{...})
//	leader := c.WaitLeader()
//	c.Stop(leader)                  // graceful; Restart(id) brings it back
//	c.Member(id).Server.Node()      // the raftnode.Node inside
//
// Member 1 bootstraps a group of itself; the others start empty and are added
// as voters through cairn.cluster.v1.MembershipService, so no port is guessed.
// Ports come from :0 and everything stops in t.Cleanup.
package rafttest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/raftnode"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
)

// Daemon is what a Cluster needs of a Raft daemon's server. Serve runs until
// its context ends; ReadyNotify is closed once it serves.
type Daemon interface {
	Serve(ctx context.Context) error
	Close()
	Addr() string
	ReadyNotify() <-chan struct{}
	Node() *raftnode.Node
}

// Spec tells a Cluster how to configure and build one kind of daemon.
type Spec[C any, S Daemon] struct {
	// Name prefixes member ids: "lockd" gives lockd-1, lockd-2, ...
	Name string
	// Config returns the config of member id with its data under dir, tuned
	// for tests (gRPC on 127.0.0.1:0, short timeouts, no fsync).
	Config func(id, dir string) C
	// SetAddr sets the member's gRPC listen address (a restart keeps it).
	SetAddr func(cfg *C, addr string)
	// SetPeers sets the bootstrap peer list ("id=host:port,...").
	SetPeers func(cfg *C, peers string)
	// New builds the daemon (binding its listeners) without serving.
	New func(cfg C, logger *slog.Logger) (S, error)
	// LeaderReady, if set, must also hold of the leader WaitLeader returns:
	// for daemons whose leader-only work starts on a leadership callback
	// (lockd's session tracker), so tests start once it has.
	LeaderReady func(S) bool
}

// Cluster is a group of in-process members. Its methods fail the test on error
// and must be called from the test's goroutine.
type Cluster[C any, S Daemon] struct {
	t    testing.TB
	dir  string
	spec Spec[C, S]
	tune func(*C)

	mu      sync.Mutex // protects members
	members map[string]*Member[C, S]
}

// Member is one member of a Cluster.
type Member[C any, S Daemon] struct {
	ID     string
	Config C
	Server S
	// Conn is a plaintext client connection to the member, open while it runs.
	Conn *grpc.ClientConn

	cancel context.CancelFunc // nil when stopped
	done   chan error
}

// Running reports whether the member is serving (not stopped).
func (m *Member[C, S]) Running() bool { return m.cancel != nil }

// StopTimeout bounds how long Stop waits for a member's Serve to return.
const StopTimeout = 30 * time.Second

// New starts an n-member cluster; tune, if not nil, adjusts every member's
// config after spec.Config. tune runs once per member, before the member first
// starts (not on Restart), so a test may also seed the member's data directory
// there, such as restoring a backup into it.
func New[C any, S Daemon](t testing.TB, n int, spec Spec[C, S], tune func(*C)) *Cluster[C, S] {
	t.Helper()
	c := &Cluster[C, S]{t: t, dir: t.TempDir(), spec: spec, tune: tune, members: map[string]*Member[C, S]{}}
	t.Cleanup(c.stopAll)
	first := c.start(c.id(1), true)
	c.WaitLeader()
	for i := 2; i <= n; i++ {
		c.Add(first, c.id(i))
	}
	c.WaitMembers(n)
	return c
}

func (c *Cluster[C, S]) id(i int) string { return fmt.Sprintf("%s-%d", c.spec.Name, i) }

// Add starts a new empty member id and adds it as a voter through via.
func (c *Cluster[C, S]) Add(via *Member[C, S], id string) *Member[C, S] {
	c.t.Helper()
	m := c.Start(id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := clusterv1.NewMembershipServiceClient(via.Conn).MemberAdd(ctx, &clusterv1.MemberAddRequest{Id: id, Address: m.Server.Addr()})
	if err != nil {
		c.t.Fatalf("rafttest: add %s: %v", id, err)
	}
	return m
}

// WaitMembers waits until every running member's configuration has n members.
func (c *Cluster[C, S]) WaitMembers(n int) {
	c.t.Helper()
	nodetest.WaitFor(c.t, 15*time.Second, fmt.Sprintf("every member to see %d members", n), func() bool {
		for _, m := range c.Live() {
			ms, err := m.Server.Node().Members()
			if err != nil || len(ms) != n {
				return false
			}
		}
		return true
	})
}

// Start starts a new empty member id without adding it to the group: the
// test adds it itself (as a learner, say) through MembershipService or the
// daemon's own API, or leaves it out on purpose.
func (c *Cluster[C, S]) Start(id string) *Member[C, S] {
	c.t.Helper()
	return c.start(id, false)
}

func (c *Cluster[C, S]) start(id string, bootstrap bool) *Member[C, S] {
	c.t.Helper()
	cfg := c.spec.Config(id, c.dir)
	if c.tune != nil {
		c.tune(&cfg)
	}
	if bootstrap {
		// The bootstrap peer list needs the real address: bind, learn it, rebind.
		srv, err := c.spec.New(cfg, nil)
		if err != nil {
			c.t.Fatalf("rafttest: %s: %v", id, err)
		}
		addr := srv.Addr()
		srv.Close()
		c.spec.SetAddr(&cfg, addr)
		c.spec.SetPeers(&cfg, id+"="+addr)
	}
	return c.run(cfg, id)
}

func (c *Cluster[C, S]) run(cfg C, id string) *Member[C, S] {
	c.t.Helper()
	srv, err := c.spec.New(cfg, nodetest.Logger(c.t).With("test_member", id))
	if err != nil {
		c.t.Fatalf("rafttest: start %s: %v", id, err)
	}
	c.spec.SetAddr(&cfg, srv.Addr()) // a restart keeps the address
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member[C, S]{ID: id, Config: cfg, Server: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- srv.Serve(ctx) }()
	select {
	case <-srv.ReadyNotify():
	case err := <-m.done:
		c.t.Fatalf("rafttest: member %s stopped at start: %v", id, err)
	}
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		c.t.Fatalf("rafttest: dial %s: %v", id, err)
	}
	m.Conn = conn
	c.mu.Lock()
	c.members[id] = m
	c.mu.Unlock()
	return m
}

// Endpoints returns the gRPC addresses of every member, running or not, in id
// order.
func (c *Cluster[C, S]) Endpoints() []string {
	var out []string
	for _, m := range c.All() {
		out = append(out, m.Server.Addr())
	}
	return out
}

// All returns every member, running or not, in id order.
func (c *Cluster[C, S]) All() []*Member[C, S] {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*Member[C, S], len(ids))
	for i, id := range ids {
		out[i] = c.members[id]
	}
	return out
}

// Member returns member id, or nil.
func (c *Cluster[C, S]) Member(id string) *Member[C, S] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id]
}

// Live returns the running members in id order.
func (c *Cluster[C, S]) Live() []*Member[C, S] {
	var out []*Member[C, S]
	for _, m := range c.All() {
		c.mu.Lock()
		running := m.Running()
		c.mu.Unlock()
		if running {
			out = append(out, m)
		}
	}
	return out
}

// Stop stops member id gracefully and waits for its Serve to return.
func (c *Cluster[C, S]) Stop(id string) {
	c.t.Helper()
	m := c.Member(id)
	c.mu.Lock()
	cancel := m.cancel
	m.cancel = nil
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-m.done:
	case <-time.After(StopTimeout):
		// The goroutines say what the stop is waiting for.
		var stacks bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		c.t.Fatalf("rafttest: member %s did not stop within %v; goroutines:\n%s", id, StopTimeout, stacks.String())
	}
	m.Conn.Close()
}

// Restart starts a stopped member again from its data dir, on its address.
func (c *Cluster[C, S]) Restart(id string) *Member[C, S] {
	c.t.Helper()
	return c.run(c.Member(id).Config, id)
}

func (c *Cluster[C, S]) stopAll() {
	for _, m := range c.All() {
		c.Stop(m.ID)
	}
}

// WaitLeader waits until every running member names the same running leader,
// other than exclude, and returns its id.
func (c *Cluster[C, S]) WaitLeader(exclude ...string) string {
	c.t.Helper()
	var leader string
	nodetest.WaitFor(c.t, 15*time.Second, "a leader all live members agree on", func() bool {
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
		return lm != nil && lm.Running() && lm.Server.Node().IsLeader() &&
			(c.spec.LeaderReady == nil || c.spec.LeaderReady(lm.Server))
	})
	return leader
}

// Follower waits for a leader and returns a running member that is not it.
func (c *Cluster[C, S]) Follower() *Member[C, S] {
	c.t.Helper()
	leader := c.WaitLeader()
	for _, m := range c.Live() {
		if m.ID != leader {
			return m
		}
	}
	c.t.Fatalf("rafttest: no follower of %s is running", leader)
	return nil
}

// Leader returns the member WaitLeader agrees on.
func (c *Cluster[C, S]) Leader(exclude ...string) *Member[C, S] {
	c.t.Helper()
	return c.Member(c.WaitLeader(exclude...))
}
