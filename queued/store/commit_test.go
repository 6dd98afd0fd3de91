package store

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
)

// crash simulates a crash of the process and a restart: the pending
// transaction is dropped without a commit and the file closed (bbolt writes
// nothing to the file before a commit, so what stays is what a crash would
// leave), then the file is opened again.
func (ts *testStore) crash() {
	ts.t.Helper()
	s := ts.s
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.loopDone
	s.applyMu.Lock()
	s.mu.Lock()
	s.txMu.Lock()
	if p := s.pending; p != nil {
		require.NoError(ts.t, p.tx.Rollback())
		s.pending = nil
	}
	s.txMu.Unlock()
	require.NoError(ts.t, s.db.Close())
	s.db = nil
	s.mu.Unlock()
	s.applyMu.Unlock()

	ns, err := Open(ts.path, ts.opts)
	require.NoError(ts.t, err)
	ts.s = ns
}

// failCommits makes every later commit of ts fail with the returned error.
func (ts *testStore) failCommits() error {
	injected := errors.New("injected commit failure")
	ts.s.applyMu.Lock()
	defer ts.s.applyMu.Unlock()
	ts.s.commitTx = func(tx *bbolt.Tx) error {
		_ = tx.Rollback() // as a failed Commit does
		return injected
	}
	return injected
}

// TestCrashConsistency applies random entries to a store that commits every
// 25 entries, crashes it at random points, replays the log from at or below
// its durable index as Raft does after a restart, and requires the results of
// the replayed entries and the final state to equal those of a store that
// commits every batch and never crashed.
func TestCrashConsistency(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	w := &workload{rng: rand.New(rand.NewPCG(seed, 0)), now: t0}
	a := openTestStoreWith(t, Options{CommitInterval: time.Hour, CommitEntries: 25})
	ref := openTestStoreWith(t, Options{CommitEntries: 1})

	var log []raftnode.Entry
	var results [][]byte // results[i] is the result of log[i]
	entry := func(cmd *queuedraftv1.Command) raftnode.Entry {
		w.tick()
		cmd.UnixNanos = w.now.UnixNano()
		data, err := marshal(cmd)
		require.NoError(t, err)
		e := raftnode.Entry{Index: uint64(len(log) + 1), Term: 1, Data: data}
		log = append(log, e)
		return e
	}
	apply := func(batch []raftnode.Entry) {
		ra := applyRaw(t, a.s, batch)
		rr := applyRaw(t, ref.s, batch)
		for i, e := range batch {
			require.True(t, bytes.Equal(rr[i], ra[i]), "entry %d: results differ", e.Index)
			results = append(results, ra[i])
			w.learn(ra[i])
		}
	}
	crashes, lost := 0, uint64(0)
	crashAndReplay := func() {
		durable, last := a.s.AppliedIndex(), a.s.LastApplied()
		require.Equal(t, uint64(len(log)), last)
		a.crash()
		crashes++
		lost += last - durable
		require.Equal(t, durable, a.s.AppliedIndex(), "the durable index survives")
		require.Equal(t, durable, a.s.LastApplied(), "nothing above it does")
		// Raft replays from its last snapshot, at or below the durable
		// index, in batches of its choosing.
		for i := rng.IntN(int(durable) + 1); i < len(log); {
			batch := log[i:min(len(log), i+1+rng.IntN(8))]
			res := applyRaw(t, a.s, batch)
			for j, e := range batch {
				if e.Index <= durable {
					require.Empty(t, res[j], "entry %d is skipped", e.Index)
				} else {
					require.True(t, bytes.Equal(results[e.Index-1], res[j]), "entry %d: replayed result differs", e.Index)
				}
			}
			i += len(batch)
		}
		checkInvariants(t, a.s)
		require.Equal(t, dump(t, ref.s), dump(t, a.s), "state after replaying to %d", len(log))
	}

	var setup []raftnode.Entry
	for _, c := range w.setup() {
		setup = append(setup, entry(c))
	}
	apply(setup)
	steps := 1500
	if testing.Short() {
		steps = 300
	}
	for len(log) < steps {
		var batch []raftnode.Entry
		for range 1 + rng.IntN(6) {
			batch = append(batch, entry(w.next()))
		}
		apply(batch)
		if rng.IntN(20) == 0 {
			crashAndReplay()
		}
	}
	crashAndReplay()
	t.Logf("%d entries, %d crashes, %d applied entries lost and replayed", len(log), crashes, lost)
	require.NotZero(t, lost, "some crash lost uncommitted entries")

	qa, ta, ma := a.s.Counts()
	qr, tr, mr := ref.s.Counts()
	require.Equal(t, []int64{qr, tr, mr}, []int64{qa, ta, ma})
	da, oka := a.s.NextDue()
	dr, okr := ref.s.NextDue()
	require.Equal(t, okr, oka)
	requireTime(t, dr, da)
}

func TestReadersSeeUncommittedBatches(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: time.Hour})
	changed := ts.s.Changed()
	ts.ok(createQueue("q", stdAttrs()))
	ts.ok(createTopic("t"))
	ts.ok(subscribeCmd("t", "q", nil))
	later := body("later")
	later.Delay = dur(time.Minute)
	ts.ok(sendCmd("q", body("now"), later))

	require.Zero(t, ts.s.AppliedIndex(), "nothing is committed")
	require.Equal(t, ts.idx, ts.s.LastApplied())
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed by the send")
	}
	st := ts.queue("q").GetStats()
	require.EqualValues(t, 1, st.GetVisible())
	require.EqualValues(t, 1, st.GetDelayed())
	qs, _, err := ts.s.ListQueues("", "", 0, ts.now)
	require.NoError(t, err)
	require.Len(t, qs, 1)
	tp, err := ts.s.GetTopic("t")
	require.NoError(t, err)
	require.Len(t, tp.GetSubscriptions(), 1)
	tps, _, err := ts.s.ListTopics("", "", 0)
	require.NoError(t, err)
	require.Len(t, tps, 1)
	ok, _, err := ts.s.Receivable("q", ts.now)
	require.NoError(t, err)
	require.True(t, ok)
	q, tn, m := ts.s.Counts()
	require.Equal(t, []int64{1, 1, 2}, []int64{q, tn, m})
	due, ok := ts.s.NextDue()
	require.True(t, ok)
	requireTime(t, ts.now.Add(time.Minute), due)

	// A receive sees the send's uncommitted messages, and a read sees the
	// receive.
	require.Equal(t, []string{"now"}, bodies(ts.receive("q", 10, time.Minute)))
	ok, next, err := ts.s.Receivable("q", ts.now)
	require.NoError(t, err)
	require.False(t, ok)
	requireTime(t, ts.now.Add(time.Minute), next)

	// It really was uncommitted: a crash loses all of it.
	ts.crash()
	require.Zero(t, ts.s.AppliedIndex())
	_, err = ts.s.GetQueue("q", ts.now)
	require.ErrorIs(t, err, ErrQueueNotFound)
}

func TestIdleCommit(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: 10 * time.Millisecond})
	ts.ok(createQueue("q", stdAttrs()))
	for round := range 2 {
		ts.ok(sendCmd("q", body("m")))
		// No further batch comes: the store commits on its own.
		require.Eventually(t, func() bool { return ts.s.AppliedIndex() == ts.idx },
			10*time.Second, time.Millisecond, "round %d", round)
	}
	// The commit reached the file.
	ts.crash()
	require.Equal(t, ts.idx, ts.s.AppliedIndex())
	require.EqualValues(t, 2, ts.queue("q").GetStats().GetVisible())
}

func TestCommitPolicy(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		ts := openTestStoreWith(t, Options{CommitInterval: time.Hour, CommitEntries: 3})
		ts.ok(createQueue("q", stdAttrs()))
		ts.ok(sendCmd("q", body("a")))
		require.Zero(t, ts.s.AppliedIndex())
		ts.ok(sendCmd("q", body("b")))
		require.EqualValues(t, 3, ts.s.AppliedIndex())
		ts.apply(sendCmd("q", body("c")), sendCmd("q", body("d")))
		require.EqualValues(t, 3, ts.s.AppliedIndex())
		ts.apply(sendCmd("q", body("e")), sendCmd("q", body("f")))
		require.EqualValues(t, 7, ts.s.AppliedIndex())
	})
	for name, opts := range map[string]Options{
		"entries=1":    {CommitInterval: time.Hour, CommitEntries: 1},
		"interval<0":   {CommitInterval: -1},
		"interval=1ns": {CommitInterval: time.Nanosecond},
	} {
		t.Run(name, func(t *testing.T) {
			ts := openTestStoreWith(t, opts)
			ts.ok(createQueue("q", stdAttrs()))
			require.Equal(t, ts.idx, ts.s.AppliedIndex())
			ts.apply(sendCmd("q", body("a")), sendCmd("q", body("b")))
			require.Equal(t, ts.idx, ts.s.AppliedIndex())
		})
	}
	t.Run("defaults", func(t *testing.T) {
		for _, n := range []int{0, -1} {
			s, err := Open(filepath.Join(t.TempDir(), "q.db"), Options{CommitEntries: n, NoSync: true, Logger: testLogger(t)})
			require.NoError(t, err)
			require.Equal(t, DefaultCommitInterval, s.commitInterval)
			require.Equal(t, DefaultCommitEntries, s.commitEntries)
			require.NoError(t, s.Close())
		}
	})
}

func TestSnapshotCommitsPending(t *testing.T) {
	src := openTestStoreWith(t, Options{CommitInterval: time.Hour})
	fill(src)
	require.Zero(t, src.s.AppliedIndex())
	want := dump(t, src.s)
	snap, err := src.s.Snapshot()
	require.NoError(t, err)
	require.Equal(t, src.idx, src.s.AppliedIndex(), "Snapshot commits first")
	src.ok(sendCmd("q", body("after")))
	var buf bytes.Buffer
	_, err = snap.WriteTo(&buf)
	require.NoError(t, err)
	snap.Release()

	dst := openTestStoreWith(t, Options{CommitInterval: time.Hour})
	require.NoError(t, dst.s.Restore(bytes.NewReader(buf.Bytes())))
	require.Equal(t, src.idx-1, dst.s.AppliedIndex())
	require.Equal(t, src.idx-1, dst.s.LastApplied())
	require.Equal(t, want, dump(t, dst.s))
}

func TestRestoreCommitsPending(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: time.Hour})
	fill(ts)
	want := dump(t, ts.s)
	require.Zero(t, ts.s.AppliedIndex())
	// A refused snapshot leaves the state whole, and committed.
	require.ErrorIs(t, ts.s.Restore(bytes.NewReader([]byte("not a database"))), ErrCorrupt)
	require.Equal(t, ts.idx, ts.s.AppliedIndex())
	ts.crash()
	require.Equal(t, want, dump(t, ts.s))
}

func TestCloseCommits(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: time.Hour})
	fill(ts)
	want := dump(t, ts.s)
	require.Zero(t, ts.s.AppliedIndex())
	ts.reopen()
	require.Equal(t, ts.idx, ts.s.AppliedIndex())
	require.Equal(t, want, dump(t, ts.s))
}

// TestCommitFailureFailsStore: a commit that fails loses the uncommitted
// batches, so the store refuses everything from then on; after a restart,
// replaying the log gives the state back.
func TestCommitFailureFailsStore(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: time.Hour, CommitEntries: 3})
	log := []raftnode.Entry{ts.entry(createQueue("q", stdAttrs())), ts.entry(sendCmd("q", body("a")))}
	applyRaw(t, ts.s, log)
	injected := ts.failCommits()
	log = append(log, ts.entry(sendCmd("q", body("b"))))
	_, err := ts.s.ApplyBatch(log[2:])
	require.ErrorIs(t, err, injected)

	requireFailed(t, ts, injected)
	require.NoError(t, ts.s.Close(), "the failure was reported already")

	s, err := Open(ts.path, ts.opts)
	require.NoError(t, err)
	ts.s = s
	require.Zero(t, ts.s.AppliedIndex())
	applyRaw(t, ts.s, log)
	require.EqualValues(t, 2, ts.queue("q").GetStats().GetVisible())
}

func TestIdleCommitFailureFailsStore(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: 10 * time.Millisecond})
	injected := ts.failCommits()
	ts.ok(createQueue("q", stdAttrs()))
	require.Eventually(t, func() bool {
		_, err := ts.s.GetQueue("q", ts.now)
		return errors.Is(err, injected)
	}, 10*time.Second, time.Millisecond)
	requireFailed(t, ts, injected)
}

// requireFailed requires that every call of a failed store fails with err.
func requireFailed(t *testing.T, ts *testStore, err error) {
	t.Helper()
	_, aerr := ts.s.ApplyBatch([]raftnode.Entry{ts.entry(sendCmd("q", body("x")))})
	require.ErrorIs(t, aerr, err)
	_, gerr := ts.s.GetQueue("q", ts.now)
	require.ErrorIs(t, gerr, err)
	_, serr := ts.s.Snapshot()
	require.ErrorIs(t, serr, err)
	require.ErrorIs(t, ts.s.Restore(bytes.NewReader(nil)), err)
	require.Zero(t, ts.s.AppliedIndex())
}

// TestReadsDuringApplyAndCommits runs readers beside the apply loop while
// batches are committed by count, by the idle commit and by snapshots: every
// read sees a state at least as new as the last batch applied before it
// began (run with -race).
func TestReadsDuringApplyAndCommits(t *testing.T) {
	ts := openTestStoreWith(t, Options{CommitInterval: time.Millisecond, CommitEntries: 7})
	ts.ok(createQueue("q", stdAttrs()))
	var mu sync.Mutex
	sent := int64(0) // messages sent by batches that returned
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				floor := sent
				mu.Unlock()
				q, err := ts.s.GetQueue("q", t0)
				if !assertNoError(t, err) {
					return
				}
				if v := q.GetStats().GetVisible(); v < floor {
					t.Errorf("read %d messages after %d were sent", v, floor)
					return
				}
				_, _, m := ts.s.Counts()
				if m < floor {
					t.Errorf("counted %d messages after %d were sent", m, floor)
					return
				}
				if _, _, err := ts.s.ListQueues("", "", 0, t0); !assertNoError(t, err) {
					return
				}
			}
		})
	}
	n := 300
	if testing.Short() {
		n = 100
	}
	for i := range n {
		ts.rawApply(sendCmd("q", body("m")))
		mu.Lock()
		sent++
		mu.Unlock()
		if i%50 == 0 {
			snap, err := ts.s.Snapshot()
			require.NoError(t, err)
			_, err = snap.WriteTo(io.Discard)
			require.NoError(t, err)
			snap.Release()
		}
	}
	close(stop)
	wg.Wait()
	require.EqualValues(t, n, ts.queue("q").GetStats().GetVisible())
	checkInvariants(t, ts.s)
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
