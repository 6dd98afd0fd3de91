package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func TestFIFOOrderAndGroups(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("f", fifoAttrs()))
	ts.ok(sendCmd("f", fifoBody("a1", "A"), fifoBody("b1", "B"), fifoBody("a2", "A"), fifoBody("c1", "C"), fifoBody("a3", "A")))

	// One message per group, groups in order of their head's sequence.
	first := ts.receive("f", 10, 10*time.Second)
	require.Equal(t, []string{"a1", "b1", "c1"}, bodies(first))
	require.Empty(t, ts.receive("f", 10, 0), "every group has its head in flight")

	// Acking B's head leaves B empty; acking A's head exposes a2, while C's
	// head in flight blocks only C.
	ts.ok(ackCmd("f", first[0].GetReceiptHandle(), first[1].GetReceiptHandle()))
	ms := ts.receive("f", 10, 10*time.Second)
	require.Equal(t, []string{"a2"}, bodies(ms))

	// a2 nacked: A is receivable again, still in order.
	ts.ok(nackCmd("f", 0, ms[0].GetReceiptHandle()))
	ms = ts.receive("f", 10, 10*time.Second)
	require.Equal(t, []string{"a2"}, bodies(ms))
	require.EqualValues(t, 2, ms[0].GetReceiveCount())
	require.Empty(t, ts.ok(extendCmd("f", time.Minute, ms[0].GetReceiptHandle())).GetSettle().GetErrors())

	// C's head times out: C is receivable again; A still blocked by a2.
	ts.advance(10 * time.Second)
	require.Equal(t, []string{"c1"}, bodies(ts.receive("f", 10, 10*time.Second)))
	ts.ok(ackCmd("f", ms[0].GetReceiptHandle()))
	got := ts.receive("f", 10, 10*time.Second)
	require.Equal(t, []string{"a3"}, bodies(got))
	require.Equal(t, "A", got[0].GetGroupId())
	require.EqualValues(t, 5, got[0].GetSequence())
}

func TestFIFOGroupsBySeqOfHead(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("f", fifoAttrs()))
	ts.ok(sendCmd("f", fifoBody("a1", "A"), fifoBody("b1", "B"), fifoBody("b2", "B"), fifoBody("c1", "C")))
	ms := ts.receive("f", 1, 10*time.Second)
	require.Equal(t, []string{"a1"}, bodies(ms))
	b := ts.receive("f", 1, 10*time.Second)
	require.Equal(t, []string{"b1"}, bodies(b))
	// a1's deadline passes: A's head (seq 1) comes before C's (seq 4).
	ts.advance(10 * time.Second)
	require.Equal(t, []string{"a1", "b1", "c1"}, bodies(ts.receive("f", 10, 10*time.Second)))
}

func TestFIFODeduplication(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("f", fifoAttrs()))
	cb := fifoAttrs()
	cb.ContentBasedDeduplication = true
	ts.ok(createQueue("fc", cb))

	withID := func(b, id string) *queuedv1.SendEntry {
		e := fifoNoID(b, "g")
		e.DeduplicationId = id
		return e
	}
	r := ts.ok(sendCmd("f", withID("x", "d1"), withID("y", "d1"), withID("z", "d2"))).GetSend().GetResults()
	require.False(t, r[0].GetDuplicate())
	require.True(t, r[1].GetDuplicate(), "same id within one batch")
	require.Equal(t, r[0].GetMessageId(), r[1].GetMessageId())
	require.Equal(t, r[0].GetSequence(), r[1].GetSequence())
	require.False(t, r[2].GetDuplicate())

	ts.advance(DedupWindow - 1)
	r = ts.ok(sendCmd("f", withID("again", "d1"))).GetSend().GetResults()
	require.True(t, r[0].GetDuplicate())
	ts.advance(1)
	r = ts.ok(sendCmd("f", withID("again", "d1"))).GetSend().GetResults()
	require.False(t, r[0].GetDuplicate(), "the window ended")
	require.EqualValues(t, 3, ts.queue("f").GetStats().GetVisible()+ts.queue("f").GetStats().GetInFlight())

	// Content-based: same body is a duplicate, another body is not; an
	// explicit id wins over the content.
	r = ts.ok(sendCmd("fc", fifoNoID("same", "g"), fifoNoID("same", "h"), fifoNoID("other", "g"), withID("same", "explicit"))).GetSend().GetResults()
	require.Equal(t, []bool{false, true, false, false}, []bool{r[0].GetDuplicate(), r[1].GetDuplicate(), r[2].GetDuplicate(), r[3].GetDuplicate()})
	ms := ts.receive("fc", 10, 0)
	require.Len(t, ms, 1)
	require.Len(t, ms[0].GetDeduplicationId(), 64, "the hex SHA-256 of the body")

	// The dedup records and their timers go with a sweep after the window.
	ts.advance(DedupWindow)
	ts.ok(sweepCmd(0))
	require.NoError(t, ts.s.view(func(tx *bbolt.Tx) error {
		q, _, err := readQueue(tx, "f")
		require.NoError(t, err)
		require.EqualValues(t, 0, keyN(tx.Bucket(bucketQ).Bucket(u64(q.GetId())).Bucket(subDedup)))
		return nil
	}))
}

func TestFIFOSendRules(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("f", fifoAttrs()))
	noGroup := body("x")
	delayed := fifoBody("x", "g")
	delayed.Delay = dur(time.Second)
	res := ts.ok(sendCmd("f", noGroup, delayed)).GetSend()
	require.Empty(t, res.GetResults())
	require.Len(t, res.GetErrors(), 2)
	for _, e := range res.GetErrors() {
		require.Equal(t, reasonQueueMismatch, e.GetReason())
	}

	// Without content-based deduplication a send must carry an id (SQS
	// refuses it too); with it, the body stands for the id.
	res = ts.ok(sendCmd("f", fifoNoID("x", "g"), fifoBody("y", "g"))).GetSend()
	require.Len(t, res.GetErrors(), 1)
	require.Equal(t, "0", res.GetErrors()[0].GetId())
	require.Equal(t, reasonInvalidArgument, res.GetErrors()[0].GetReason())
	require.Equal(t, "deduplication_id", res.GetErrors()[0].GetField())
	require.Contains(t, res.GetErrors()[0].GetMessage(), "content_based_deduplication")
	require.Equal(t, []string{"1"}, []string{res.GetResults()[0].GetId()})
	cb := fifoAttrs()
	cb.ContentBasedDeduplication = true
	ts.ok(createQueue("fc", cb))
	require.Empty(t, ts.ok(sendCmd("fc", fifoNoID("x", "g"))).GetSend().GetErrors())

	// A publish into a FIFO subscriber without an id fails as a whole.
	ts.ok(createTopic("t"))
	ts.ok(subscribeCmd("t", "f", nil))
	pub := &queuedraftv1.Command{Op: &queuedraftv1.Command_Publish{Publish: &queuedraftv1.PublishOp{Topic: "t", Body: []byte("p"), GroupId: "g"}}}
	r := ts.one(pub)
	require.Equal(t, reasonInvalidArgument, r.GetError())
	require.Equal(t, "deduplication_id", r.GetErrorField())
}

func TestFIFOQueueDelayAndMaxReceives(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("fdlq", fifoAttrs()))
	at := fifoAttrs()
	at.DeliveryDelay = dur(5 * time.Second)
	at.MaxReceives = 2
	at.DeadLetterQueue = "fdlq"
	ts.ok(createQueue("f", at))
	ts.ok(sendCmd("f", fifoBody("a1", "A"), fifoBody("a2", "A")))
	require.Empty(t, ts.receive("f", 10, 0))
	ts.advance(5 * time.Second)
	for range 2 {
		ms := ts.receive("f", 10, time.Second)
		require.Equal(t, []string{"a1"}, bodies(ms))
		ts.advance(time.Second)
	}
	// a1 has had its two deliveries: the next receive moves it and delivers a2.
	ms := ts.receive("f", 10, time.Second)
	require.Equal(t, []string{"a2"}, bodies(ms))
	d := ts.receive("fdlq", 10, time.Second)
	require.Equal(t, []string{"a1"}, bodies(d))
	require.Equal(t, "A", d[0].GetGroupId())
}
