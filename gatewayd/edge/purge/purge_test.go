package purge

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// Three edges: a publish is applied by each, once, and Wait reports all of
// them and the sum of what they removed.
func TestFanOutToThreeEdges(t *testing.T) {
	addr, kv := newKV(t)
	var caches [3]*fakeCache
	nodes := []string{"edge-1", "edge-2", "edge-3"}
	for i, n := range nodes {
		caches[i] = &fakeCache{removed: int64(i + 1)}
		startEdge(t, addr, n, "", 10*time.Second, caches[i])
	}
	rec := publish(t, kv, Spec{Tag: "product-42"})
	if rec.Seq != 1 || rec.By != "test" || rec.At.IsZero() {
		t.Fatalf("first record = %+v, want Seq 1 by test", rec)
	}
	res := waitAll(t, kv, rec.Seq, nodes...)
	if res.Removed != 1+2+3 {
		t.Fatalf("Removed = %d, want 6", res.Removed)
	}
	rec2 := publish(t, kv, Spec{Prefix: "/img/", Soft: true})
	waitAll(t, kv, rec2.Seq, nodes...)
	for i, c := range caches {
		if got := c.seqs(); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("%s applied %v, want [1 2]", nodes[i], got)
		}
		c.mu.Lock()
		got := c.applied[1].Spec
		c.mu.Unlock()
		if got != (Spec{Prefix: "/img/", Soft: true}) {
			t.Fatalf("%s applied spec %+v", nodes[i], got)
		}
	}
}

// An edge killed before a purge is waited for (its lease has not expired);
// restarted with its state file it applies only what it missed, and Wait
// then completes with every edge.
func TestRestartCatchesUpFromStateFile(t *testing.T) {
	addr, kv := newKV(t)
	files := []string{stateFile(t), stateFile(t), stateFile(t)}
	nodes := []string{"edge-1", "edge-2", "edge-3"}
	var edges []*edge
	for i, n := range nodes {
		// A long lease: the killed edge must still count as live.
		edges = append(edges, startEdge(t, addr, n, files[i], 30*time.Second, &fakeCache{removed: 1}))
	}
	first := publish(t, kv, Spec{URL: "/a"})
	waitAll(t, kv, first.Seq, nodes...)

	edges[1].kill()
	second := publish(t, kv, Spec{URL: "/b"})

	// Wait keeps waiting for the killed edge.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	res, err := Wait(ctx, kv, testPrefix, second.Seq)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with edge-2 down: err %v, want DeadlineExceeded (result %+v)", err, res)
	}
	if !slices.Equal(res.Pending, []string{"edge-2"}) || !slices.Equal(res.Applied, []string{"edge-1", "edge-3"}) {
		t.Fatalf("Wait with edge-2 down = %+v, want edge-2 pending", res)
	}

	// Wait in the background, restart edge-2: the Wait completes.
	type waitResult struct {
		res Result
		err error
	}
	waited := make(chan waitResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		r, err := Wait(ctx, kv, testPrefix, second.Seq)
		waited <- waitResult{r, err}
	}()
	restarted := &fakeCache{removed: 1}
	e := startEdge(t, addr, "edge-2", files[1], 30*time.Second, restarted)
	// CaughtUp closes once the purge published while it was away is
	// applied: an edge serves from its kept cache only after that.
	select {
	case <-e.sub.CaughtUp():
	case <-time.After(testTimeout):
		t.Fatal("CaughtUp never closed")
	}
	if got := restarted.seqs(); !slices.Equal(got, []int64{second.Seq}) {
		t.Fatalf("at CaughtUp the restarted edge had applied %v, want [%d]", got, second.Seq)
	}
	w := <-waited
	if w.err != nil || !slices.Equal(w.res.Applied, nodes) || w.res.Removed != 3 {
		t.Fatalf("Wait after restart = %+v, %v; want all applied, removed 3", w.res, w.err)
	}
	if got := restarted.seqs(); !slices.Equal(got, []int64{second.Seq}) {
		t.Fatalf("restarted edge applied %v, want only [%d]", got, second.Seq)
	}
	if e.sub.LastApplied() != second.Seq {
		t.Fatalf("LastApplied = %d, want %d", e.sub.LastApplied(), second.Seq)
	}
	if restarted.applyAlls() != 0 {
		t.Fatal("restarted edge dropped everything; it should have caught up")
	}
}

// A dead edge's lease expires and Wait stops waiting for it.
func TestDeadEdgeLeaseExpiryEndsWait(t *testing.T) {
	addr, kv := newKV(t)
	nodes := []string{"edge-1", "edge-2", "edge-3"}
	var edges []*edge
	for _, n := range nodes {
		edges = append(edges, startEdge(t, addr, n, "", time.Second, &fakeCache{}))
	}
	edges[2].kill()
	rec := publish(t, kv, Spec{Tag: "t"})
	start := time.Now()
	waitAll(t, kv, rec.Seq, "edge-1", "edge-2")
	t.Logf("Wait returned %v after the publish", time.Since(start))
}

// An edge away while the records it needed were compacted drops everything
// (ApplyAll) when it comes back, and acknowledges the head.
func TestApplyAllAfterCompaction(t *testing.T) {
	addr, kv := newKV(t)
	file := stateFile(t)
	other := startEdge(t, addr, "edge-1", "", 30*time.Second, &fakeCache{})
	e := startEdge(t, addr, "edge-2", file, 30*time.Second, &fakeCache{})
	first := publish(t, kv, Spec{URL: "/1"})
	waitAll(t, kv, first.Seq, "edge-1", "edge-2")
	e.stop()
	var last Record
	for _, u := range []string{"/2", "/3", "/4"} {
		last = publish(t, kv, Spec{URL: u})
	}
	waitAll(t, kv, last.Seq, "edge-1")

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	n, err := Compact(ctx, kv, testPrefix, CompactOptions{Retention: time.Nanosecond, MinKeep: 1})
	if err != nil || n != 3 {
		t.Fatalf("Compact = %d, %v; want 3 records deleted", n, err)
	}
	l, _ := newLayout(testPrefix)
	acks, err := kv.Get(ctx, l.acksDir(), kvclient.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acks.GetKvs() {
		if string(a.GetKey()) < l.acks(last.Seq) {
			t.Fatalf("ack %s of a compacted record survived", a.GetKey())
		}
	}

	back := &fakeCache{}
	e2 := startEdge(t, addr, "edge-2", file, 30*time.Second, back)
	nodetest.WaitFor(t, testTimeout, "edge-2 caught up", func() bool { return e2.sub.LastApplied() == last.Seq })
	if back.applyAlls() != 1 || len(back.seqs()) != 0 {
		t.Fatalf("edge-2 back: %d ApplyAll, applied %v; want one ApplyAll and nothing else", back.applyAlls(), back.seqs())
	}
	res := waitAll(t, kv, last.Seq, "edge-1", "edge-2")
	if res.Removed != 100 {
		t.Fatalf("Removed = %d, want 100 (edge-2's ApplyAll)", res.Removed)
	}
	// It follows the log again.
	next := publish(t, kv, Spec{URL: "/5"})
	waitAll(t, kv, next.Seq, "edge-1", "edge-2")
	if got := back.seqs(); !slices.Equal(got, []int64{next.Seq}) {
		t.Fatalf("edge-2 applied %v after coming back, want [%d]", got, next.Seq)
	}
	_ = other
}

// raftkv going away and coming back: the subscriber retries, registers
// again if its lease was lost, and applies what was published meanwhile.
func TestSurvivesRaftkvRestart(t *testing.T) {
	n := raftkvtest.StartNode(t)
	kv := dial(t, n.Addr())
	cache := &fakeCache{removed: 1}
	e := startEdge(t, n.Addr(), "edge-1", stateFile(t), 2*time.Second, cache)
	first := publish(t, kv, Spec{URL: "/before"})
	waitAll(t, kv, first.Seq, "edge-1")

	n.Stop()
	n.Start()
	second := publish(t, kv, Spec{URL: "/after"})
	waitAll(t, kv, second.Seq, "edge-1")
	if got := cache.seqs(); !slices.Equal(got, []int64{first.Seq, second.Seq}) {
		t.Fatalf("applied %v, want [%d %d]", got, first.Seq, second.Seq)
	}
	if e.sub.LastApplied() != second.Seq {
		t.Fatalf("LastApplied = %d", e.sub.LastApplied())
	}
}
