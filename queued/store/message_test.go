package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// TestVisibilityByCommandTime drives a delivery's deadline through the
// commands' times only.
func TestVisibilityByCommandTime(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("q", stdAttrs()))
	ts.ok(sendCmd("q", body("a")))
	first := ts.receive("q", 1, 10*time.Second)
	require.Len(t, first, 1)

	ts.advance(10*time.Second - 1)
	require.Empty(t, ts.receive("q", 1, 0), "invisible until its deadline")
	ok, next, err := ts.s.Receivable("q", ts.now)
	require.NoError(t, err)
	require.False(t, ok)
	requireTime(t, ts.now.Add(1), next)

	ts.advance(1)
	ok, _, err = ts.s.Receivable("q", ts.now)
	require.NoError(t, err)
	require.True(t, ok)
	again := ts.receive("q", 1, 0)
	require.Len(t, again, 1)
	require.EqualValues(t, 2, again[0].GetReceiveCount())
	require.Equal(t, first[0].GetFirstReceived().AsTime(), again[0].GetFirstReceived().AsTime())
	require.Equal(t, ts.now.Add(30*time.Second), again[0].GetVisibleAt().AsTime(), "the queue's visibility timeout")
	require.NotEqual(t, first[0].GetReceiptHandle(), again[0].GetReceiptHandle())

	r := ts.ok(ackCmd("q", first[0].GetReceiptHandle())).GetSettle()
	require.Equal(t, reasonReceiptStale, r.GetErrors()[0].GetReason())
	r = ts.ok(ackCmd("q", again[0].GetReceiptHandle())).GetSettle()
	require.Empty(t, r.GetErrors())
	require.EqualValues(t, 0, ts.queue("q").GetStats().GetInFlight())
}

func TestReceiptHandleErrors(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("q", stdAttrs()))
	ts.ok(createQueue("other", stdAttrs()))
	ts.ok(sendCmd("q", body("a"), body("b"), body("c")))
	ts.ok(sendCmd("other", body("x")))
	ms := ts.receive("q", 3, 10*time.Second)
	require.Len(t, ms, 3)
	otherMs := ts.receive("other", 1, 0)
	// b: acked, so gone.
	require.Empty(t, ts.ok(ackCmd("q", ms[1].GetReceiptHandle())).GetSettle().GetErrors())

	// a: redelivered after its deadline, so its first receipt is stale.
	ts.advance(10 * time.Second)
	re := ts.receive("q", 1, 10*time.Second)
	require.Equal(t, "a", string(re[0].GetBody()))
	// c: past its deadline.

	for _, tc := range []struct {
		name   string
		handle string
		ack    string // "" = success
		nack   string
		extend string
	}{
		{"garbage", "not-a-receipt", reasonReceiptInvalid, reasonReceiptInvalid, reasonReceiptInvalid},
		{"check byte", flipLast(ms[0].GetReceiptHandle()), reasonReceiptInvalid, reasonReceiptInvalid, reasonReceiptInvalid},
		{"other queue", otherMs[0].GetReceiptHandle(), reasonReceiptInvalid, reasonReceiptInvalid, reasonReceiptInvalid},
		{"stale", ms[0].GetReceiptHandle(), reasonReceiptStale, reasonReceiptStale, reasonReceiptStale},
		{"gone", ms[1].GetReceiptHandle(), "", reasonReceiptStale, reasonReceiptStale},
		{"expired", ms[2].GetReceiptHandle(), reasonReceiptExpired, reasonReceiptExpired, reasonReceiptExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(want string, cmd func(h string) []string) {
				t.Helper()
				errs := cmd(tc.handle)
				if want == "" {
					require.Empty(t, errs)
				} else {
					require.Equal(t, []string{want}, errs)
				}
			}
			reasonsOf := func(errs []*queuedv1.EntryError) []string {
				var out []string
				for _, e := range errs {
					require.Equal(t, "0", e.GetId())
					out = append(out, e.GetReason())
				}
				return out
			}
			check(tc.nack, func(h string) []string { return reasonsOf(ts.ok(nackCmd("q", 0, h)).GetSettle().GetErrors()) })
			check(tc.extend, func(h string) []string {
				return reasonsOf(ts.ok(extendCmd("q", time.Minute, h)).GetSettle().GetErrors())
			})
			check(tc.ack, func(h string) []string { return reasonsOf(ts.ok(ackCmd("q", h)).GetSettle().GetErrors()) })
		})
	}

	// A receipt of the queue before a purge: the message is gone.
	h := re[0].GetReceiptHandle()
	ts.ok(purgeQueue("q"))
	require.Empty(t, ts.ok(ackCmd("q", h)).GetSettle().GetErrors())
	require.Equal(t, reasonReceiptStale, ts.ok(nackCmd("q", 0, h)).GetSettle().GetErrors()[0].GetReason())
	ts.failsWith(reasonQueueNotFound, ackCmd("nope", h))
}

func flipLast(h string) string {
	b := []byte(h)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

func TestNackAndExtend(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("q", stdAttrs()))
	ts.ok(sendCmd("q", body("a"), body("b")))
	ms := ts.receive("q", 2, 10*time.Second)

	// Nack a now, b after 5 s.
	ts.ok(nackCmd("q", 0, ms[0].GetReceiptHandle()))
	ts.ok(nackCmd("q", 5*time.Second, ms[1].GetReceiptHandle()))
	st := ts.queue("q").GetStats()
	require.EqualValues(t, 1, st.GetVisible())
	require.EqualValues(t, 1, st.GetDelayed())
	require.EqualValues(t, 0, st.GetInFlight())
	// A nacked delivery's receipt is done.
	require.Equal(t, reasonReceiptStale, ts.ok(ackCmd("q", ms[0].GetReceiptHandle())).GetSettle().GetErrors()[0].GetReason())

	a := ts.receive("q", 2, 10*time.Second)
	require.Equal(t, []string{"a"}, bodies(a))
	ts.advance(5 * time.Second)
	b := ts.receive("q", 2, 10*time.Second)
	require.Equal(t, []string{"b"}, bodies(b))

	// Extend a by 1 minute from now: it outlives its first deadline.
	ts.ok(extendCmd("q", time.Minute, a[0].GetReceiptHandle()))
	ts.advance(30 * time.Second)
	require.Equal(t, []string{"b"}, bodies(ts.receive("q", 2, 0)))
	require.Empty(t, ts.ok(ackCmd("q", a[0].GetReceiptHandle())).GetSettle().GetErrors())

	// Extend beyond 12 h is refused per entry.
	c := ts.receive("q", 1, 0)
	require.Empty(t, c)
}

func TestDelay(t *testing.T) {
	ts := openTestStore(t)
	at := stdAttrs()
	at.DeliveryDelay = dur(10 * time.Second)
	ts.ok(createQueue("q", at))
	e := body("own")
	e.Delay = dur(2 * time.Second)
	zero := body("zero")
	zero.Delay = dur(0)
	ts.ok(sendCmd("q", body("queue"), e, zero))
	require.Equal(t, []string{"zero"}, bodies(ts.receive("q", 10, 0)), "an explicit zero delay overrides the queue's")
	st := ts.queue("q").GetStats()
	require.EqualValues(t, 2, st.GetDelayed())

	ts.advance(2 * time.Second)
	require.Equal(t, []string{"own"}, bodies(ts.receive("q", 10, 0)))
	ts.advance(8 * time.Second)
	due, ok := ts.s.NextDue()
	require.True(t, ok)
	require.False(t, due.After(ts.now))
	// A sweep brings the counts up to date.
	sw := ts.ok(sweepCmd(0)).GetSweep()
	require.False(t, sw.GetMore())
	st = ts.queue("q").GetStats()
	require.EqualValues(t, 0, st.GetDelayed())
	require.EqualValues(t, 1, st.GetVisible())
	require.Equal(t, []string{"queue"}, bodies(ts.receive("q", 10, 0)))
}

func TestSendEntryErrors(t *testing.T) {
	ts := openTestStore(t)
	at := stdAttrs()
	at.MaxMessageBytes = 1024
	ts.ok(createQueue("q", at))
	big := &queuedv1.SendEntry{Id: "big", Body: make([]byte, 1000), Attributes: map[string]*queuedv1.AttributeValue{
		"k": {DataType: "String", StringValue: string(make([]byte, 20))}}} // 1000+1+6+20
	exact := &queuedv1.SendEntry{Id: "exact", Body: make([]byte, 1024)}
	grp := &queuedv1.SendEntry{Id: "grp", Body: []byte("x"), GroupId: "g"}
	ddp := &queuedv1.SendEntry{Id: "ddp", Body: []byte("x"), DeduplicationId: "d"}
	res := ts.ok(sendCmd("q", big, exact, grp, ddp)).GetSend()
	require.Len(t, res.GetResults(), 1)
	require.Equal(t, "exact", res.GetResults()[0].GetId())
	got := map[string]string{}
	for _, e := range res.GetErrors() {
		got[e.GetId()] = e.GetReason()
		require.True(t, e.GetSenderFault())
	}
	require.Equal(t, map[string]string{"big": reasonLimitExceeded, "grp": reasonQueueMismatch, "ddp": reasonQueueMismatch}, got)
	ts.failsWith(reasonQueueNotFound, sendCmd("nope", body("x")))
}

func TestRetention(t *testing.T) {
	ts := openTestStore(t)
	at := stdAttrs()
	at.Retention = dur(time.Minute)
	ts.ok(createQueue("q", at))
	ts.ok(sendCmd("q", body("old")))
	ts.advance(30 * time.Second)
	ts.ok(sendCmd("q", body("young")))
	require.Equal(t, 30*time.Second, ts.queue("q").GetStats().GetOldestAge().AsDuration())
	due, ok := ts.s.NextDue()
	require.True(t, ok)
	requireTime(t, t0.Add(time.Minute), due)

	ts.advance(30 * time.Second)
	sw := ts.ok(sweepCmd(0)).GetSweep()
	require.EqualValues(t, 1, sw.GetChanges())
	q := ts.queue("q")
	require.EqualValues(t, 1, q.GetStats().GetVisible())
	require.Equal(t, 30*time.Second, q.GetStats().GetOldestAge().AsDuration())

	// Receive drops an expired message it meets, without a sweep.
	ts.advance(30 * time.Second)
	require.Empty(t, ts.receive("q", 1, 0))
	require.EqualValues(t, 0, ts.queue("q").GetStats().GetVisible())
	_, ok = ts.s.NextDue()
	require.False(t, ok)
}

// TestMaxReceives: a poison message is delivered exactly max_receives times
// then moved to the dead letter queue, by Receive or by Sweep.
func TestMaxReceives(t *testing.T) {
	for _, bySweep := range []bool{false, true} {
		t.Run(map[bool]string{false: "receive", true: "sweep"}[bySweep], func(t *testing.T) {
			ts := openTestStore(t)
			ts.ok(createQueue("dlq", stdAttrs()))
			at := stdAttrs()
			at.MaxReceives = 3
			at.DeadLetterQueue = "dlq"
			ts.ok(createQueue("q", at))
			require.Equal(t, []string{"q"}, ts.queue("dlq").GetDeadLetterSources())
			e := body("poison")
			e.Attributes = map[string]*queuedv1.AttributeValue{"k": {DataType: "String", StringValue: "v"}}
			sent := ts.ok(sendCmd("q", e)).GetSend().GetResults()[0]
			sentAt := ts.now
			var firstReceived time.Time
			deliveries := 0
			for range 10 {
				ms := ts.receive("q", 1, time.Second)
				if len(ms) == 0 {
					break
				}
				deliveries++
				if deliveries == 1 {
					firstReceived = ms[0].GetFirstReceived().AsTime()
				}
				ts.advance(time.Second)
				if bySweep {
					ts.ok(sweepCmd(0))
				}
			}
			require.Equal(t, 3, deliveries)
			q := ts.queue("q")
			require.EqualValues(t, 1, q.GetStats().GetDeadLettered())
			require.EqualValues(t, 0, q.GetStats().GetInFlight()+q.GetStats().GetVisible())

			ms := ts.receive("dlq", 1, 0)
			require.Len(t, ms, 1)
			m := ms[0]
			require.Equal(t, sent.GetMessageId(), m.GetMessageId())
			require.Equal(t, "poison", string(m.GetBody()))
			require.Equal(t, "v", m.GetAttributes()["k"].GetStringValue())
			requireTime(t, sentAt, m.GetSent().AsTime())
			require.EqualValues(t, 4, m.GetReceiveCount(), "three deliveries in q, this one in dlq")
			requireTime(t, firstReceived, m.GetFirstReceived().AsTime())
			require.Equal(t, "q", m.GetDeadLetterSource())

			// Redrive it back: counts reset, source cleared.
			ts.ok(nackCmd("dlq", 0, m.GetReceiptHandle()))
			require.EqualValues(t, 1, ts.ok(redriveCmd("dlq", "", 0)).GetRedrive().GetMoved())
			back := ts.receive("q", 1, 0)
			require.Len(t, back, 1)
			require.EqualValues(t, 1, back[0].GetReceiveCount())
			require.Empty(t, back[0].GetDeadLetterSource())
			require.Equal(t, sent.GetMessageId(), back[0].GetMessageId())
		})
	}
}

func TestRedrive(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("dlq", stdAttrs()))
	at := stdAttrs()
	at.MaxReceives = 1
	at.DeadLetterQueue = "dlq"
	ts.ok(createQueue("a", at))
	ts.ok(createQueue("b", at))
	ts.ok(createQueue("dest", stdAttrs()))
	ts.ok(sendCmd("a", body("a1"), body("a2")))
	ts.ok(sendCmd("b", body("b1")))
	for _, q := range []string{"a", "b"} {
		ts.receive(q, 10, time.Second)
	}
	ts.advance(time.Second)
	ts.ok(sweepCmd(0))
	require.EqualValues(t, 3, ts.queue("dlq").GetStats().GetVisible())

	// b is deleted: its message stays; max_messages bounds the move.
	ts.ok(deleteQueue("b"))
	require.EqualValues(t, 1, ts.ok(redriveCmd("dlq", "", 1)).GetRedrive().GetMoved())
	require.EqualValues(t, 1, ts.ok(redriveCmd("dlq", "", 0)).GetRedrive().GetMoved())
	require.EqualValues(t, 0, ts.ok(redriveCmd("dlq", "", 0)).GetRedrive().GetMoved())
	require.Equal(t, []string{"a1", "a2"}, bodies(ts.receive("a", 10, 0)))
	require.EqualValues(t, 1, ts.ok(redriveCmd("dlq", "dest", 0)).GetRedrive().GetMoved())
	require.Equal(t, []string{"b1"}, bodies(ts.receive("dest", 10, 0)))

	ts.failsWith(reasonQueueNotFound, redriveCmd("nope", "", 0))
	ts.failsWith(reasonQueueNotFound, redriveCmd("dlq", "nope", 0))
	ts.ok(createQueue("f", fifoAttrs()))
	ts.failsWith(reasonQueueMismatch, redriveCmd("dlq", "f", 0))
}

// TestRedriveResumesPastUnmovable: an entry looks at max_messages plus
// maxReceiveSkips messages; messages that cannot move (here: dead letters of
// a deleted queue) at the head of the dead letter queue use up that window,
// and the next entry resumes after the last message looked at instead of
// looking at them again.
func TestRedriveResumesPastUnmovable(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("dlq", stdAttrs()))
	at := stdAttrs()
	at.MaxReceives = 1
	at.DeadLetterQueue = "dlq"
	ts.ok(createQueue("gone", at))
	ts.ok(createQueue("src", at))
	stuck := maxReceiveSkips + 5
	for i := 0; i < stuck; i += 100 {
		var es []*queuedv1.SendEntry
		for j := i; j < min(i+100, stuck); j++ {
			es = append(es, body(fmt.Sprintf("stuck%d", j)))
		}
		ts.ok(sendCmd("gone", es...))
	}
	for ms := ts.receive("gone", 1000, time.Second); len(ms) > 0; ms = ts.receive("gone", 1000, time.Second) {
	}
	ts.advance(time.Second)
	ts.ok(sendCmd("src", body("s1"), body("s2"), body("s3")))
	ts.receive("src", 10, time.Second)
	ts.advance(time.Second)
	for more := true; more; {
		more = ts.ok(sweepCmd(0)).GetSweep().GetMore()
	}
	require.EqualValues(t, stuck+3, ts.queue("dlq").GetStats().GetVisible())
	ts.ok(deleteQueue("gone"))

	// Two at a time: the first entry's window holds only stuck messages.
	r := ts.ok(redriveCmdAfter("dlq", 2, 0)).GetRedrive()
	require.EqualValues(t, 0, r.GetMoved())
	require.False(t, r.GetDone())
	after := r.GetNextAfter()
	require.NotZero(t, after)
	var moved int64
	for !r.GetDone() {
		r = ts.ok(redriveCmdAfter("dlq", 2, after)).GetRedrive()
		require.Greater(t, r.GetNextAfter(), after, "each entry moves the cursor on")
		moved += r.GetMoved()
		after = r.GetNextAfter()
	}
	require.EqualValues(t, 3, moved)
	require.Equal(t, []string{"s1", "s2", "s3"}, bodies(ts.receive("src", 10, 0)))
	require.EqualValues(t, stuck, ts.queue("dlq").GetStats().GetVisible(), "the stuck messages stay")

	// Past the end: nothing to look at, done.
	r = ts.ok(redriveCmdAfter("dlq", 2, after)).GetRedrive()
	require.True(t, r.GetDone())
	require.Zero(t, r.GetMoved())
	checkInvariants(t, ts.s)
}

// TestSentCountsEveryArrival: a queue's sent counts messages dead-lettered
// and redriven into it, so that sent, acked and dead_lettered agree across
// a source and its dead letter queue.
func TestSentCountsEveryArrival(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("dlq", stdAttrs()))
	at := stdAttrs()
	at.MaxReceives = 1
	at.DeadLetterQueue = "dlq"
	ts.ok(createQueue("q", at))
	ts.ok(sendCmd("q", body("a"), body("b"), body("c")))
	ts.receive("q", 10, time.Second)
	ts.advance(time.Second)
	// One dead letter moves on a receive, the others on a sweep.
	require.Empty(t, ts.receive("q", 1, time.Second))
	ts.ok(sweepCmd(0))
	q, dlq := ts.queue("q").GetStats(), ts.queue("dlq").GetStats()
	require.EqualValues(t, 3, q.GetSent())
	require.EqualValues(t, 3, q.GetDeadLettered())
	require.EqualValues(t, q.GetDeadLettered(), dlq.GetSent(), "every dead letter entered the dead letter queue")
	require.EqualValues(t, 3, dlq.GetVisible())

	require.EqualValues(t, 3, ts.ok(redriveCmd("dlq", "", 0)).GetRedrive().GetMoved())
	q = ts.queue("q").GetStats()
	require.EqualValues(t, 6, q.GetSent(), "3 sends and 3 redriven")
	ms := ts.receive("q", 10, time.Minute)
	require.Len(t, ms, 3)
	ts.ok(ackCmd("q", handles(ms)...))
	q, dlq = ts.queue("q").GetStats(), ts.queue("dlq").GetStats()
	require.EqualValues(t, q.GetSent(), q.GetAcked()+q.GetDeadLettered(), "all that entered q left it")
	require.EqualValues(t, 3, dlq.GetSent())
	checkInvariants(t, ts.s)
}

func TestChangedAndNextDue(t *testing.T) {
	ts := openTestStore(t)
	_, ok := ts.s.NextDue()
	require.False(t, ok)
	ch := ts.s.Changed()
	ts.ok(createQueue("q", stdAttrs()))
	select {
	case <-ch:
		t.Fatal("creating a queue adds no message")
	default:
	}
	ts.ok(sendCmd("q", body("a")))
	<-ch // closed
	ch = ts.s.Changed()
	ms := ts.receive("q", 1, 5*time.Second)
	select {
	case <-ch:
		t.Fatal("a receive exposes nothing")
	default:
	}
	due, ok := ts.s.NextDue()
	require.True(t, ok)
	requireTime(t, ts.now.Add(5*time.Second), due)
	ts.ok(nackCmd("q", 0, ms[0].GetReceiptHandle()))
	<-ch
	// The retention timer remains.
	due, ok = ts.s.NextDue()
	require.True(t, ok)
	requireTime(t, t0.Add(4*24*time.Hour), due)
}
