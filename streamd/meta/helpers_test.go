package meta

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// t0 is the command time tests start at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testStore wraps a Store with a Raft index and a command clock that tests
// move by hand.
type testStore struct {
	t    testing.TB
	s    *Store
	path string
	idx  uint64
	now  time.Time
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openTestStore(t testing.TB) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	ts := &testStore{t: t, s: s, path: path, now: t0}
	t.Cleanup(func() { require.NoError(t, ts.s.Close()) })
	return ts
}

func (ts *testStore) reopen() {
	ts.t.Helper()
	require.NoError(ts.t, ts.s.Close())
	s, err := Open(ts.path, Options{NoSync: true, Logger: testLogger(ts.t)})
	require.NoError(ts.t, err)
	ts.s = s
}

// entry makes the next log entry of cmd, stamped with the test clock.
func (ts *testStore) entry(cmd *streamdraftv1.Command) raftnode.Entry {
	ts.t.Helper()
	cmd.UnixNanos = ts.now.UnixNano()
	data, err := proto.Marshal(cmd)
	require.NoError(ts.t, err)
	ts.idx++
	return raftnode.Entry{Index: ts.idx, Term: 1, Data: data}
}

// apply applies cmd as one batch and returns its decoded result.
func (ts *testStore) apply(cmd *streamdraftv1.Command) *streamdraftv1.CommandResult {
	ts.t.Helper()
	out, err := ts.s.ApplyBatch([]raftnode.Entry{ts.entry(cmd)})
	require.NoError(ts.t, err)
	require.Len(ts.t, out, 1)
	res := &streamdraftv1.CommandResult{}
	require.NoError(ts.t, proto.Unmarshal(out[0], res))
	return res
}

// must applies cmd and requires it to succeed.
func (ts *testStore) must(cmd *streamdraftv1.Command) *streamdraftv1.CommandResult {
	ts.t.Helper()
	res := ts.apply(cmd)
	require.NoError(ts.t, ResultError(res), "command %v", cmd)
	return res
}

// refuse applies cmd and requires it to fail with want; it returns the
// result's error.
func (ts *testStore) refuse(cmd *streamdraftv1.Command, want error) (*streamdraftv1.CommandResult, error) {
	ts.t.Helper()
	res := ts.apply(cmd)
	err := ResultError(res)
	require.ErrorIs(ts.t, err, want, "command %v", cmd)
	return res, err
}

// nodes registers nodes n1..nN.
func (ts *testStore) nodes(n int) {
	ts.t.Helper()
	for i := 1; i <= n; i++ {
		ts.must(RegisterNode(nodeID(i), nodeID(i)+":9000"))
	}
}

func nodeID(i int) string { return "n" + string(rune('0'+i)) }

// partition reads one partition.
func (ts *testStore) partition(topicID uint64, p int32) *streamdraftv1.PartitionRecord {
	ts.t.Helper()
	rec, err := ts.s.Partition(topicID, p)
	require.NoError(ts.t, err)
	return rec
}
