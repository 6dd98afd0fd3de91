package ha

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lockdclient "cairn.dev/cairn/lockd/client"
	"cairn.dev/cairn/lockd/lockdtest"
	"cairn.dev/cairn/node/nodetest"
)

// node is one elector under test: active reports whether its Active runs.
type node struct {
	e      *Elector
	client *lockdclient.Client
	active atomic.Bool
	stop   context.CancelFunc
	done   chan struct{}
}

func startNode(t *testing.T, endpoints []string, name string, ttl time.Duration, overlap *atomic.Int32) *node {
	t.Helper()
	return startNodeAt(t, endpoints, name, "", ttl, overlap)
}

func startNodeAt(t *testing.T, endpoints []string, name, addr string, ttl time.Duration, overlap *atomic.Int32) *node {
	t.Helper()
	c, err := lockdclient.New(lockdclient.Config{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{done: make(chan struct{}), client: c}
	n.e = New(Config{Client: c, Election: "lb", Node: name, Addr: addr, TTL: ttl, Logger: nodetest.Logger(t).With("elector", name),
		Active: func(ctx context.Context) {
			if overlap.Add(1) > 1 {
				t.Errorf("%s became active while another node was", name)
			}
			n.active.Store(true)
			<-ctx.Done()
			n.active.Store(false)
			overlap.Add(-1)
		}})
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	go func() {
		defer close(n.done)
		_ = n.e.Run(ctx)
		_ = c.Close()
	}()
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { cancel(); <-n.done }) })
	return n
}

func TestOneActiveAndTakeoverOnStop(t *testing.T) {
	cl := lockdtest.New(t, 3, nil)
	var overlap atomic.Int32
	a := startNode(t, cl.Endpoints(), "a", time.Second, &overlap)
	b := startNode(t, cl.Endpoints(), "b", time.Second, &overlap)
	var first, second *node
	nodetest.WaitFor(t, 20*time.Second, "one active node", func() bool {
		switch {
		case a.active.Load():
			first, second = a, b
		case b.active.Load():
			first, second = b, a
		}
		return first != nil
	})
	if second.e.Role() != "standby" || first.e.Role() != "active" {
		t.Fatalf("roles: %s / %s", first.e.Role(), second.e.Role())
	}
	nodetest.WaitFor(t, 10*time.Second, "the standby knows the leader", func() bool {
		l, _ := second.e.Leader()
		fl, _ := first.e.Leader()
		return l != "" && l == fl
	})
	start := time.Now()
	first.stop() // a graceful stop resigns: the standby takes over at once
	<-first.done
	nodetest.WaitFor(t, 10*time.Second, "the standby takes over", second.active.Load)
	t.Logf("takeover after a graceful stop: %v", time.Since(start))
}

func TestTakeoverAfterTheActiveNodeLosesLockd(t *testing.T) {
	cl := lockdtest.New(t, 3, nil)
	var overlap atomic.Int32
	const ttl = time.Second
	a := startNode(t, cl.Endpoints(), "a", ttl, &overlap)
	nodetest.WaitFor(t, 20*time.Second, "a active", a.active.Load)
	b := startNode(t, cl.Endpoints(), "b", ttl, &overlap)
	// a's client closes without resigning, as if the process died: its
	// session expires in lockd after the TTL and b is elected.
	start := time.Now()
	_ = a.client.Close()
	nodetest.WaitFor(t, 10*time.Second, "a steps down", func() bool { return !a.active.Load() })
	nodetest.WaitFor(t, 20*time.Second, "b takes over", b.active.Load)
	took := time.Since(start)
	t.Logf("takeover after losing the active node's session: %v (TTL %v)", took, ttl)
	if took < ttl/2 {
		t.Fatalf("b took over after %v, before a's session could have expired", took)
	}
}

func TestTakeoverWhenTheActiveNodesAddressRefuses(t *testing.T) {
	cl := lockdtest.New(t, 3, nil)
	var overlap atomic.Int32
	// a "process": an address that accepts connections while a lives.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	const ttl = 10 * time.Second // long: the takeover must not wait for it
	a := startNodeAt(t, cl.Endpoints(), "a", ln.Addr().String(), ttl, &overlap)
	nodetest.WaitFor(t, 20*time.Second, "a active", a.active.Load)
	b := startNodeAt(t, cl.Endpoints(), "b", "", ttl, &overlap)
	nodetest.WaitFor(t, 10*time.Second, "b sees a lead", func() bool { l, _ := b.e.Leader(); return l == "a" })
	// a's process dies: its address refuses and its session is not closed.
	start := time.Now()
	_ = a.client.Close()
	ln.Close()
	nodetest.WaitFor(t, 20*time.Second, "b takes over", b.active.Load)
	took := time.Since(start)
	t.Logf("takeover after the active node's address refused: %v (session TTL %v)", took, ttl)
	if took > ttl/2 {
		t.Fatalf("takeover took %v: it waited for the session TTL", took)
	}
}
