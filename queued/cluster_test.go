package queued_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued"
	"cairn.dev/cairn/queued/client"
	"cairn.dev/cairn/queued/queuedtest"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, c *queuedtest.Cluster) *client.Client {
	cli, err := client.New(client.Config{Endpoints: c.Endpoints()})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// requireStatus checks a gRPC error's code, reason and (when not "") the
// field its metadata names.
func requireStatus(t *testing.T, err error, code codes.Code, reason rpcerr.Reason, field string) {
	t.Helper()
	require.Error(t, err)
	info, ok := rpcerr.FromError(err)
	require.True(t, ok, "%v is not a status", err)
	require.Equal(t, code, info.Code, "%v", err)
	require.Equal(t, reason, info.Reason, "%v", err)
	if field != "" {
		require.Equal(t, field, info.Metadata[rpcerr.KeyField], "%v", err)
	}
}

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func TestQueueLifecycle(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)

	q, created, err := cli.CreateQueue(ctx, "orders", &queuedv1.QueueAttributes{VisibilityTimeout: dur(2 * time.Second)})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, 2*time.Second, q.GetAttributes().GetVisibilityTimeout().AsDuration())
	require.Equal(t, queued.DefaultRetention, q.GetAttributes().GetRetention().AsDuration(), "defaults are filled in")

	_, created, err = cli.CreateQueue(ctx, "orders", &queuedv1.QueueAttributes{VisibilityTimeout: dur(2 * time.Second)})
	require.NoError(t, err, "the same attributes again")
	require.False(t, created)
	_, _, err = cli.CreateQueue(ctx, "orders", &queuedv1.QueueAttributes{VisibilityTimeout: dur(3 * time.Second)})
	require.ErrorIs(t, err, client.ErrQueueExists)
	requireStatus(t, err, codes.AlreadyExists, rpcerr.QueueExists, "")

	q, err = cli.SetQueueAttributes(ctx, "orders", &queuedv1.QueueAttributes{DeliveryDelay: dur(time.Second)}, "delivery_delay")
	require.NoError(t, err)
	require.Equal(t, time.Second, q.GetAttributes().GetDeliveryDelay().AsDuration())
	require.Equal(t, 2*time.Second, q.GetAttributes().GetVisibilityTimeout().AsDuration(), "fields outside the mask stay")

	for _, name := range []string{"b-queue", "a-queue", "other"} {
		_, _, err := cli.CreateQueue(ctx, name, nil)
		require.NoError(t, err)
	}
	qs, next, err := cli.ListQueues(ctx, "", "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"a-queue", "b-queue"}, names(qs))
	qs, next, err = cli.ListQueues(ctx, "", next, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"orders", "other"}, names(qs))
	require.Empty(t, next)
	qs, _, err = cli.ListQueues(ctx, "o", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"orders", "other"}, names(qs))

	for i := range 3 {
		_, err := cli.SendMessage(ctx, "other", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	n, err := cli.PurgeQueue(ctx, "other")
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	msgs, err := cli.Receive(ctx, "other", client.WithWait(0))
	require.NoError(t, err)
	require.Empty(t, msgs, "purged")

	require.NoError(t, cli.DeleteQueue(ctx, "other"))
	_, err = cli.GetQueue(ctx, "other")
	require.ErrorIs(t, err, client.ErrQueueNotFound)

	st, err := cli.Status(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, st.GetQueues())
	require.Len(t, st.GetMembers(), 3)
}

func names(qs []*queuedv1.Queue) []string {
	out := []string{}
	for _, q := range qs {
		out = append(out, q.GetName())
	}
	return out
}

// TestBadInput sends malformed and misfit requests straight over gRPC to a
// follower: each fails with its code, reason and field.
func TestBadInput(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	f := c.Follower()
	qs := queuedv1.NewQueueServiceClient(f.Conn)
	ts := queuedv1.NewTopicServiceClient(f.Conn)
	ctx := ctxFor(t, 60*time.Second)
	_, err := qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "std"})
	require.NoError(t, err)
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "fifo", Attributes: &queuedv1.QueueAttributes{Type: queuedv1.QueueType_QUEUE_TYPE_FIFO}})
	require.NoError(t, err)
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "small", Attributes: &queuedv1.QueueAttributes{MaxMessageBytes: 1024}})
	require.NoError(t, err)

	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "bad name"})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "name")
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "q", Attributes: &queuedv1.QueueAttributes{VisibilityTimeout: dur(13 * time.Hour)}})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "attributes.visibility_timeout")
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "q", Attributes: &queuedv1.QueueAttributes{MaxReceives: 3, DeadLetterQueue: "missing"}})
	requireStatus(t, err, codes.NotFound, rpcerr.QueueNotFound, "")
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "q", Attributes: &queuedv1.QueueAttributes{MaxReceives: 3, DeadLetterQueue: "fifo"}})
	requireStatus(t, err, codes.FailedPrecondition, rpcerr.QueueMismatch, "")
	// A loop through two queues.
	_, err = qs.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: "a", Attributes: &queuedv1.QueueAttributes{MaxReceives: 3, DeadLetterQueue: "std"}})
	require.NoError(t, err)
	_, err = qs.SetQueueAttributes(ctx, &queuedv1.SetQueueAttributesRequest{Name: "std", Attributes: &queuedv1.QueueAttributes{MaxReceives: 2, DeadLetterQueue: "a"}, Mask: []string{"max_receives", "dead_letter_queue"}})
	requireStatus(t, err, codes.FailedPrecondition, rpcerr.DeadLetterLoop, "")
	_, err = qs.SetQueueAttributes(ctx, &queuedv1.SetQueueAttributesRequest{Name: "std", Mask: []string{"type"}})
	requireStatus(t, err, codes.FailedPrecondition, rpcerr.QueueMismatch, "mask[0]")

	_, err = qs.Send(ctx, &queuedv1.SendRequest{Queue: "nope", Entries: []*queuedv1.SendEntry{{Body: []byte("x")}}})
	requireStatus(t, err, codes.NotFound, rpcerr.QueueNotFound, "")
	_, err = qs.Send(ctx, &queuedv1.SendRequest{Queue: "std"})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "entries")
	resp, err := qs.Send(ctx, &queuedv1.SendRequest{Queue: "std", Entries: []*queuedv1.SendEntry{
		{Id: "ok", Body: []byte("x")},
		{Id: "group", Body: []byte("x"), GroupId: "g"},
		{Id: "empty"},
	}})
	require.NoError(t, err, "entries fail one by one")
	require.Len(t, resp.GetResults(), 1)
	require.Equal(t, "ok", resp.GetResults()[0].GetId())
	reasons := map[string]string{}
	for _, e := range resp.GetErrors() {
		reasons[e.GetId()] = e.GetReason()
	}
	require.Equal(t, map[string]string{"group": "QUEUE_MISMATCH", "empty": "INVALID_ARGUMENT"}, reasons)

	resp, err = qs.Send(ctx, &queuedv1.SendRequest{Queue: "small", Entries: []*queuedv1.SendEntry{{Body: make([]byte, 2000)}}})
	require.NoError(t, err)
	require.Len(t, resp.GetErrors(), 1)
	require.Equal(t, "LIMIT_EXCEEDED", resp.GetErrors()[0].GetReason(), "over the queue's max_message_bytes")

	resp, err = qs.Send(ctx, &queuedv1.SendRequest{Queue: "fifo", Entries: []*queuedv1.SendEntry{{Id: "nogroup", Body: []byte("x")}, {Id: "delay", Body: []byte("x"), GroupId: "g", Delay: dur(time.Second)}}})
	require.NoError(t, err)
	require.Len(t, resp.GetErrors(), 2)

	// A FIFO queue without content-based deduplication needs a
	// deduplication id on every send, as SQS does: the entry fails,
	// INVALID_ARGUMENT naming the field of the request's entry.
	resp, err = qs.Send(ctx, &queuedv1.SendRequest{Queue: "fifo", Entries: []*queuedv1.SendEntry{
		{Id: "bad", Body: []byte("x"), GroupId: "g", Delay: dur(time.Second)},
		{Id: "ok", Body: []byte("x"), GroupId: "g", DeduplicationId: "d1"},
		{Id: "nodedup", Body: []byte("y"), GroupId: "g"},
	}})
	require.NoError(t, err)
	require.Len(t, resp.GetResults(), 1)
	require.Equal(t, "ok", resp.GetResults()[0].GetId())
	byID := map[string]*queuedv1.EntryError{}
	for _, e := range resp.GetErrors() {
		byID[e.GetId()] = e
	}
	require.Equal(t, "INVALID_ARGUMENT", byID["nodedup"].GetReason())
	require.Equal(t, "entries[2].deduplication_id", byID["nodedup"].GetField())
	require.True(t, byID["nodedup"].GetSenderFault())
	require.Contains(t, byID["nodedup"].GetMessage(), "deduplication_id")
	cli := newClient(t, c)
	_, err = cli.SendMessage(ctx, "fifo", []byte("z"), client.WithGroup("g"))
	require.ErrorIs(t, err, client.ErrInvalidArgument)
	_, err = cli.SendMessage(ctx, "fifo", []byte("z"), client.WithGroup("g"), client.WithDeduplicationID("z"))
	require.NoError(t, err)
	// A publish into a FIFO subscriber without an id fails as a whole.
	_, err = ts.CreateTopic(ctx, &queuedv1.CreateTopicRequest{Name: "ft"})
	require.NoError(t, err)
	_, err = ts.Subscribe(ctx, &queuedv1.SubscribeRequest{Topic: "ft", Subscription: &queuedv1.Subscription{Queue: "fifo"}})
	require.NoError(t, err)
	_, err = ts.Publish(ctx, &queuedv1.PublishRequest{Topic: "ft", Body: []byte("p"), GroupId: "g"})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "deduplication_id")

	_, err = qs.Receive(ctx, &queuedv1.ReceiveRequest{Queue: "std", MaxMessages: 101})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "max_messages")
	_, err = qs.Receive(ctx, &queuedv1.ReceiveRequest{Queue: "nope"})
	requireStatus(t, err, codes.NotFound, rpcerr.QueueNotFound, "")
	_, err = qs.Receive(ctx, &queuedv1.ReceiveRequest{Queue: "nope", Wait: dur(time.Second)})
	requireStatus(t, err, codes.NotFound, rpcerr.QueueNotFound, "")
	_, err = qs.Ack(ctx, &queuedv1.AckRequest{Queue: "std", Entries: []*queuedv1.ReceiptEntry{{}}})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "entries[0].receipt_handle")
	ack, err := qs.Ack(ctx, &queuedv1.AckRequest{Queue: "std", Entries: []*queuedv1.ReceiptEntry{{Id: "x", ReceiptHandle: "garbage"}}})
	require.NoError(t, err)
	require.Len(t, ack.GetErrors(), 1)
	require.Equal(t, "RECEIPT_INVALID", ack.GetErrors()[0].GetReason())
	_, err = qs.ExtendVisibility(ctx, &queuedv1.ExtendVisibilityRequest{Queue: "std", Entries: []*queuedv1.VisibilityEntry{{ReceiptHandle: "h", Timeout: dur(13 * time.Hour)}}})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "entries[0].timeout")

	_, err = ts.Publish(ctx, &queuedv1.PublishRequest{Topic: "nope", Body: []byte("x")})
	requireStatus(t, err, codes.NotFound, rpcerr.TopicNotFound, "")
	_, err = ts.Subscribe(ctx, &queuedv1.SubscribeRequest{Topic: "t"})
	requireStatus(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, "subscription")
	_, err = ts.GetTopic(ctx, &queuedv1.GetTopicRequest{Name: "nope"})
	requireStatus(t, err, codes.NotFound, rpcerr.TopicNotFound, "")
}

// TestLongPollWakesOnSend: a receive waiting on a follower returns as soon as
// a message is sent, long before its wait ends.
func TestLongPollWakesOnSend(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "jobs", nil)
	require.NoError(t, err)

	f := c.Follower()
	qs := queuedv1.NewQueueServiceClient(f.Conn)
	type result struct {
		resp *queuedv1.ReceiveResponse
		err  error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		resp, err := qs.Receive(ctx, &queuedv1.ReceiveRequest{Queue: "jobs", Wait: dur(15 * time.Second)})
		done <- result{resp, err}
	}()
	nodetest.WaitFor(t, 10*time.Second, "the receive to wait", func() bool { return f.Server.Waiting() == 1 })
	_, err = cli.SendMessage(ctx, "jobs", []byte("wake up"))
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.resp.GetMessages(), 1)
	require.Equal(t, "wake up", string(r.resp.GetMessages()[0].GetBody()))
	require.Less(t, time.Since(start), 10*time.Second)
	require.Zero(t, f.Server.Waiting())

	// A wait with nothing ends empty.
	resp, err := qs.Receive(ctx, &queuedv1.ReceiveRequest{Queue: "jobs", Wait: dur(200 * time.Millisecond)})
	require.NoError(t, err)
	require.Empty(t, resp.GetMessages())
}

// TestVisibilityExpiryRedelivers: an unacked message comes back after its
// visibility timeout with a new receipt; the old receipt is refused.
func TestVisibilityExpiryRedelivers(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "jobs", nil)
	require.NoError(t, err)
	_, err = cli.SendMessage(ctx, "jobs", []byte("m"))
	require.NoError(t, err)

	first, err := cli.Receive(ctx, "jobs", client.WithVisibilityTimeout(300*time.Millisecond), client.WithWait(0))
	require.NoError(t, err)
	require.Len(t, first, 1)
	require.EqualValues(t, 1, first[0].GetReceiveCount())
	none, err := cli.Receive(ctx, "jobs", client.WithWait(0))
	require.NoError(t, err)
	require.Empty(t, none, "invisible while in flight")

	second, err := cli.Receive(ctx, "jobs", client.WithWait(10*time.Second), client.WithVisibilityTimeout(time.Minute))
	require.NoError(t, err)
	require.Len(t, second, 1, "redelivered after the visibility timeout")
	require.EqualValues(t, 2, second[0].GetReceiveCount())
	require.Equal(t, first[0].GetMessageId(), second[0].GetMessageId())

	resp, err := cli.Ack(ctx, "jobs", first[0].GetReceiptHandle())
	require.NoError(t, err)
	require.Len(t, resp.GetErrors(), 1)
	require.ErrorIs(t, client.EntryErr("ack", resp.GetErrors()[0]), client.ErrReceiptStale)

	ext, err := cli.ExtendVisibility(ctx, "jobs", time.Minute, second[0].GetReceiptHandle())
	require.NoError(t, err)
	require.Empty(t, ext.GetErrors())
	resp, err = cli.Ack(ctx, "jobs", second[0].GetReceiptHandle())
	require.NoError(t, err)
	require.Empty(t, resp.GetErrors())
	resp, err = cli.Ack(ctx, "jobs", second[0].GetReceiptHandle())
	require.NoError(t, err)
	require.Empty(t, resp.GetErrors(), "acking a gone message succeeds")
}

// TestDeadLetterAfterMaxReceives: a poison message is delivered exactly
// max_receives times, then lands in the dead letter queue; redrive brings it
// back.
func TestDeadLetterAfterMaxReceives(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "orders-dlq", nil)
	require.NoError(t, err)
	_, _, err = cli.CreateQueue(ctx, "orders", &queuedv1.QueueAttributes{VisibilityTimeout: dur(200 * time.Millisecond), MaxReceives: 3, DeadLetterQueue: "orders-dlq"})
	require.NoError(t, err)
	sent, err := cli.SendMessage(ctx, "orders", []byte(`{"order":1}`))
	require.NoError(t, err)

	for i := 1; i <= 3; i++ {
		msgs, err := cli.Receive(ctx, "orders", client.WithWait(10*time.Second))
		require.NoError(t, err)
		require.Len(t, msgs, 1, "delivery %d", i)
		require.EqualValues(t, i, msgs[0].GetReceiveCount())
	}
	dl, err := cli.Receive(ctx, "orders-dlq", client.WithWait(10*time.Second), client.WithVisibilityTimeout(100*time.Millisecond))
	require.NoError(t, err)
	require.Len(t, dl, 1)
	require.Equal(t, sent.GetMessageId(), dl[0].GetMessageId())
	require.Equal(t, "orders", dl[0].GetDeadLetterSource())
	require.EqualValues(t, 4, dl[0].GetReceiveCount(), "its history: 3 deliveries in orders, this one")
	none, err := cli.Receive(ctx, "orders", client.WithWait(0))
	require.NoError(t, err)
	require.Empty(t, none)

	nodetest.WaitFor(t, 10*time.Second, "the dead-lettered count", func() bool {
		q, err := cli.GetQueue(ctx, "orders")
		return err == nil && q.GetStats().GetDeadLettered() == 1
	})

	// Redrive once the DLQ delivery's deadline passed.
	nodetest.WaitFor(t, 10*time.Second, "the redrive", func() bool {
		n, err := cli.Redrive(ctx, "orders-dlq", "", 0)
		require.NoError(t, err)
		return n == 1
	})
	back, err := cli.Receive(ctx, "orders", client.WithWait(10*time.Second))
	require.NoError(t, err)
	require.Len(t, back, 1)
	require.Equal(t, sent.GetMessageId(), back[0].GetMessageId())
	require.EqualValues(t, 1, back[0].GetReceiveCount(), "redrive resets the count")
}

// TestRedrivePastStuckHead: dead letters that cannot return (their source
// was deleted) lead the dead letter queue, more of them than one redrive
// entry looks at; the redrive still moves every movable message behind them.
func TestRedrivePastStuckHead(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 120*time.Second)
	_, _, err := cli.CreateQueue(ctx, "dlq", nil)
	require.NoError(t, err)
	for _, q := range []string{"gone", "src"} {
		_, _, err = cli.CreateQueue(ctx, q, &queuedv1.QueueAttributes{VisibilityTimeout: dur(100 * time.Millisecond), MaxReceives: 1, DeadLetterQueue: "dlq"})
		require.NoError(t, err)
	}
	// More stuck messages than an entry of max_messages 2 looks at (2 +
	// the state machine's 1000 skips).
	const stuck = 1010
	for i := 0; i < stuck; i += queued.MaxBatchEntries {
		var es []*queuedv1.SendEntry
		for j := i; j < min(i+queued.MaxBatchEntries, stuck); j++ {
			es = append(es, &queuedv1.SendEntry{Id: fmt.Sprint(j), Body: []byte(fmt.Sprintf("stuck%d", j))})
		}
		resp, err := cli.Send(ctx, "gone", es...)
		require.NoError(t, err)
		require.Empty(t, resp.GetErrors())
	}
	received := 0
	for received < stuck {
		msgs, err := cli.Receive(ctx, "gone", client.WithMaxMessages(queued.MaxReceiveMessages), client.WithWait(0))
		require.NoError(t, err)
		received += len(msgs)
	}
	nodetest.WaitFor(t, 30*time.Second, "the stuck dead letters", func() bool {
		q, err := cli.GetQueue(ctx, "dlq")
		return err == nil && q.GetStats().GetVisible() == stuck
	})
	require.NoError(t, cli.DeleteQueue(ctx, "gone"))
	for _, b := range []string{"s1", "s2", "s3"} {
		_, err := cli.SendMessage(ctx, "src", []byte(b))
		require.NoError(t, err)
	}
	msgs, err := cli.Receive(ctx, "src", client.WithMaxMessages(10), client.WithWait(0))
	require.NoError(t, err)
	require.Len(t, msgs, 3)
	nodetest.WaitFor(t, 30*time.Second, "the movable dead letters", func() bool {
		q, err := cli.GetQueue(ctx, "dlq")
		return err == nil && q.GetStats().GetVisible() == stuck+3
	})

	n, err := cli.Redrive(ctx, "dlq", "", 2)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "max_messages 2, past the stuck head")
	n, err = cli.Redrive(ctx, "dlq", "", 0)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the rest")
	back, err := cli.Receive(ctx, "src", client.WithMaxMessages(10), client.WithWait(0))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"s1", "s2", "s3"}, bodies(back))
	q, err := cli.GetQueue(ctx, "dlq")
	require.NoError(t, err)
	require.EqualValues(t, stuck, q.GetStats().GetVisible()+q.GetStats().GetInFlight()+q.GetStats().GetDelayed())
}

// TestFIFOAcrossLeaderKill: within a group strict order and one in flight,
// other groups not blocked, across a leader change.
func TestFIFOAcrossLeaderKill(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 90*time.Second)
	_, _, err := cli.CreateQueue(ctx, "fifo", &queuedv1.QueueAttributes{Type: queuedv1.QueueType_QUEUE_TYPE_FIFO, VisibilityTimeout: dur(time.Minute)})
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		_, err := cli.SendMessage(ctx, "fifo", []byte(fmt.Sprintf("a%d", i)), client.WithGroup("a"), client.WithDeduplicationID(fmt.Sprintf("a%d", i)))
		require.NoError(t, err)
	}
	_, err = cli.SendMessage(ctx, "fifo", []byte("b1"), client.WithGroup("b"), client.WithDeduplicationID("b1"))
	require.NoError(t, err)
	dup, err := cli.SendMessage(ctx, "fifo", []byte("a1 again"), client.WithGroup("a"), client.WithDeduplicationID("a1"))
	require.NoError(t, err)
	require.True(t, dup.GetDuplicate())

	msgs, err := cli.Receive(ctx, "fifo", client.WithMaxMessages(10), client.WithWait(0))
	require.NoError(t, err)
	require.Equal(t, []string{"a1", "b1"}, bodies(msgs), "one per group, heads in order")
	more, err := cli.Receive(ctx, "fifo", client.WithMaxMessages(10), client.WithWait(0))
	require.NoError(t, err)
	require.Empty(t, more, "heads in flight block their groups")

	c.Stop(c.WaitLeader())
	c.WaitLeader()
	ackAll(t, ctx, cli, "fifo", msgs[:1]) // a1
	for _, want := range []string{"a2", "a3", "a4"} {
		got, err := cli.Receive(ctx, "fifo", client.WithMaxMessages(10), client.WithWait(10*time.Second))
		require.NoError(t, err)
		require.Equal(t, []string{want}, bodies(got), "b1 is still in flight")
		ackAll(t, ctx, cli, "fifo", got)
	}
}

func bodies(msgs []*queuedv1.Message) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, string(m.GetBody()))
	}
	return out
}

func ackAll(t *testing.T, ctx context.Context, cli *client.Client, queue string, msgs []*queuedv1.Message) {
	t.Helper()
	var hs []string
	for _, m := range msgs {
		hs = append(hs, m.GetReceiptHandle())
	}
	resp, err := cli.Ack(ctx, queue, hs...)
	require.NoError(t, err)
	require.Empty(t, resp.GetErrors())
}

// TestAckedSendsSurvive: every acknowledged send is received after the
// leader is killed and after the whole cluster restarts (with fsync on).
func TestAckedSendsSurvive(t *testing.T) {
	c := queuedtest.New(t, 3, func(cfg *queued.Config) { cfg.NoSync = false })
	cli := newClient(t, c)
	ctx := ctxFor(t, 120*time.Second)
	_, _, err := cli.CreateQueue(ctx, "durable", nil)
	require.NoError(t, err)
	want := map[string]bool{}
	send := func(n int) {
		for i := range n {
			body := fmt.Sprintf("m-%d-%d", len(want), i)
			_, err := cli.SendMessage(ctx, "durable", []byte(body))
			require.NoError(t, err)
			want[body] = true
		}
	}
	send(20)
	c.Stop(c.WaitLeader())
	c.WaitLeader()
	send(10)
	for _, m := range c.All() {
		c.Stop(m.ID)
	}
	for _, m := range c.All() {
		c.Restart(m.ID)
	}
	c.WaitLeader()
	got := map[string]bool{}
	for len(got) < len(want) {
		msgs, err := cli.Receive(ctx, "durable", client.WithMaxMessages(100), client.WithWait(5*time.Second), client.WithVisibilityTimeout(time.Minute))
		require.NoError(t, err)
		require.NotEmpty(t, msgs, "lost: have %d of %d", len(got), len(want))
		for _, m := range msgs {
			got[string(m.GetBody())] = true
		}
	}
	require.Equal(t, want, got)
}

// TestConsumePrefetch: a Consume stream keeps at most prefetch deliveries
// unsettled and gets more as it acks.
func TestConsumePrefetch(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "stream", &queuedv1.QueueAttributes{VisibilityTimeout: dur(time.Minute)})
	require.NoError(t, err)
	for i := range 10 {
		_, err := cli.SendMessage(ctx, "stream", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	cons, err := cli.Consume(ctx, "stream", 3, 0)
	require.NoError(t, err)
	defer cons.Close()
	var got []*queuedv1.Message
	for len(got) < 3 {
		resp, err := cons.Recv()
		require.NoError(t, err)
		got = append(got, resp.GetMessages()...)
	}
	require.Len(t, got, 3)
	// Ack two: an outcome without errors, then two more deliveries.
	require.NoError(t, cons.Ack(got[0].GetReceiptHandle(), got[1].GetReceiptHandle()))
	var more []*queuedv1.Message
	settled := false
	for !settled || len(more) < 2 {
		resp, err := cons.Recv()
		require.NoError(t, err)
		if len(resp.GetMessages()) == 0 {
			require.Empty(t, resp.GetErrors())
			settled = true
		}
		more = append(more, resp.GetMessages()...)
	}
	require.Len(t, more, 2)
	// The stream holds 3 unsettled and has taken nothing else: the other 5
	// are still there.
	rest, err := cli.Receive(ctx, "stream", client.WithMaxMessages(100), client.WithWait(0))
	require.NoError(t, err)
	require.Len(t, rest, 5)
	all := append(append(bodies(got), bodies(more)...), bodies(rest)...)
	sort.Strings(all)
	require.Equal(t, "0 1 2 3 4 5 6 7 8 9", strings.Join(all, " "))
}

// TestTopicsFanOut: a publish lands once in every subscribed queue whose
// filter matches.
func TestTopicsFanOut(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, created, err := cli.CreateTopic(ctx, "order.created")
	require.NoError(t, err)
	require.True(t, created)
	for _, q := range []string{"payments", "email", "eu-only"} {
		_, _, err := cli.CreateQueue(ctx, q, nil)
		require.NoError(t, err)
	}
	_, err = cli.Subscribe(ctx, "order.created", "payments", nil)
	require.NoError(t, err)
	_, err = cli.Subscribe(ctx, "order.created", "email", nil)
	require.NoError(t, err)
	_, err = cli.Subscribe(ctx, "order.created", "eu-only", map[string][]string{"region": {"eu"}})
	require.NoError(t, err)

	delivered, err := cli.Publish(ctx, &queuedv1.PublishRequest{Topic: "order.created", Body: []byte(`{"order":2}`),
		Attributes: map[string]*queuedv1.AttributeValue{"region": {DataType: "String", StringValue: "us"}}})
	require.NoError(t, err)
	var qs []string
	for _, d := range delivered {
		qs = append(qs, d.GetQueue())
	}
	sort.Strings(qs)
	require.Equal(t, []string{"email", "payments"}, qs)
	for _, q := range []string{"payments", "email"} {
		msgs, err := cli.Receive(ctx, q, client.WithWait(5*time.Second))
		require.NoError(t, err)
		require.Equal(t, []string{`{"order":2}`}, bodies(msgs))
	}
	_, err = cli.Unsubscribe(ctx, "order.created", "email")
	require.NoError(t, err)
	tp, err := cli.GetTopic(ctx, "order.created")
	require.NoError(t, err)
	require.Len(t, tp.GetSubscriptions(), 2)
	ts, _, err := cli.ListTopics(ctx, "", "", 0)
	require.NoError(t, err)
	require.Len(t, ts, 1)
}

// TestConsumeSettleOutcomes: acks on a stream are answered with the failures
// named by receipt handle; the same handle acked twice is settled once; a
// bad handle fails alone, and the stream goes on delivering.
func TestConsumeSettleOutcomes(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "settle", &queuedv1.QueueAttributes{VisibilityTimeout: dur(time.Minute)})
	require.NoError(t, err)
	for i := range 4 {
		_, err := cli.SendMessage(ctx, "settle", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	cons, err := cli.Consume(ctx, "settle", 2, 0)
	require.NoError(t, err)
	defer cons.Close()
	// recv reads until n deliveries and want outcomes arrived.
	recv := func(n, want int) ([]*queuedv1.Message, []*queuedv1.EntryError) {
		var msgs []*queuedv1.Message
		var errs []*queuedv1.EntryError
		outcomes := 0
		for len(msgs) < n || outcomes < want {
			resp, err := cons.Recv()
			require.NoError(t, err)
			if len(resp.GetMessages()) == 0 {
				outcomes++
				errs = append(errs, resp.GetErrors()...)
			}
			msgs = append(msgs, resp.GetMessages()...)
		}
		return msgs, errs
	}
	got, _ := recv(2, 0)
	h := got[0].GetReceiptHandle()
	require.NoError(t, cons.Ack(h, h, "AQAAbogus"))
	more, errs := recv(1, 1)
	require.Len(t, errs, 1, "only the bogus handle fails")
	require.Equal(t, "AQAAbogus", errs[0].GetId())
	require.Equal(t, "RECEIPT_INVALID", errs[0].GetReason())
	require.Len(t, more, 1, "one delivery left the window, one more came")
	// The acked message is gone: the other three remain.
	q, err := cli.GetQueue(ctx, "settle")
	require.NoError(t, err)
	st := q.GetStats()
	require.EqualValues(t, 3, st.GetVisible()+st.GetInFlight()+st.GetDelayed())
}
