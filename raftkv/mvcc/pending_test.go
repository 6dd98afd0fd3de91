package mvcc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// openBatchedStore opens a store whose commits wait for CommitEntries entries
// (and never for time).
func openBatchedStore(t *testing.T, entries int) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t), CommitInterval: time.Hour, CommitEntries: entries})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return &testStore{t: t, s: s}
}

// crashCopy opens a copy of the database file as it is on disk now: what a
// crash at this moment would leave.
func crashCopy(t *testing.T, s *Store) *Store {
	t.Helper()
	b, err := os.ReadFile(s.path)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "crashed.db")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	c, err := Open(path, Options{NoSync: true, Logger: testLogger(t), CommitInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func TestUncommittedBatchesAreReadable(t *testing.T) {
	ts := openBatchedStore(t, 1000)
	ts.put("a", "1") // rev 2
	require.NoError(t, ts.s.Flush())
	ts.put("a", "2") // rev 3, pending
	ts.put("b", "1") // rev 4, pending
	require.Equal(t, uint64(1), ts.s.AppliedIndex(), "only the first batch is committed")
	require.Equal(t, int64(4), ts.s.Revision())

	require.Equal(t, "2", string(ts.get("a", 0).Value))
	require.Equal(t, "1", string(ts.get("a", 2).Value), "committed history")
	require.Equal(t, "1", string(ts.get("b", 0).Value))
	require.Equal(t, []string{"a", "b"}, keysOf(ts.rangeAll(0).Kvs))

	// Events span the commit: the second put's prev_kv is the committed one.
	evs, complete, err := ts.s.Events(1, []byte{0}, []byte{0}, 0)
	require.NoError(t, err)
	require.Equal(t, int64(4), complete)
	require.Len(t, evs, 3)
	require.Equal(t, []int64{2, 3, 4}, []int64{evs[0].Kv.ModRevision, evs[1].Kv.ModRevision, evs[2].Kv.ModRevision})
	require.Equal(t, "1", string(evs[1].PrevKv.GetValue()))
	// Only pending events, and a limit inside them.
	evs, complete, err = ts.s.Events(3, []byte{0}, []byte{0}, 1)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, int64(3), complete)

	// Txn reads see pending writes too.
	r := ts.ok(txnCmd(nil, []*raftkvv1.RequestOp{opRange("a", "")}, nil))
	require.Equal(t, "2", string(r.GetTxn().GetResponses()[0].GetResponseRange().GetKvs()[0].GetValue()))
}

func TestCrashLosesOnlyWhatTheLogReplays(t *testing.T) {
	ts := openBatchedStore(t, 1000)
	ts.put("a", "1")
	ts.put("b", "1")
	ts.put("a", "2")

	crashed := crashCopy(t, ts.s)
	require.Equal(t, uint64(0), crashed.AppliedIndex(), "nothing was committed")
	require.Equal(t, int64(initialRevision), crashed.Revision())

	// Raft replays its log from the start: the store ends where the original is.
	replay := &testStore{t: t, s: crashed}
	replay.put("a", "1")
	replay.put("b", "1")
	replay.put("a", "2")
	require.Equal(t, stateOf(t, ts.s), stateOf(t, crashed))

	require.NoError(t, ts.s.Flush())
	require.Equal(t, uint64(3), ts.s.AppliedIndex())
	after := crashCopy(t, ts.s)
	require.Equal(t, uint64(3), after.AppliedIndex())
	require.Equal(t, stateOf(t, ts.s), stateOf(t, after))
}

func TestCommitTriggers(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		ts := openBatchedStore(t, 3)
		ts.put("a", "1")
		ts.put("a", "2")
		require.Equal(t, uint64(0), ts.s.AppliedIndex())
		ts.put("a", "3")
		require.Equal(t, uint64(3), ts.s.AppliedIndex())
	})
	t.Run("lease changes and compaction commit at once", func(t *testing.T) {
		ts := openBatchedStore(t, 1000)
		ts.put("a", "1")
		ts.ok(grantCmd(7, 60))
		require.Equal(t, uint64(2), ts.s.AppliedIndex())
		ts.put("a", "2")
		ts.ok(revokeCmd(7))
		require.Equal(t, uint64(4), ts.s.AppliedIndex())
		ts.put("a", "3")
		ts.ok(compactCmd(ts.s.Revision()))
		require.Equal(t, uint64(6), ts.s.AppliedIndex())
		require.Equal(t, "3", string(ts.get("a", 0).Value))
	})
	t.Run("snapshot", func(t *testing.T) {
		ts := openBatchedStore(t, 1000)
		ts.put("a", "1")
		var snap bytes.Buffer
		require.NoError(t, ts.s.Snapshot(&snap))
		require.Equal(t, uint64(1), ts.s.AppliedIndex())
		b := openTestStore(t)
		require.NoError(t, b.s.Restore(bytes.NewReader(snap.Bytes())))
		require.Equal(t, "1", string(b.get("a", 0).Value))
	})
	t.Run("close", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		s, err := Open(path, Options{NoSync: true, Logger: testLogger(t), CommitInterval: time.Hour})
		require.NoError(t, err)
		ts := &testStore{t: t, s: s}
		ts.put("a", "1")
		require.NoError(t, s.Close())
		s, err = Open(path, Options{NoSync: true, Logger: testLogger(t)})
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, uint64(1), s.AppliedIndex())
	})
	t.Run("interval without further batches", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		s, err := Open(path, Options{NoSync: true, Logger: testLogger(t), CommitInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		defer s.Close()
		ts := &testStore{t: t, s: s}
		ts.put("a", "1")
		require.Eventually(t, func() bool { return s.AppliedIndex() == 1 }, 10*time.Second, 5*time.Millisecond)
	})
}

// TestBatchedCommitsMatchCommitEveryBatch applies the same random commands to
// a store that commits every batch and one that commits every few entries,
// and checks that they agree and that a crash of the second at any point,
// followed by a replay of the log, ends in the same state.
func TestBatchedCommitsMatchCommitEveryBatch(t *testing.T) {
	seed := seedFor(t)
	g := newCmdGen(seed)
	r := rand.New(rand.NewPCG(seed, 1))
	ref := openTestStore(t)
	batched := openBatchedStore(t, 2+r.IntN(8))
	var log []*raftkvraftv1.Command
	for i := range 400 {
		cmd := g.next()
		log = append(log, cmd)
		resA, evsA := ref.apply(cmd)
		resB, evsB := batched.apply(cmd)
		require.Equal(t, marshalAll(t, resA), marshalAll(t, resB), "command %d", i)
		require.Equal(t, marshalAll(t, evsA), marshalAll(t, evsB), "command %d", i)
		if i%50 == 49 {
			require.Equal(t, stateOf(t, ref.s), stateOf(t, batched.s), "after command %d", i)
			crashed := crashCopy(t, batched.s)
			replay := &testStore{t: t, s: crashed}
			for _, c := range log {
				replay.apply(c)
			}
			require.Equal(t, stateOf(t, ref.s), stateOf(t, crashed), "crash after command %d", i)
		}
	}
}

// TestReadsDuringCommits reads while batches are applied and committed every
// few entries: every read finds every record it needs, and sees each key's
// value as written at its mod revision.
func TestReadsDuringCommits(t *testing.T) {
	ts := openBatchedStore(t, 3)
	const writes = 600
	stop := readers(3, func() error {
		resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			if want := fmt.Sprintf("v%d", kv.ModRevision); string(kv.Value) != want {
				return fmt.Errorf("key %s at rev %d has %q, want %q", kv.Key, kv.ModRevision, kv.Value, want)
			}
		}
		_, _, err = ts.s.Events(max(ts.s.Revision()-20, 1), []byte{0}, []byte{0}, 0)
		return err
	})
	for i := range writes {
		// Each put is its own revision: rev = i + 2.
		ts.put(fmt.Sprintf("k%d", i%10), fmt.Sprintf("v%d", i+2))
	}
	require.NoError(t, stop())
}
