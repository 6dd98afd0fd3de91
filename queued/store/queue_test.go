package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func TestCreateQueue(t *testing.T) {
	ts := openTestStore(t)
	r := ts.ok(createQueue("q", stdAttrs())).GetCreateQueue()
	require.True(t, r.GetCreated())
	require.Equal(t, "q", r.GetQueue().GetName())
	requireTime(t, t0, r.GetQueue().GetCreated().AsTime())
	r = ts.ok(createQueue("q", stdAttrs())).GetCreateQueue()
	require.False(t, r.GetCreated(), "same attributes: succeeds, not created")
	other := stdAttrs()
	other.VisibilityTimeout = dur(time.Minute)
	ts.failsWith(reasonQueueExists, createQueue("q", other))
	n, _, _ := ts.s.Counts()
	require.EqualValues(t, 1, n)
}

func TestDeadLetterValidation(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("std", stdAttrs()))
	ts.ok(createQueue("fifo", fifoAttrs()))
	with := func(base *queuedv1.QueueAttributes, dlq string, max uint32) *queuedv1.QueueAttributes {
		base.DeadLetterQueue, base.MaxReceives = dlq, max
		return base
	}
	cb := stdAttrs()
	cb.ContentBasedDeduplication = true
	for _, tc := range []struct {
		name   string
		queue  string
		attrs  *queuedv1.QueueAttributes
		reason string
	}{
		{"missing dlq", "a", with(stdAttrs(), "nope", 3), reasonQueueNotFound},
		{"other type", "a", with(stdAttrs(), "fifo", 3), reasonQueueMismatch},
		{"self", "a", with(stdAttrs(), "a", 3), reasonDeadLetterLoop},
		{"max without dlq", "a", with(stdAttrs(), "", 3), reasonInvalidArgument},
		{"dlq without max", "a", with(stdAttrs(), "std", 0), reasonInvalidArgument},
		{"content dedup on standard", "a", cb, reasonQueueMismatch},
		{"no type", "a", &queuedv1.QueueAttributes{}, reasonInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts.failsWith(tc.reason, createQueue(tc.queue, tc.attrs))
		})
	}
	ts.failsWith(reasonInvalidArgument, createQueue("", stdAttrs()))

	// A chain a → b → c; c → a would close a loop.
	ts.ok(createQueue("c", stdAttrs()))
	ts.ok(createQueue("b", with(stdAttrs(), "c", 1)))
	ts.ok(createQueue("a", with(stdAttrs(), "b", 1)))
	ts.failsWith(reasonDeadLetterLoop, setAttrs("c", with(stdAttrs(), "a", 1), "dead_letter_queue", "max_receives"))
	ts.failsWith(reasonDeadLetterLoop, setAttrs("b", with(stdAttrs(), "b", 1), "dead_letter_queue"))
	ts.ok(setAttrs("c", with(stdAttrs(), "std", 1), "dead_letter_queue", "max_receives"))
	require.Equal(t, []string{"b"}, ts.queue("c").GetDeadLetterSources())
	require.Equal(t, []string{"c"}, ts.queue("std").GetDeadLetterSources())
}

func TestSetQueueAttributes(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("q", stdAttrs()))
	ts.advance(time.Second)
	in := &queuedv1.QueueAttributes{VisibilityTimeout: dur(time.Minute), Retention: dur(time.Hour), MaxMessageBytes: 1}
	q := ts.ok(setAttrs("q", in, "visibility_timeout", "retention")).GetSetQueueAttributes().GetQueue()
	require.Equal(t, time.Minute, q.GetAttributes().GetVisibilityTimeout().AsDuration())
	require.Equal(t, time.Hour, q.GetAttributes().GetRetention().AsDuration())
	require.EqualValues(t, 256<<10, q.GetAttributes().GetMaxMessageBytes(), "not in the mask")
	requireTime(t, t0.Add(time.Second), q.GetModified().AsTime())
	ts.failsWith(reasonInvalidArgument, setAttrs("q", &queuedv1.QueueAttributes{Type: queuedv1.QueueType_QUEUE_TYPE_FIFO}, "type"))
	ts.failsWith(reasonInvalidArgument, setAttrs("q", in, "colour"))
	ts.failsWith(reasonQueueNotFound, setAttrs("nope", in, "retention"))

	// A shorter retention moves the retention timer.
	ts.ok(sendCmd("q", body("a")))
	due, _ := ts.s.NextDue()
	requireTime(t, ts.now.Add(time.Hour), due)
	ts.ok(setAttrs("q", &queuedv1.QueueAttributes{Retention: dur(time.Minute)}, "retention"))
	due, _ = ts.s.NextDue()
	requireTime(t, ts.now.Add(time.Minute), due)
}

// freeAll sweeps with small budgets until no timer is due, and returns the
// number of sweeps.
func freeAll(t *testing.T, ts *testStore, budget uint32) int {
	t.Helper()
	for i := 1; i < 10000; i++ {
		sw := ts.ok(sweepCmd(budget)).GetSweep()
		require.LessOrEqual(t, sw.GetChanges(), budget)
		if !sw.GetMore() {
			return i
		}
	}
	t.Fatal("sweeps never end")
	return 0
}

// queueBuckets counts the per-id buckets and the timers.
func queueBuckets(t *testing.T, s *Store) (ids, timers, dead int) {
	require.NoError(t, s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketQ).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			ids++
		}
		timers = keyN(tx.Bucket(bucketTimers))
		dead = keyN(tx.Bucket(bucketDead))
		return nil
	}))
	return
}

func TestPurgeIsBounded(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("f", fifoAttrs()))
	for i := range 10 {
		var es []*queuedv1.SendEntry
		for j := range 10 {
			e := fifoBody(fmt.Sprint(i, j), fmt.Sprint("g", j%3))
			e.DeduplicationId = fmt.Sprint(i, "-", j)
			es = append(es, e)
		}
		ts.ok(sendCmd("f", es...))
	}
	ms := ts.receive("f", 3, time.Minute)
	require.Len(t, ms, 3)
	r := ts.ok(purgeQueue("f")).GetPurgeQueue()
	require.EqualValues(t, 100, r.GetPurged())
	q := ts.queue("f")
	require.EqualValues(t, 0, q.GetStats().GetVisible()+q.GetStats().GetInFlight())
	_, _, n := ts.s.Counts()
	require.EqualValues(t, 0, n)
	// The queue works at once under its new id; dedup starts afresh.
	e := fifoBody("new", "g0")
	e.DeduplicationId = "0-0"
	require.False(t, ts.ok(sendCmd("f", e)).GetSend().GetResults()[0].GetDuplicate())
	require.Equal(t, []string{"new"}, bodies(ts.receive("f", 10, 0)))
	require.Equal(t, reasonReceiptStale, ts.ok(nackCmd("f", 0, ms[0].GetReceiptHandle())).GetSettle().GetErrors()[0].GetReason())

	ids, _, dead := queueBuckets(t, ts.s)
	require.Equal(t, 2, ids)
	require.Equal(t, 1, dead)
	sweeps := freeAll(t, ts, 25)
	require.Greater(t, sweeps, 10, "freed in chunks")
	ids, timers, dead := queueBuckets(t, ts.s)
	require.Equal(t, 1, ids)
	require.Equal(t, 0, dead)
	// Left: the new message's in-flight, retention and dedup timers.
	require.Equal(t, 3, timers)
}

func TestDeleteQueue(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("dlq", stdAttrs()))
	at := stdAttrs()
	at.MaxReceives, at.DeadLetterQueue = 2, "dlq"
	ts.ok(createQueue("src", at))
	ts.ok(createTopic("t"))
	ts.ok(subscribeCmd("t", "dlq", nil))
	ts.ok(subscribeCmd("t", "src", nil))
	ts.ok(sendCmd("dlq", body("a"), body("b")))

	ts.ok(deleteQueue("dlq"))
	_, err := ts.s.GetQueue("dlq", ts.now)
	require.ErrorIs(t, err, ErrQueueNotFound)
	src := ts.queue("src")
	require.Empty(t, src.GetAttributes().GetDeadLetterQueue(), "the redrive goes with the queue")
	require.Zero(t, src.GetAttributes().GetMaxReceives())
	top, err := ts.s.GetTopic("t")
	require.NoError(t, err)
	require.Len(t, top.GetSubscriptions(), 1)
	require.Equal(t, "src", top.GetSubscriptions()[0].GetQueue())
	q, _, n := ts.s.Counts()
	require.EqualValues(t, 1, q)
	require.EqualValues(t, 0, n)
	ts.failsWith(reasonQueueNotFound, deleteQueue("dlq"))

	// The name is free again; the old buckets go with sweeps.
	r := ts.ok(createQueue("dlq", stdAttrs())).GetCreateQueue()
	require.True(t, r.GetCreated())
	require.Empty(t, ts.receive("dlq", 10, 0))
	freeAll(t, ts, 1)
	ids, _, dead := queueBuckets(t, ts.s)
	require.Equal(t, 2, ids)
	require.Equal(t, 0, dead)
}

func TestListQueues(t *testing.T) {
	ts := openTestStore(t)
	for _, n := range []string{"a1", "a2", "a3", "b1", "a0"} {
		ts.ok(createQueue(n, stdAttrs()))
	}
	var got []string
	after := ""
	for {
		qs, next, err := ts.s.ListQueues("a", after, 2, ts.now)
		require.NoError(t, err)
		for _, q := range qs {
			got = append(got, q.GetName())
		}
		if next == "" {
			break
		}
		after = next
	}
	require.Equal(t, []string{"a0", "a1", "a2", "a3"}, got)
	qs, next, err := ts.s.ListQueues("", "", 0, ts.now)
	require.NoError(t, err)
	require.Len(t, qs, 5)
	require.Empty(t, next)
}
