package purge

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// testTimeout bounds every wait of these tests (a bound for a loaded
// machine, not a guess at how long things take).
const testTimeout = 20 * time.Second

// testPrefix is the key prefix of the tests (not the default, to check it is
// honoured).
const testPrefix = "/test/edge"

// newKV starts a raftkv and returns a client of it; both end with the test.
func newKV(t *testing.T) (addr string, kv *kvclient.Client) {
	t.Helper()
	addr = raftkvtest.Start(t)
	return addr, dial(t, addr)
}

// dial returns a new client of the raftkv at addr, closed when the test ends.
func dial(t *testing.T, addr string) *kvclient.Client {
	t.Helper()
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

// fakeCache records what a subscriber applied; Apply returns removed.
type fakeCache struct {
	removed int64

	mu       sync.Mutex // protects the fields below
	applied  []Record
	applyAll int
}

func (c *fakeCache) Apply(r Record) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = append(c.applied, r)
	return c.removed
}

func (c *fakeCache) ApplyAll() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyAll++
	return 100
}

// seqs returns the Seq of every record applied, in order.
func (c *fakeCache) seqs() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s []int64
	for _, r := range c.applied {
		s = append(s, r.Seq)
	}
	return s
}

func (c *fakeCache) applyAlls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applyAll
}

// edge is one running subscriber with its own raftkv client, so that a
// test can kill it (close the client: no lease revocation) or stop it.
type edge struct {
	t      *testing.T
	node   string
	kv     *kvclient.Client
	sub    *Subscriber
	cache  *fakeCache
	cancel context.CancelFunc
	done   chan error
}

// startEdge runs a subscriber for node with its own client of addr.
func startEdge(t *testing.T, addr, node, stateFile string, ttl time.Duration, cache *fakeCache) *edge {
	t.Helper()
	return startEdgeAt(t, addr, testPrefix, node, stateFile, ttl, cache)
}

// startEdgeAt is startEdge under prefix.
func startEdgeAt(t *testing.T, addr, prefix, node, stateFile string, ttl time.Duration, cache *fakeCache) *edge {
	t.Helper()
	kv := dial(t, addr)
	sub, err := NewSubscriber(SubscriberOptions{
		KV: kv, Prefix: prefix, Node: node, StateFile: stateFile,
		Apply: cache.Apply, ApplyAll: cache.ApplyAll, LeaseTTL: ttl,
		Logger: nodetest.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &edge{t: t, node: node, kv: kv, sub: sub, cache: cache, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- sub.Run(ctx) }()
	t.Cleanup(e.stop)
	waitLive(t, kv, prefix, node)
	return e
}

// stop ends Run gracefully (its lease is revoked) and checks it returned nil.
func (e *edge) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	if err := <-e.done; err != nil {
		e.t.Errorf("%s: Run returned %v", e.node, err)
	}
}

// kill makes the edge vanish without revoking its lease: its client is
// closed first, then Run is stopped.
func (e *edge) kill() {
	_ = e.kv.Close()
	e.cancel()
	e.cancel = nil
	if err := <-e.done; err != nil && !errors.Is(err, kvclient.ErrClosed) {
		e.t.Errorf("%s: Run returned %v", e.node, err)
	}
}

// waitLive waits until node is registered.
func waitLive(t *testing.T, kv *kvclient.Client, prefix, node string) {
	t.Helper()
	l, _ := newLayout(prefix)
	nodetest.WaitFor(t, testTimeout, node+" registered", func() bool {
		resp, err := kv.Get(context.Background(), l.node(node))
		return err == nil && len(resp.GetKvs()) == 1
	})
}

// stateFile returns a state file path in a fresh directory.
func stateFile(t *testing.T) string { return filepath.Join(t.TempDir(), "purge.state") }

func publish(t *testing.T, kv *kvclient.Client, spec Spec) Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rec, err := Publish(ctx, kv, testPrefix, spec, "test")
	if err != nil {
		t.Fatalf("Publish(%v): %v", spec, err)
	}
	return rec
}

// waitAll calls Wait and fails unless it succeeds with exactly want applied.
func waitAll(t *testing.T, kv *kvclient.Client, seq int64, want ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := Wait(ctx, kv, testPrefix, seq)
	if err != nil {
		t.Fatalf("Wait(%d): %v (result %+v)", seq, err, res)
	}
	slices.Sort(want)
	if !slices.Equal(res.Applied, want) || len(res.Pending) != 0 {
		t.Fatalf("Wait(%d) = %+v, want applied %v and none pending", seq, res, want)
	}
	return res
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }
