package store

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
)

// fill gives ts some of everything: queues of both types, a dead letter
// queue, in-flight, delayed and dedup state, a topic.
func fill(ts *testStore) {
	ts.ok(createQueue("dlq", stdAttrs()))
	at := stdAttrs()
	at.MaxReceives, at.DeadLetterQueue = 2, "dlq"
	ts.ok(createQueue("q", at))
	ts.ok(createQueue("f", fifoAttrs()))
	ts.ok(createTopic("t"))
	ts.ok(subscribeCmd("t", "q", nil))
	ts.ok(subscribeCmd("t", "f", nil))
	ts.ok(sendCmd("q", body("a"), body("b"), body("c")))
	e := fifoBody("f1", "g")
	e.DeduplicationId = "d"
	ts.ok(sendCmd("f", e, fifoBody("f2", "g")))
	ts.ok(publishCmd("t", "p", "g2", nil))
	ts.receive("q", 2, time.Minute)
	ts.receive("f", 2, time.Minute)
	ts.advance(time.Second)
}

func TestRestartKeepsStateAndAppliedIndex(t *testing.T) {
	ts := openTestStore(t)
	fill(ts)
	before := dump(t, ts.s)
	// The batches are applied; they may not be committed yet (AppliedIndex
	// lags until CommitInterval), but Close commits them.
	idx := ts.s.LastApplied()
	require.Equal(t, ts.idx, idx)
	q1, t1, m1 := ts.s.Counts()
	due1, ok1 := ts.s.NextDue()

	ts.reopen()
	require.Equal(t, idx, ts.s.AppliedIndex())
	require.Equal(t, before, dump(t, ts.s))
	q2, t2, m2 := ts.s.Counts()
	require.Equal(t, []int64{q1, t1, m1}, []int64{q2, t2, m2})
	due2, ok2 := ts.s.NextDue()
	require.Equal(t, ok1, ok2)
	requireTime(t, due1, due2)

	// Raft replays entries at or below the applied index: each is skipped
	// with an empty result and changes nothing.
	replay := []raftnode.Entry{}
	for i := uint64(1); i <= idx; i++ {
		cmd := sendCmd("q", body("replayed"))
		cmd.UnixNanos = ts.now.UnixNano()
		data, err := proto.Marshal(cmd)
		require.NoError(t, err)
		replay = append(replay, raftnode.Entry{Index: i, Data: data})
	}
	res, err := ts.s.ApplyBatch(replay)
	require.NoError(t, err)
	for _, r := range res {
		require.Empty(t, r)
	}
	require.Equal(t, before, dump(t, ts.s))

	// A batch straddling the applied index applies only the new entries.
	ts.idx--
	rs := ts.apply(sendCmd("q", body("skipped")), sendCmd("q", body("new")))
	require.Empty(t, rs[0].GetSend().GetResults())
	require.Len(t, rs[1].GetSend().GetResults(), 1)
}

func TestSnapshotRestore(t *testing.T) {
	src := openTestStore(t)
	fill(src)
	snap, err := src.s.Snapshot()
	require.NoError(t, err)
	// Writes after the snapshot are not in it.
	src.ok(sendCmd("q", body("after")))
	var buf bytes.Buffer
	_, err = snap.WriteTo(&buf)
	require.NoError(t, err)
	snap.Release()

	dst := openTestStore(t)
	dst.ok(createQueue("gone", stdAttrs()))
	ch := dst.s.Changed()
	require.NoError(t, dst.s.Restore(bytes.NewReader(buf.Bytes())))
	<-ch
	require.Equal(t, src.idx-1, dst.s.AppliedIndex())
	_, err = dst.s.GetQueue("gone", dst.now)
	require.ErrorIs(t, err, ErrQueueNotFound)
	checkInvariants(t, dst.s)

	// The restored store goes on exactly like the original.
	dst.idx = src.idx - 1
	dst.now = src.now
	dst.ok(sendCmd("q", body("after")))
	require.Equal(t, dump(t, src.s), dump(t, dst.s))
	for _, ts := range []*testStore{src, dst} {
		ts.advance(time.Hour)
	}
	a := src.apply(sweepCmd(0), receiveCmd("q", 10, 0), receiveCmd("f", 10, 0))
	b := dst.apply(sweepCmd(0), receiveCmd("q", 10, 0), receiveCmd("f", 10, 0))
	for i := range a {
		require.True(t, proto.Equal(a[i], b[i]))
	}
	require.Equal(t, dump(t, src.s), dump(t, dst.s))

	// A file that is no snapshot is refused and the state kept.
	require.ErrorIs(t, dst.s.Restore(bytes.NewReader([]byte("not a database"))), ErrCorrupt)
	require.Equal(t, dump(t, src.s), dump(t, dst.s))
}

func TestClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "q.db"), Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = s.ApplyBatch([]raftnode.Entry{{Index: 1}})
	require.ErrorIs(t, err, ErrClosed)
	_, err = s.GetQueue("q", time.Now())
	require.ErrorIs(t, err, ErrClosed)
	_, err = s.Snapshot()
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, s.Restore(bytes.NewReader(nil)), ErrClosed)
}

func TestUndecodableCommand(t *testing.T) {
	ts := openTestStore(t)
	ts.idx++
	raw, err := ts.s.ApplyBatch([]raftnode.Entry{{Index: ts.idx, Data: []byte{0xff, 0xff}}})
	require.NoError(t, err)
	res := &queuedraftv1.CommandResult{}
	require.NoError(t, proto.Unmarshal(raw[0], res))
	require.Equal(t, reasonInvalidArgument, res.GetError())
	require.Equal(t, ts.idx, ts.s.LastApplied())
	ts.failsWith(reasonInvalidArgument, &queuedraftv1.Command{})
}
