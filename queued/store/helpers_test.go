package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// t0 is the command time tests start at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testStore wraps a Store with a Raft index and a command clock that tests
// move by hand: every time the store sees comes from them.
type testStore struct {
	t    testing.TB
	s    *Store
	path string
	opts Options
	idx  uint64
	now  time.Time
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTestStore opens a store with the default commit policy, without
// fsync.
func openTestStore(t testing.TB) *testStore {
	t.Helper()
	return openTestStoreWith(t, Options{})
}

// openTestStoreWith opens a store with opts, without fsync and logging to t.
func openTestStoreWith(t testing.TB, opts Options) *testStore {
	t.Helper()
	opts.NoSync = true
	opts.Logger = testLogger(t)
	path := filepath.Join(t.TempDir(), "queued.db")
	s, err := Open(path, opts)
	require.NoError(t, err)
	ts := &testStore{t: t, s: s, path: path, opts: opts, now: t0}
	t.Cleanup(func() { require.NoError(t, ts.s.Close()) })
	return ts
}

// reopen closes the store and opens its file again.
func (ts *testStore) reopen() {
	ts.t.Helper()
	require.NoError(ts.t, ts.s.Close())
	s, err := Open(ts.path, ts.opts)
	require.NoError(ts.t, err)
	ts.s = s
}

func (ts *testStore) advance(d time.Duration) { ts.now = ts.now.Add(d) }

// entry makes the next log entry of cmd, stamped with the test clock.
func (ts *testStore) entry(cmd *queuedraftv1.Command) raftnode.Entry {
	ts.t.Helper()
	cmd.UnixNanos = ts.now.UnixNano()
	data, err := proto.Marshal(cmd)
	require.NoError(ts.t, err)
	ts.idx++
	return raftnode.Entry{Index: ts.idx, Term: 1, Data: data}
}

// apply applies cmds as one batch and returns their results.
func (ts *testStore) apply(cmds ...*queuedraftv1.Command) []*queuedraftv1.CommandResult {
	ts.t.Helper()
	entries := make([]raftnode.Entry, len(cmds))
	for i, c := range cmds {
		entries[i] = ts.entry(c)
	}
	raw, err := ts.s.ApplyBatch(entries)
	require.NoError(ts.t, err)
	require.Len(ts.t, raw, len(cmds))
	out := make([]*queuedraftv1.CommandResult, len(raw))
	for i, b := range raw {
		out[i] = &queuedraftv1.CommandResult{}
		require.NoError(ts.t, proto.Unmarshal(b, out[i]))
	}
	checkInvariants(ts.t, ts.s)
	return out
}

func (ts *testStore) one(cmd *queuedraftv1.Command) *queuedraftv1.CommandResult {
	ts.t.Helper()
	return ts.apply(cmd)[0]
}

// ok applies cmd and requires that it succeeded as a whole.
func (ts *testStore) ok(cmd *queuedraftv1.Command) *queuedraftv1.CommandResult {
	ts.t.Helper()
	r := ts.one(cmd)
	require.Empty(ts.t, r.GetError(), r.GetErrorMessage())
	return r
}

// failsWith applies cmd and requires that it failed with reason.
func (ts *testStore) failsWith(reason string, cmd *queuedraftv1.Command) {
	ts.t.Helper()
	r := ts.one(cmd)
	require.Equal(ts.t, reason, r.GetError(), r.GetErrorMessage())
	require.Nil(ts.t, r.GetResult())
}

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// stdAttrs are complete attributes of a standard queue, as the proposer
// fills them in.
func stdAttrs() *queuedv1.QueueAttributes {
	return &queuedv1.QueueAttributes{
		Type:              queuedv1.QueueType_QUEUE_TYPE_STANDARD,
		VisibilityTimeout: dur(30 * time.Second),
		Retention:         dur(4 * 24 * time.Hour),
		DeliveryDelay:     dur(0),
		MaxMessageBytes:   256 << 10,
		ReceiveWait:       dur(0),
	}
}

func fifoAttrs() *queuedv1.QueueAttributes {
	a := stdAttrs()
	a.Type = queuedv1.QueueType_QUEUE_TYPE_FIFO
	return a
}

func createQueue(name string, at *queuedv1.QueueAttributes) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_CreateQueue{CreateQueue: &queuedraftv1.CreateQueueOp{Name: name, Attributes: at}}}
}

func setAttrs(name string, at *queuedv1.QueueAttributes, mask ...string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_SetQueueAttributes{SetQueueAttributes: &queuedraftv1.SetQueueAttributesOp{Name: name, Attributes: at, Mask: mask}}}
}

func deleteQueue(name string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_DeleteQueue{DeleteQueue: &queuedraftv1.DeleteQueueOp{Name: name}}}
}

func purgeQueue(name string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_PurgeQueue{PurgeQueue: &queuedraftv1.PurgeQueueOp{Name: name}}}
}

func sendCmd(queue string, entries ...*queuedv1.SendEntry) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Send{Send: &queuedraftv1.SendOp{Queue: queue, Entries: entries}}}
}

func body(s string) *queuedv1.SendEntry { return &queuedv1.SendEntry{Body: []byte(s)} }

// fifoBody is a FIFO entry whose deduplication id is its group and body.
func fifoBody(s, group string) *queuedv1.SendEntry {
	return &queuedv1.SendEntry{Body: []byte(s), GroupId: group, DeduplicationId: group + "/" + s}
}

// fifoNoID is a FIFO entry without a deduplication id.
func fifoNoID(s, group string) *queuedv1.SendEntry {
	return &queuedv1.SendEntry{Body: []byte(s), GroupId: group}
}

func receiveCmd(queue string, n uint32, vis time.Duration) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Receive{Receive: &queuedraftv1.ReceiveOp{Queue: queue, MaxMessages: n, VisibilityTimeoutNanos: int64(vis)}}}
}

func settleEntries(handles []string, d time.Duration) []*queuedv1.VisibilityEntry {
	out := make([]*queuedv1.VisibilityEntry, len(handles))
	for i, h := range handles {
		out[i] = &queuedv1.VisibilityEntry{ReceiptHandle: h}
		if d != 0 {
			out[i].Timeout = dur(d)
		}
	}
	return out
}

func ackCmd(queue string, handles ...string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Ack{Ack: &queuedraftv1.SettleOp{Queue: queue, Entries: settleEntries(handles, 0)}}}
}

func nackCmd(queue string, delay time.Duration, handles ...string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Nack{Nack: &queuedraftv1.SettleOp{Queue: queue, Entries: settleEntries(handles, delay)}}}
}

func extendCmd(queue string, timeout time.Duration, handles ...string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Extend{Extend: &queuedraftv1.SettleOp{Queue: queue, Entries: settleEntries(handles, timeout)}}}
}

func sweepCmd(max uint32) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Sweep{Sweep: &queuedraftv1.SweepOp{MaxChanges: max}}}
}

func redriveCmd(dlq, dest string, max uint32) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Redrive{Redrive: &queuedraftv1.RedriveOp{DeadLetterQueue: dlq, Destination: dest, MaxMessages: max}}}
}

func redriveCmdAfter(dlq string, max uint32, after uint64) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Redrive{Redrive: &queuedraftv1.RedriveOp{DeadLetterQueue: dlq, MaxMessages: max, AfterSequence: after}}}
}

func createTopic(name string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_CreateTopic{CreateTopic: &queuedraftv1.CreateTopicOp{Name: name}}}
}

func deleteTopic(name string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_DeleteTopic{DeleteTopic: &queuedraftv1.DeleteTopicOp{Name: name}}}
}

func subscribeCmd(topic, queue string, filter map[string][]string) *queuedraftv1.Command {
	sub := &queuedv1.Subscription{Queue: queue}
	if filter != nil {
		sub.Filter = map[string]*queuedv1.FilterValues{}
		for k, v := range filter {
			sub.Filter[k] = &queuedv1.FilterValues{Values: v}
		}
	}
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Subscribe{Subscribe: &queuedraftv1.SubscribeOp{Topic: topic, Subscription: sub}}}
}

func unsubscribeCmd(topic, queue string) *queuedraftv1.Command {
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Unsubscribe{Unsubscribe: &queuedraftv1.UnsubscribeOp{Topic: topic, Queue: queue}}}
}

func publishCmd(topic, b, group string, attrs map[string]string) *queuedraftv1.Command {
	op := &queuedraftv1.PublishOp{Topic: topic, Body: []byte(b), GroupId: group}
	if group != "" {
		op.DeduplicationId = group + "/" + b
	}
	if attrs != nil {
		op.Attributes = map[string]*queuedv1.AttributeValue{}
		for k, v := range attrs {
			op.Attributes[k] = &queuedv1.AttributeValue{DataType: "String", StringValue: v}
		}
	}
	return &queuedraftv1.Command{Op: &queuedraftv1.Command_Publish{Publish: op}}
}

// receive receives up to n messages of queue and returns them.
func (ts *testStore) receive(queue string, n uint32, vis time.Duration) []*queuedv1.Message {
	ts.t.Helper()
	return ts.ok(receiveCmd(queue, n, vis)).GetReceive().GetMessages()
}

func bodies(ms []*queuedv1.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.GetBody())
	}
	return out
}

func handles(ms []*queuedv1.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.GetReceiptHandle()
	}
	return out
}

// queue reads a queue at the test clock.
func (ts *testStore) queue(name string) *queuedv1.Queue {
	ts.t.Helper()
	q, err := ts.s.GetQueue(name, ts.now)
	require.NoError(ts.t, err)
	return q
}

// dump returns every bucket's keys and values, nested buckets included, as
// text: two stores in the same state dump the same.
func dump(t testing.TB, s *Store) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.view(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			dumpBucket(&buf, fmt.Sprintf("%x", name), b)
			return nil
		})
	}))
	return buf.String()
}

func dumpBucket(buf *bytes.Buffer, path string, b *bbolt.Bucket) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				dumpBucket(buf, fmt.Sprintf("%s/%x", path, k), sub)
				continue
			}
		}
		fmt.Fprintf(buf, "%s %x=%x\n", path, k, v)
	}
}

// checkInvariants verifies that every index agrees with the messages: the
// counts of each queue and of the store, the availability, ready, group and
// age indexes, and the timers.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	require.NoError(t, s.view(func(tx *bbolt.Tx) error {
		m, err := readMeta(tx)
		require.NoError(t, err)
		var total, queues int64
		timers := tx.Bucket(bucketTimers)
		require.NoError(t, tx.Bucket(bucketQueues).ForEach(func(k, v []byte) error {
			queues++
			rec, qb, err := decodeQueue(tx, string(k), v)
			require.NoError(t, err)
			q := &queueTx{rec: rec}
			require.NoError(t, q.bind(tx))
			var n, inFlight, delayed int64
			heads := map[string]uint64{}
			require.NoError(t, q.m.ForEach(func(sk, sv []byte) error {
				msg, err := unmarshalMsg(sv)
				require.NoError(t, err)
				seq := msg.GetSequence()
				require.Equal(t, seqOf(sk), seq)
				n++
				count := func(st queuedraftv1.MessageState) {
					switch st {
					case stateInFlight:
						inFlight++
					case stateDelayed:
						delayed++
					}
				}
				count(msg.GetState())
				hasTimer := timers.Get(visibleTimer(q, msg)) != nil
				require.Equal(t, msg.GetState() != stateReady, hasTimer, "queue %s seq %d state %v timer", k, seq, msg.GetState())
				require.NotNil(t, q.e.Get(timeSeqKey(msg.GetSentUnixNanos(), seq)), "age index of %d", seq)
				if q.fifo {
					require.NotNil(t, q.g.Get(groupKey(msg.GetGroupId(), seq)))
					if h, ok := heads[msg.GetGroupId()]; !ok || seq < h {
						heads[msg.GetGroupId()] = seq
					}
				} else {
					require.NotNil(t, q.av.Get(timeSeqKey(msg.GetVisibleAtUnixNanos(), seq)), "availability of %d", seq)
				}
				return nil
			}))
			require.Equal(t, n, rec.GetMessages(), "queue %s messages", k)
			require.Equal(t, inFlight, rec.GetInFlight(), "queue %s in flight", k)
			require.Equal(t, delayed, rec.GetDelayed(), "queue %s delayed", k)
			require.Equal(t, n, int64(keyN(q.e)), "queue %s age index", k)
			if q.fifo {
				require.Equal(t, n, int64(keyN(q.g)), "queue %s groups", k)
				placed := int64(keyN(q.r) + keyN(q.av))
				require.Equal(t, int64(len(heads)), placed, "queue %s heads", k)
				for _, h := range heads {
					msg, err := unmarshalMsg(q.m.Get(u64(h)))
					require.NoError(t, err)
					inReady := q.r.Get(u64(h)) != nil
					inAvail := q.av.Get(timeSeqKey(msg.GetVisibleAtUnixNanos(), h)) != nil
					require.True(t, inReady != inAvail, "queue %s head %d placed once", k, h)
				}
			} else {
				require.Equal(t, n, int64(keyN(q.av)), "queue %s availability", k)
			}
			if rk := q.retentionKey(); rk != nil {
				require.NotNil(t, timers.Get(rk), "queue %s retention timer", k)
			}
			_ = qb
			total += n
			return nil
		}))
		require.Equal(t, queues, m.queues)
		require.Equal(t, total, m.messages)
		return nil
	}))
}

// requireTime requires that got is the same instant as want.
func requireTime(t testing.TB, want, got time.Time, msg ...any) {
	t.Helper()
	require.True(t, want.Equal(got), "want %v, got %v %v", want, got, fmt.Sprint(msg...))
}

// keyN counts the keys of b. Bucket.Stats counts from the pages only and
// misses what a pending (uncommitted) write transaction changed, which is
// what readers read through between commits.
func keyN(b *bbolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
