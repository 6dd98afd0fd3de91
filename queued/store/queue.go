package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Defaults the store falls back on when a record lacks a value (the proposer
// fills them in; the store only guards against zero).
const (
	defaultVisibility = 30 * time.Second
	defaultRetention  = 4 * 24 * time.Hour
	maxVisibility     = 12 * time.Hour
	// DedupWindow is how long a FIFO queue remembers a deduplication id.
	DedupWindow = 5 * time.Minute
)

// queueTx is a queue loaded by the entry being applied: its record and its
// buckets. The record is written back when the entry ends.
type queueTx struct {
	rec     *queuedraftv1.QueueRecord
	fifo    bool
	deleted bool
	// m, a, r, g, e and d are the buckets inside q/<id> (see the package
	// documentation).
	m, av, r, g, e, d *bbolt.Bucket

	// retTouched is set once the queue's oldest message or retention may
	// have changed in this entry; retOld is then the retention timer key as
	// it was before (nil if none).
	retTouched bool
	retOld     []byte
}

func (q *queueTx) attrs() *queuedv1.QueueAttributes { return q.rec.GetAttributes() }

func (q *queueTx) visibility() int64 {
	if d := q.attrs().GetVisibilityTimeout().AsDuration(); d > 0 {
		return int64(d)
	}
	return int64(defaultVisibility)
}

func (q *queueTx) retention() int64 {
	if d := q.attrs().GetRetention().AsDuration(); d > 0 {
		return int64(d)
	}
	return int64(defaultRetention)
}

// bind looks up the buckets of the queue's id.
func (q *queueTx) bind(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketQ).Bucket(u64(q.rec.GetId()))
	if b == nil {
		return fmt.Errorf("%w: queue %q has no bucket %d", ErrCorrupt, q.rec.GetName(), q.rec.GetId())
	}
	q.m, q.av, q.r, q.g, q.e, q.d = b.Bucket(subMessages), b.Bucket(subAvail), b.Bucket(subReady),
		b.Bucket(subGroups), b.Bucket(subAge), b.Bucket(subDedup)
	if q.m == nil || q.av == nil || q.r == nil || q.g == nil || q.e == nil || q.d == nil {
		return fmt.Errorf("%w: queue bucket %d incomplete", ErrCorrupt, q.rec.GetId())
	}
	// Messages, ages and (mostly) visible-at times are appended in key
	// order: pages that split full instead of half full write half as many.
	q.m.FillPercent, q.e.FillPercent, q.av.FillPercent = appendFill, appendFill, appendFill
	q.fifo = q.attrs().GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO
	return nil
}

// appendFill is the FillPercent of buckets whose keys mostly grow.
const appendFill = 0.9

// queue returns the queue named name, loading it once per entry; nil when it
// does not exist.
func (a *applier) queue(name string) (*queueTx, error) {
	for _, q := range a.open {
		if q.rec.GetName() == name && !q.deleted {
			return q, nil
		}
	}
	v := a.tx.Bucket(bucketQueues).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	rec := &queuedraftv1.QueueRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("%w: queue %q: %v", ErrCorrupt, name, err)
	}
	q := &queueTx{rec: rec}
	if err := q.bind(a.tx); err != nil {
		return nil, err
	}
	a.open = append(a.open, q)
	return q, nil
}

// mustQueue is queue with a missing queue as a failure.
func (a *applier) mustQueue(name string) (*queueTx, error) {
	q, err := a.queue(name)
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fail(reasonQueueNotFound, "queue %q does not exist", name)
	}
	return q, nil
}

// queueByID returns the live queue whose buckets have id qid, nil if none.
func (a *applier) queueByID(qid uint64) (*queueTx, error) {
	name := a.tx.Bucket(bucketIDs).Get(u64(qid))
	if name == nil {
		return nil, nil
	}
	q, err := a.queue(string(name))
	if err != nil || q == nil || q.rec.GetId() != qid {
		return nil, err
	}
	return q, nil
}

// flush writes back the records of the queues the entry loaded and brings
// their retention timers up to date.
func (a *applier) flush() error {
	for _, q := range a.open {
		if q.deleted {
			continue
		}
		if err := a.syncRetention(q); err != nil {
			return err
		}
		v, err := marshal(q.rec)
		if err != nil {
			return err
		}
		if err := a.tx.Bucket(bucketQueues).Put([]byte(q.rec.GetName()), v); err != nil {
			return err
		}
	}
	a.open = a.open[:0]
	return nil
}

// retentionKey is the key of the queue's retention timer: when its oldest
// message passes the retention; nil when the queue is empty.
func (q *queueTx) retentionKey() []byte {
	k, _ := q.e.Cursor().First()
	if k == nil {
		return nil
	}
	sent, _ := splitTimeSeq(k)
	return timerKey(sent+q.retention(), timerRetention, q.rec.GetId(), nil)
}

// touchRetention must be called before the queue's oldest message or its
// retention changes.
func (q *queueTx) touchRetention() {
	if !q.retTouched {
		q.retTouched = true
		q.retOld = q.retentionKey()
	}
}

// syncRetention moves the retention timer to where the queue now needs it.
func (a *applier) syncRetention(q *queueTx) error {
	if !q.retTouched {
		return nil
	}
	q.retTouched = false
	nk := q.retentionKey()
	if bytes.Equal(q.retOld, nk) {
		return nil
	}
	t := a.tx.Bucket(bucketTimers)
	if q.retOld != nil {
		if err := t.Delete(q.retOld); err != nil {
			return err
		}
	}
	if nk != nil {
		return t.Put(nk, empty)
	}
	return nil
}

// newQueueBuckets creates the buckets of a fresh queue id and records the id's
// name.
func (a *applier) newQueueBuckets(name string) (uint64, error) {
	id := a.meta.nextID
	a.meta.nextID++
	b, err := a.tx.Bucket(bucketQ).CreateBucket(u64(id))
	if err != nil {
		return 0, err
	}
	for _, sub := range queueSubs {
		if _, err := b.CreateBucket(sub); err != nil {
			return 0, err
		}
	}
	return id, a.tx.Bucket(bucketIDs).Put(u64(id), []byte(name))
}

// retire hands the queue's current id to the sweeps: its retention timer goes
// at once, the rest when a sweep frees the id's buckets.
func (a *applier) retire(q *queueTx) error {
	if err := a.syncRetention(q); err != nil {
		return err
	}
	t := a.tx.Bucket(bucketTimers)
	if k := q.retentionKey(); k != nil {
		if err := t.Delete(k); err != nil {
			return err
		}
	}
	id := q.rec.GetId()
	if err := a.tx.Bucket(bucketDead).Put(u64(id), empty); err != nil {
		return err
	}
	return t.Put(timerKey(a.now, timerFree, id, nil), empty)
}

// checkAttributes validates the attributes a queue named name is to have.
func (a *applier) checkAttributes(name string, at *queuedv1.QueueAttributes) error {
	switch at.GetType() {
	case queuedv1.QueueType_QUEUE_TYPE_STANDARD, queuedv1.QueueType_QUEUE_TYPE_FIFO:
	default:
		return fail(reasonInvalidArgument, "queue %q: type %v", name, at.GetType())
	}
	fifo := at.GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO
	if at.GetContentBasedDeduplication() && !fifo {
		return fail(reasonQueueMismatch, "queue %q: content_based_deduplication needs a FIFO queue", name)
	}
	if d := at.GetVisibilityTimeout().AsDuration(); d < 0 || d > maxVisibility {
		return fail(reasonInvalidArgument, "queue %q: visibility_timeout %v out of range", name, d)
	}
	dlq := at.GetDeadLetterQueue()
	if (at.GetMaxReceives() > 0) != (dlq != "") {
		return fail(reasonInvalidArgument, "queue %q: max_receives and dead_letter_queue go together", name)
	}
	if dlq == "" {
		return nil
	}
	if dlq == name {
		return fail(reasonDeadLetterLoop, "queue %q: is its own dead letter queue", name)
	}
	d, err := a.mustQueue(dlq)
	if err != nil {
		return err
	}
	if d.attrs().GetType() != at.GetType() {
		return fail(reasonQueueMismatch, "queue %q: dead letter queue %q is of another type", name, dlq)
	}
	// Links always name existing queues (DeleteQueue drops them), so the
	// walk ends at a queue without one or comes back to name.
	seen := []string{dlq}
	for next := d.attrs().GetDeadLetterQueue(); next != ""; {
		if next == name {
			return fail(reasonDeadLetterLoop, "queue %q: dead letter queue %q leads back to it", name, dlq)
		}
		if slices.Contains(seen, next) {
			break
		}
		seen = append(seen, next)
		n, err := a.queue(next)
		if err != nil {
			return err
		}
		if n == nil {
			break
		}
		next = n.attrs().GetDeadLetterQueue()
	}
	return nil
}

func (a *applier) createQueue(op *queuedraftv1.CreateQueueOp) (*queuedv1.CreateQueueResponse, error) {
	name := op.GetName()
	if name == "" {
		return nil, fail(reasonInvalidArgument, "queue name is empty")
	}
	at := op.GetAttributes()
	if at == nil {
		at = &queuedv1.QueueAttributes{}
	}
	q, err := a.queue(name)
	if err != nil {
		return nil, err
	}
	if q != nil {
		if !proto.Equal(q.attrs(), at) {
			return nil, fail(reasonQueueExists, "queue %q exists with other attributes", name)
		}
		v, err := a.queueView(q)
		return &queuedv1.CreateQueueResponse{Queue: v}, err
	}
	if err := a.checkAttributes(name, at); err != nil {
		return nil, err
	}
	id, err := a.newQueueBuckets(name)
	if err != nil {
		return nil, err
	}
	q = &queueTx{rec: &queuedraftv1.QueueRecord{
		Id: id, Name: name, Attributes: proto.CloneOf(at),
		CreatedUnixNanos: a.now, ModifiedUnixNanos: a.now, NextSequence: 1,
	}}
	if err := q.bind(a.tx); err != nil {
		return nil, err
	}
	a.open = append(a.open, q)
	if dlq := at.GetDeadLetterQueue(); dlq != "" {
		if err := a.tx.Bucket(bucketDLSrc).Put(pairKey(dlq, name), empty); err != nil {
			return nil, err
		}
	}
	a.meta.queues++
	v, err := a.queueView(q)
	return &queuedv1.CreateQueueResponse{Queue: v, Created: true}, err
}

func (a *applier) setQueueAttributes(op *queuedraftv1.SetQueueAttributesOp) (*queuedv1.SetQueueAttributesResponse, error) {
	q, err := a.mustQueue(op.GetName())
	if err != nil {
		return nil, err
	}
	in := op.GetAttributes()
	if in == nil {
		in = &queuedv1.QueueAttributes{}
	}
	at := proto.CloneOf(q.attrs())
	if at == nil {
		at = &queuedv1.QueueAttributes{}
	}
	for _, f := range op.GetMask() {
		switch f {
		case "type":
			if in.GetType() != at.GetType() {
				return nil, fail(reasonInvalidArgument, "queue %q: the type cannot change", q.rec.GetName())
			}
		case "visibility_timeout":
			at.VisibilityTimeout = cloneDur(in.GetVisibilityTimeout())
		case "retention":
			at.Retention = cloneDur(in.GetRetention())
		case "delivery_delay":
			at.DeliveryDelay = cloneDur(in.GetDeliveryDelay())
		case "max_message_bytes":
			at.MaxMessageBytes = in.GetMaxMessageBytes()
		case "max_receives":
			at.MaxReceives = in.GetMaxReceives()
		case "dead_letter_queue":
			at.DeadLetterQueue = in.GetDeadLetterQueue()
		case "content_based_deduplication":
			at.ContentBasedDeduplication = in.GetContentBasedDeduplication()
		case "receive_wait":
			at.ReceiveWait = cloneDur(in.GetReceiveWait())
		default:
			return nil, fail(reasonInvalidArgument, "queue %q: unknown attribute %q in mask", q.rec.GetName(), f)
		}
	}
	name := q.rec.GetName()
	if err := a.checkAttributes(name, at); err != nil {
		return nil, err
	}
	if old, nw := q.attrs().GetDeadLetterQueue(), at.GetDeadLetterQueue(); old != nw {
		b := a.tx.Bucket(bucketDLSrc)
		if old != "" {
			if err := b.Delete(pairKey(old, name)); err != nil {
				return nil, err
			}
		}
		if nw != "" {
			if err := b.Put(pairKey(nw, name), empty); err != nil {
				return nil, err
			}
		}
	}
	q.touchRetention()
	q.rec.Attributes = at
	q.rec.ModifiedUnixNanos = a.now
	v, err := a.queueView(q)
	return &queuedv1.SetQueueAttributesResponse{Queue: v}, err
}

func cloneDur(d *durationpb.Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return proto.CloneOf(d)
}

func (a *applier) purgeQueue(op *queuedraftv1.PurgeQueueOp) (*queuedv1.PurgeQueueResponse, error) {
	q, err := a.mustQueue(op.GetName())
	if err != nil {
		return nil, err
	}
	purged := q.rec.GetMessages()
	if err := a.retire(q); err != nil {
		return nil, err
	}
	id, err := a.newQueueBuckets(q.rec.GetName())
	if err != nil {
		return nil, err
	}
	q.rec.Id = id
	if err := q.bind(a.tx); err != nil {
		return nil, err
	}
	q.retTouched, q.retOld = false, nil
	a.meta.messages -= purged
	q.rec.Messages, q.rec.InFlight, q.rec.Delayed = 0, 0, 0
	return &queuedv1.PurgeQueueResponse{Purged: purged}, nil
}

func (a *applier) deleteQueue(op *queuedraftv1.DeleteQueueOp) (*queuedv1.DeleteQueueResponse, error) {
	q, err := a.mustQueue(op.GetName())
	if err != nil {
		return nil, err
	}
	name := q.rec.GetName()
	if err := a.retire(q); err != nil {
		return nil, err
	}
	dl := a.tx.Bucket(bucketDLSrc)
	if dlq := q.attrs().GetDeadLetterQueue(); dlq != "" {
		if err := dl.Delete(pairKey(dlq, name)); err != nil {
			return nil, err
		}
	}
	// Queues that dead-letter into this one lose their redrive.
	for _, src := range prefixSuffixes(dl, name) {
		if err := dl.Delete(pairKey(name, src)); err != nil {
			return nil, err
		}
		sq, err := a.queue(src)
		if err != nil {
			return nil, err
		}
		if sq == nil || sq.attrs().GetDeadLetterQueue() != name {
			continue
		}
		at := proto.CloneOf(sq.attrs())
		at.DeadLetterQueue, at.MaxReceives = "", 0
		sq.rec.Attributes = at
		sq.rec.ModifiedUnixNanos = a.now
	}
	// Topics lose their subscriptions of it.
	sb := a.tx.Bucket(bucketSubs)
	for _, topic := range prefixSuffixes(sb, name) {
		if err := sb.Delete(pairKey(name, topic)); err != nil {
			return nil, err
		}
		t, err := a.topic(topic)
		if err != nil {
			return nil, err
		}
		if t == nil {
			continue
		}
		t.Subscriptions = slices.DeleteFunc(t.Subscriptions, func(s *queuedv1.Subscription) bool { return s.GetQueue() == name })
		if err := a.putTopic(t); err != nil {
			return nil, err
		}
	}
	if err := a.tx.Bucket(bucketQueues).Delete([]byte(name)); err != nil {
		return nil, err
	}
	q.deleted = true
	a.meta.queues--
	a.meta.messages -= q.rec.GetMessages()
	return &queuedv1.DeleteQueueResponse{}, nil
}

// prefixSuffixes returns, for the keys of b that are pairKey(a, x), every x.
func prefixSuffixes(b *bbolt.Bucket, a string) []string {
	prefix := pairKey(a, "")
	var out []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

// queueView describes q as of the entry being applied.
func (a *applier) queueView(q *queueTx) (*queuedv1.Queue, error) {
	return queueView(a.tx, q.rec, q.e, a.now), nil
}

// queueView describes the queue of rec, whose age bucket is e, at now.
func queueView(tx *bbolt.Tx, rec *queuedraftv1.QueueRecord, e *bbolt.Bucket, now int64) *queuedv1.Queue {
	st := &queuedv1.QueueStats{
		Visible:      rec.GetMessages() - rec.GetInFlight() - rec.GetDelayed(),
		InFlight:     rec.GetInFlight(),
		Delayed:      rec.GetDelayed(),
		DeadLettered: rec.GetDeadLettered(),
		Sent:         rec.GetSent(),
		Received:     rec.GetReceived(),
		Acked:        rec.GetAcked(),
	}
	if e != nil {
		if k, _ := e.Cursor().First(); k != nil {
			sent, _ := splitTimeSeq(k)
			st.OldestAge = durationpb.New(time.Duration(max(0, now-sent)))
		}
	}
	if st.OldestAge == nil {
		st.OldestAge = durationpb.New(0)
	}
	return &queuedv1.Queue{
		Name:              rec.GetName(),
		Attributes:        proto.CloneOf(rec.GetAttributes()),
		Created:           ts(rec.GetCreatedUnixNanos()),
		Modified:          ts(rec.GetModifiedUnixNanos()),
		Stats:             st,
		DeadLetterSources: prefixSuffixes(tx.Bucket(bucketDLSrc), rec.GetName()),
	}
}

func ts(n int64) *timestamppb.Timestamp {
	if n == 0 {
		return nil
	}
	return timestamppb.New(time.Unix(0, n))
}

// seqOf reads the sequence at the end of a key.
func seqOf(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }
