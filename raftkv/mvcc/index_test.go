package mvcc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// TestReopenRebuildsIndex checks that the key index built from disk at Open
// gives the same observable state as the index maintained by ApplyBatch.
func TestReopenRebuildsIndex(t *testing.T) {
	g := newCmdGen(seedFor(t))
	ts := openTestStore(t)
	for range 40 {
		cmds := make([]*raftkvraftv1.Command, 10)
		for i := range cmds {
			cmds[i] = g.next()
		}
		ts.apply(cmds...)
	}
	want := stateOf(t, ts.s)
	path := ts.s.path
	require.NoError(t, ts.s.Close())
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, want, stateOf(t, s))
}

// TestApplyRollback drives ApplyBatch's failure path: a batch applied in a
// write transaction that is then rolled back must leave no trace in the key
// index, and its pending changes must be invisible to readers meanwhile.
func TestApplyRollback(t *testing.T) {
	ts := openTestStore(t)
	ref := openTestStore(t) // gets only the batches that commit
	setup := []*raftkvraftv1.Command{grantCmd(1, 10), putCmd("a", "1", 0), putCmd("b", "1", 1), putCmd("c", "1", 1), delCmd("c", "")}
	ts.apply(setup...)
	ref.apply(setup...)
	want := stateOf(t, ts.s)

	batch := []*raftkvraftv1.Command{putCmd("a", "2", 0), putCmd("new", "x", 1), delCmd("b", ""), compactCmd(3), putCmd("b", "2", 1), revokeCmd(1)}
	entries := make([]Entry, len(batch))
	for i, c := range batch {
		entries[i] = Entry{Index: ts.idx + uint64(i) + 1, Cmd: c}
	}
	s := ts.s
	s.applyMu.Lock()
	s.mu.RLock()
	tx, err := s.db.Begin(true)
	require.NoError(t, err)
	a, err := newApplier(tx, s.idx)
	require.NoError(t, err)
	require.NoError(t, a.applyAll(entries, make([]*raftkvraftv1.CommandResult, len(entries))))
	require.NotEmpty(t, a.touched)
	require.Equal(t, want, stateOf(t, s), "pending changes are visible")
	require.NoError(t, tx.Rollback())
	a.rollback()
	s.mu.RUnlock()
	s.applyMu.Unlock()
	require.Equal(t, want, stateOf(t, s))

	// The store goes on as if the failed batch never happened.
	resTS, evsTS := ts.apply(batch...)
	resRef, evsRef := ref.apply(batch...)
	require.Equal(t, marshalAll(t, resRef), marshalAll(t, resTS))
	require.Equal(t, marshalAll(t, evsRef), marshalAll(t, evsTS))
	require.Equal(t, stateOf(t, ref.s), stateOf(t, ts.s))
}

// TestConcurrentReadsSeeCommittedState runs readers against a writer whose
// every revision keeps keys x and y equal, and which compacts up to its own
// latest revision; readers must only ever see whole revisions and never miss a
// record. Run it with -race.
func TestConcurrentReadsSeeCommittedState(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "0"), opPut("y", "0")}, nil))
	check := func(rev int64) error {
		resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte("x"), RangeEnd: []byte("z"), Revision: rev})
		if errors.Is(err, ErrCompacted) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 2 || string(resp.Kvs[0].Value) != string(resp.Kvs[1].Value) {
			return fmt.Errorf("torn read at %d: %v", resp.Header.Revision, resp.Kvs)
		}
		if resp.Kvs[0].ModRevision != resp.Kvs[1].ModRevision || resp.Kvs[0].ModRevision > resp.Header.Revision {
			return fmt.Errorf("bad revisions at %d: %v", resp.Header.Revision, resp.Kvs)
		}
		return nil
	}
	stop := readers(3, func() error {
		rev := ts.s.Revision()
		for _, r := range []int64{0, rev, max(rev-1, 2)} {
			if err := check(r); err != nil {
				return err
			}
		}
		evs, _, err := ts.s.Events(ts.s.CompactRevision()+1, []byte("x"), []byte("z"), 0)
		if err != nil && !errors.Is(err, ErrCompacted) {
			return err
		}
		for _, ev := range evs {
			if ev.Kv.Version > 1 && ev.PrevKv == nil {
				return fmt.Errorf("event without prev_kv: %v", ev)
			}
		}
		return nil
	})
	for i := 1; i <= 300; i++ {
		v := fmt.Sprint(i)
		cmds := []*raftkvraftv1.Command{txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", v), opPut("y", v)}, nil)}
		if i%7 == 0 {
			// Compact to the revision of the txn just before, in the same batch.
			cmds = append(cmds, compactCmd(ts.s.Revision()+1))
		}
		res, _ := ts.apply(cmds...)
		for _, r := range res {
			require.Empty(t, r.GetError(), r.GetErrorMessage())
		}
	}
	require.NoError(t, stop())
}
