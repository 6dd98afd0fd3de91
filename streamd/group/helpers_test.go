package group

import (
	"context"
	"flag"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the random tests (0: from the clock)")

// newRand returns a generator from -seed or the clock, logging the seed so
// a failure can be replayed with -seed.
func newRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward and returns the new time.
func (f *fakeClock) Advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return f.now
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// partitionTable is a concurrency-safe topic → partition count table.
type partitionTable struct {
	mu     sync.Mutex
	counts map[string]int
}

func (p *partitionTable) Partitions(topic string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[topic]
}

func (p *partitionTable) Set(topic string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[topic] = n
}

type fixture struct {
	t     *testing.T
	c     *Coordinator
	clock *fakeClock
	parts *partitionTable
}

// newFixture returns a Coordinator on a fake clock with topics a (6
// partitions), b (3) and c (1), logging to t, closed at cleanup.
func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newFakeClock(), parts: &partitionTable{counts: map[string]int{"a": 6, "b": 3, "c": 1}}}
	opts := Options{
		Partitions: f.parts.Partitions,
		Now:        f.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f.c = c
	return f
}

type joinOutcome struct {
	res JoinResult
	err error
}

// joinAsync starts a Join and returns the channel of its outcome.
func (f *fixture) joinAsync(ctx context.Context, req JoinRequest) <-chan joinOutcome {
	ch := make(chan joinOutcome, 1)
	go func() {
		res, err := f.c.Join(ctx, req)
		ch <- joinOutcome{res, err}
	}()
	return ch
}

// join joins and expects the Join to return without waiting for others.
func (f *fixture) join(req JoinRequest) JoinResult {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := f.c.Join(ctx, req)
	if err != nil {
		f.t.Fatalf("Join(%+v): %v", req, err)
	}
	return res
}

// await returns a Join's outcome, failing after 10 s.
func (f *fixture) await(ch <-chan joinOutcome) joinOutcome {
	f.t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		f.t.Fatal("Join did not return")
		return joinOutcome{}
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitJoining waits until n members of group have a Join waiting.
func (f *fixture) waitJoining(group string, n int) {
	f.t.Helper()
	f.waitFor("joining members", func() bool {
		info, _ := f.c.Describe(group)
		k := 0
		for _, m := range info.Members {
			if m.Joining {
				k++
			}
		}
		return k == n
	})
}

// state returns a group's state.
func (f *fixture) state(group string) State {
	info, _ := f.c.Describe(group)
	return info.State
}

// checkExactlyOnce fails unless the results assign every partition of
// topics exactly once.
func (f *fixture) checkExactlyOnce(results []JoinResult, topics ...string) {
	f.t.Helper()
	seen := map[TopicPartition]string{}
	for _, r := range results {
		for _, tp := range r.Assignment {
			if prev, ok := seen[tp]; ok {
				f.t.Fatalf("%v assigned to %s and %s", tp, prev, r.MemberID)
			}
			seen[tp] = r.MemberID
		}
	}
	want := 0
	for _, t := range topics {
		want += f.parts.Partitions(t)
	}
	if len(seen) != want {
		f.t.Fatalf("%d partitions assigned, want %d: %v", len(seen), want, seen)
	}
}
