package store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Bounds on the work of one entry.
const (
	// maxReceiveSkips bounds how many due messages one Receive may drop or
	// dead-letter besides those it delivers.
	maxReceiveSkips = 1000
	// maxPromote bounds how many FIFO group heads one Receive moves from the
	// timer-ordered index to the ready one.
	maxPromote = 10000
	// maxRedrive bounds the messages one Redrive entry moves.
	maxRedrive = 1000
	// maxReceiveMessages bounds max_messages of one Receive.
	maxReceiveMessages = 1000
)

const (
	stateReady    = queuedraftv1.MessageState_MESSAGE_STATE_READY
	stateDelayed  = queuedraftv1.MessageState_MESSAGE_STATE_DELAYED
	stateInFlight = queuedraftv1.MessageState_MESSAGE_STATE_IN_FLIGHT
)

// MessageSize is the size a message counts against max_message_bytes: the
// body plus, for each attribute, its name, data type and value (as SQS
// counts).
func MessageSize(body []byte, attrs map[string]*queuedv1.AttributeValue) int {
	n := len(body)
	for k, v := range attrs {
		n += len(k) + len(v.GetDataType()) + len(v.GetStringValue()) + len(v.GetBinaryValue())
	}
	return n
}

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func (a *applier) getMsg(q *queueTx, seq uint64) (*queuedraftv1.MessageRecord, error) {
	v := q.m.Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	rec := &queuedraftv1.MessageRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("%w: queue %q message %d: %v", ErrCorrupt, q.rec.GetName(), seq, err)
	}
	return rec, nil
}

func (a *applier) putMsg(q *queueTx, rec *queuedraftv1.MessageRecord) error {
	v, err := marshal(rec)
	if err != nil {
		return err
	}
	return q.m.Put(u64(rec.GetSequence()), v)
}

// visibleTimer is the key of a DELAYED or IN_FLIGHT message's timer.
func visibleTimer(q *queueTx, rec *queuedraftv1.MessageRecord) []byte {
	return timerKey(rec.GetVisibleAtUnixNanos(), timerVisible, q.rec.GetId(), u64(rec.GetSequence()))
}

// count adds d to the queue's count of messages in state st.
func count(q *queueTx, st queuedraftv1.MessageState, d int64) {
	switch st {
	case stateDelayed:
		q.rec.Delayed += d
	case stateInFlight:
		q.rec.InFlight += d
	}
}

// headSeq returns the sequence of the first message of a FIFO group, 0 if
// the group is empty.
func headSeq(q *queueTx, group string) uint64 {
	p := groupPrefix(group)
	k, _ := q.g.Cursor().Seek(p)
	if k == nil || !bytes.HasPrefix(k, p) || len(k) != len(p)+8 {
		return 0
	}
	return seqOf(k)
}

// placeHead indexes a FIFO group's head: ready when visible at now, else by
// its visible-at time.
func (a *applier) placeHead(q *queueTx, rec *queuedraftv1.MessageRecord) error {
	if rec.GetVisibleAtUnixNanos() <= a.now {
		a.exposed = true
		return q.r.Put(u64(rec.GetSequence()), empty)
	}
	return q.av.Put(timeSeqKey(rec.GetVisibleAtUnixNanos(), rec.GetSequence()), empty)
}

func unplaceHead(q *queueTx, rec *queuedraftv1.MessageRecord) error {
	if err := q.r.Delete(u64(rec.GetSequence())); err != nil {
		return err
	}
	return q.av.Delete(timeSeqKey(rec.GetVisibleAtUnixNanos(), rec.GetSequence()))
}

// enqueue stores rec as a new message of q with the next sequence; rec's
// visible-at time decides its state. It returns the sequence.
func (a *applier) enqueue(q *queueTx, rec *queuedraftv1.MessageRecord) (uint64, error) {
	seq := q.rec.GetNextSequence()
	if seq == 0 {
		seq = 1
	}
	q.rec.NextSequence = seq + 1
	rec.Sequence = seq
	if rec.GetVisibleAtUnixNanos() > a.now {
		rec.State = stateDelayed
	} else {
		rec.State = stateReady
		rec.VisibleAtUnixNanos = a.now
		a.exposed = true
	}
	if err := a.putMsg(q, rec); err != nil {
		return 0, err
	}
	if rec.GetState() != stateReady {
		if err := a.tx.Bucket(bucketTimers).Put(visibleTimer(q, rec), empty); err != nil {
			return 0, err
		}
	}
	q.touchRetention()
	if err := q.e.Put(timeSeqKey(rec.GetSentUnixNanos(), seq), empty); err != nil {
		return 0, err
	}
	if q.fifo {
		head := headSeq(q, rec.GetGroupId()) == 0
		if err := q.g.Put(groupKey(rec.GetGroupId(), seq), empty); err != nil {
			return 0, err
		}
		if head {
			if err := a.placeHead(q, rec); err != nil {
				return 0, err
			}
		}
	} else if err := q.av.Put(timeSeqKey(rec.GetVisibleAtUnixNanos(), seq), empty); err != nil {
		return 0, err
	}
	q.rec.Messages++
	count(q, rec.GetState(), 1)
	a.meta.messages++
	return seq, nil
}

// removeMsg deletes a message and its index entries; in a FIFO queue the
// group's next message becomes its head.
func (a *applier) removeMsg(q *queueTx, rec *queuedraftv1.MessageRecord) error {
	seq := rec.GetSequence()
	if rec.GetState() != stateReady {
		if err := a.tx.Bucket(bucketTimers).Delete(visibleTimer(q, rec)); err != nil {
			return err
		}
	}
	if err := q.m.Delete(u64(seq)); err != nil {
		return err
	}
	q.touchRetention()
	if err := q.e.Delete(timeSeqKey(rec.GetSentUnixNanos(), seq)); err != nil {
		return err
	}
	if q.fifo {
		group := rec.GetGroupId()
		head := headSeq(q, group) == seq
		if err := q.g.Delete(groupKey(group, seq)); err != nil {
			return err
		}
		if head {
			if err := unplaceHead(q, rec); err != nil {
				return err
			}
			if next := headSeq(q, group); next != 0 {
				nrec, err := a.getMsg(q, next)
				if err != nil {
					return err
				}
				if nrec == nil {
					return fmt.Errorf("%w: queue %q group %q names missing message %d", ErrCorrupt, q.rec.GetName(), group, next)
				}
				if err := a.placeHead(q, nrec); err != nil {
					return err
				}
			}
		}
	} else if err := q.av.Delete(timeSeqKey(rec.GetVisibleAtUnixNanos(), seq)); err != nil {
		return err
	}
	q.rec.Messages--
	count(q, rec.GetState(), -1)
	a.meta.messages--
	return nil
}

// setVisibility moves a stored message to visible-at time at and state st,
// keeping its indexes, timer and the queue's counts in step, and stores it.
func (a *applier) setVisibility(q *queueTx, rec *queuedraftv1.MessageRecord, at int64, st queuedraftv1.MessageState) error {
	timers := a.tx.Bucket(bucketTimers)
	if rec.GetState() != stateReady {
		if err := timers.Delete(visibleTimer(q, rec)); err != nil {
			return err
		}
	}
	seq := rec.GetSequence()
	head := false
	if q.fifo {
		if head = headSeq(q, rec.GetGroupId()) == seq; head {
			if err := unplaceHead(q, rec); err != nil {
				return err
			}
		}
	} else if err := q.av.Delete(timeSeqKey(rec.GetVisibleAtUnixNanos(), seq)); err != nil {
		return err
	}
	count(q, rec.GetState(), -1)
	rec.VisibleAtUnixNanos, rec.State = at, st
	count(q, st, 1)
	if st != stateReady {
		if err := timers.Put(visibleTimer(q, rec), empty); err != nil {
			return err
		}
	} else if at <= a.now {
		a.exposed = true
	}
	if head {
		if err := a.placeHead(q, rec); err != nil {
			return err
		}
	} else if !q.fifo {
		if err := q.av.Put(timeSeqKey(at, seq), empty); err != nil {
			return err
		}
	}
	return a.putMsg(q, rec)
}

// expired says whether rec is past q's retention at now.
func (a *applier) expired(q *queueTx, rec *queuedraftv1.MessageRecord) bool {
	return rec.GetSentUnixNanos()+q.retention() <= a.now
}

// deadLetter moves rec from q to q's dead letter queue if rec has been
// received max_receives times; moved says whether it did.
func (a *applier) deadLetter(q *queueTx, rec *queuedraftv1.MessageRecord) (moved bool, err error) {
	mr := q.attrs().GetMaxReceives()
	dlqName := q.attrs().GetDeadLetterQueue()
	if mr == 0 || dlqName == "" || rec.GetReceiveCount() < mr {
		return false, nil
	}
	dlq, err := a.queue(dlqName)
	if err != nil || dlq == nil {
		return false, err
	}
	if err := a.removeMsg(q, rec); err != nil {
		return false, err
	}
	q.rec.DeadLettered++
	cp := &queuedraftv1.MessageRecord{
		MessageId:              rec.GetMessageId(),
		Body:                   rec.GetBody(),
		Attributes:             rec.GetAttributes(),
		SentUnixNanos:          rec.GetSentUnixNanos(),
		VisibleAtUnixNanos:     a.now,
		ReceiveCount:           rec.GetReceiveCount(),
		FirstReceivedUnixNanos: rec.GetFirstReceivedUnixNanos(),
		GroupId:                rec.GetGroupId(),
		DeduplicationId:        rec.GetDeduplicationId(),
		DeadLetterSource:       q.rec.GetName(),
		Md5OfBody:              rec.GetMd5OfBody(),
	}
	if _, err := a.enqueue(dlq, cp); err != nil {
		return false, err
	}
	dlq.rec.Sent++ // the dead letter queue's sent counts every message that entered it
	return true, nil
}

// dedupValue is seq ‖ expiry ‖ message id.
func dedupValue(seq uint64, expiry int64, id string) []byte {
	v := make([]byte, 16, 16+len(id))
	copy(v, u64(seq))
	copy(v[8:], u64(tsBits(expiry)))
	return append(v, id...)
}

func splitDedup(v []byte) (seq uint64, expiry int64, id string, ok bool) {
	if len(v) < 16 {
		return 0, 0, "", false
	}
	return seqOf(v[:8]), bitsTS(seqOf(v[8:16])), string(v[16:]), true
}

// dedupLookup returns the message an unexpired deduplication id names.
func (a *applier) dedupLookup(q *queueTx, id string) (seq uint64, msgID string, found bool) {
	seq, exp, msgID, ok := splitDedup(q.d.Get([]byte(id)))
	if !ok || exp <= a.now {
		return 0, "", false
	}
	return seq, msgID, true
}

// dedupRemember records id for the window, replacing an expired record.
func (a *applier) dedupRemember(q *queueTx, id string, seq uint64, msgID string) error {
	timers := a.tx.Bucket(bucketTimers)
	if _, exp, _, ok := splitDedup(q.d.Get([]byte(id))); ok {
		if err := timers.Delete(timerKey(exp, timerDedup, q.rec.GetId(), []byte(id))); err != nil {
			return err
		}
	}
	exp := a.now + int64(DedupWindow)
	if err := q.d.Put([]byte(id), dedupValue(seq, exp, msgID)); err != nil {
		return err
	}
	return timers.Put(timerKey(exp, timerDedup, q.rec.GetId(), []byte(id)), empty)
}

// newMessage is what send and publish enqueue.
type newMessage struct {
	body    []byte
	attrs   map[string]*queuedv1.AttributeValue
	delay   int64 // nanos
	group   string
	dedupID string
}

// checkNew validates m against q: size, and the FIFO-only fields.
func checkNew(q *queueTx, body []byte, attrs map[string]*queuedv1.AttributeValue, group, dedupID string, delaySet bool) *failure {
	if lim := q.attrs().GetMaxMessageBytes(); lim > 0 {
		if n := MessageSize(body, attrs); n > int(lim) {
			return fail(reasonLimitExceeded, "message is %d bytes, the limit (max_message_bytes) of queue %q is %d", n, q.rec.GetName(), lim)
		}
	}
	if q.fifo {
		if group == "" {
			return fail(reasonQueueMismatch, "FIFO queue %q requires group_id", q.rec.GetName())
		}
		if delaySet {
			return fail(reasonQueueMismatch, "FIFO queue %q takes no per-message delay", q.rec.GetName())
		}
		if dedupID == "" && !q.attrs().GetContentBasedDeduplication() {
			// As SQS: without content-based deduplication a FIFO send must
			// say what makes it unique, or a retried send would be kept twice.
			return failField(reasonInvalidArgument, "deduplication_id",
				"deduplication_id must be set: FIFO queue %q does not have content_based_deduplication", q.rec.GetName())
		}
	} else if group != "" || dedupID != "" {
		return fail(reasonQueueMismatch, "standard queue %q takes no group_id or deduplication_id", q.rec.GetName())
	}
	return nil
}

// add enqueues one new message into q, deduplicating on a FIFO queue.
func (a *applier) add(q *queueTx, m newMessage) (msgID string, seq uint64, dup bool, err error) {
	dedupID := m.dedupID
	if q.fifo && dedupID == "" && q.attrs().GetContentBasedDeduplication() {
		h := sha256.Sum256(m.body)
		dedupID = hex.EncodeToString(h[:])
	}
	if q.fifo && dedupID != "" {
		if seq, id, ok := a.dedupLookup(q, dedupID); ok {
			return id, seq, true, nil
		}
	}
	seq = q.rec.GetNextSequence()
	if seq == 0 {
		seq = 1
	}
	msgID = messageID(q.rec.GetId(), seq, a.index, a.now)
	rec := &queuedraftv1.MessageRecord{
		MessageId:          msgID,
		Body:               m.body,
		Attributes:         m.attrs,
		SentUnixNanos:      a.now,
		VisibleAtUnixNanos: a.now + max(0, m.delay),
		GroupId:            m.group,
		DeduplicationId:    dedupID,
		Md5OfBody:          md5Hex(m.body),
	}
	if _, err := a.enqueue(q, rec); err != nil {
		return "", 0, false, err
	}
	if q.fifo && dedupID != "" {
		if err := a.dedupRemember(q, dedupID, seq, msgID); err != nil {
			return "", 0, false, err
		}
	}
	q.rec.Sent++
	return msgID, seq, false, nil
}

func entryID(id string, i int) string {
	if id != "" {
		return id
	}
	return strconv.Itoa(i)
}

func (a *applier) send(op *queuedraftv1.SendOp) (*queuedv1.SendResponse, error) {
	q, err := a.mustQueue(op.GetQueue())
	if err != nil {
		return nil, err
	}
	resp := &queuedv1.SendResponse{}
	for i, e := range op.GetEntries() {
		id := entryID(e.GetId(), i)
		if f := checkNew(q, e.GetBody(), e.GetAttributes(), e.GetGroupId(), e.GetDeduplicationId(),
			e.GetDelay() != nil && e.GetDelay().AsDuration() != 0); f != nil {
			resp.Errors = append(resp.Errors, &queuedv1.EntryError{Id: id, Reason: f.reason, Message: f.msg, SenderFault: true, Field: f.field})
			continue
		}
		delay := int64(q.attrs().GetDeliveryDelay().AsDuration())
		if e.GetDelay() != nil && !q.fifo {
			delay = int64(e.GetDelay().AsDuration())
		}
		msgID, seq, dup, err := a.add(q, newMessage{body: e.GetBody(), attrs: e.GetAttributes(), delay: delay,
			group: e.GetGroupId(), dedupID: e.GetDeduplicationId()})
		if err != nil {
			return nil, err
		}
		resp.Results = append(resp.Results, &queuedv1.SendResult{
			Id: id, MessageId: msgID, Sequence: seq, Md5OfBody: md5Hex(e.GetBody()), Duplicate: dup,
		})
	}
	return resp, nil
}

// deliver hands rec out: one more receive, a new receipt nonce, invisible
// for vis nanos.
func (a *applier) deliver(q *queueTx, rec *queuedraftv1.MessageRecord, vis int64) (*queuedv1.Message, error) {
	rec.ReceiveCount++
	if rec.GetFirstReceivedUnixNanos() == 0 {
		rec.FirstReceivedUnixNanos = a.now
	}
	rec.ReceiptNonce = a.index
	if err := a.setVisibility(q, rec, a.now+vis, stateInFlight); err != nil {
		return nil, err
	}
	q.rec.Received++
	return &queuedv1.Message{
		MessageId:        rec.GetMessageId(),
		ReceiptHandle:    Receipt{QueueID: q.rec.GetId(), Sequence: rec.GetSequence(), Nonce: a.index}.String(),
		Body:             rec.GetBody(),
		Attributes:       rec.GetAttributes(),
		Md5OfBody:        rec.GetMd5OfBody(),
		Sent:             ts(rec.GetSentUnixNanos()),
		ReceiveCount:     rec.GetReceiveCount(),
		FirstReceived:    ts(rec.GetFirstReceivedUnixNanos()),
		VisibleAt:        ts(rec.GetVisibleAtUnixNanos()),
		GroupId:          rec.GetGroupId(),
		DeduplicationId:  rec.GetDeduplicationId(),
		Sequence:         rec.GetSequence(),
		DeadLetterSource: rec.GetDeadLetterSource(),
	}, nil
}

func (a *applier) receive(op *queuedraftv1.ReceiveOp) (*queuedv1.ReceiveResponse, error) {
	q, err := a.mustQueue(op.GetQueue())
	if err != nil {
		return nil, err
	}
	n := int(min(max(op.GetMaxMessages(), 1), maxReceiveMessages))
	vis := op.GetVisibilityTimeoutNanos()
	if vis <= 0 {
		vis = q.visibility()
	}
	vis = min(vis, int64(maxVisibility))
	var seqs []uint64
	if q.fifo {
		// Heads that came due since last looked at join the ready ones.
		var due [][]byte
		c := q.av.Cursor()
		for k, _ := c.First(); k != nil && len(due) < maxPromote; k, _ = c.Next() {
			if t, _ := splitTimeSeq(k); t > a.now {
				break
			}
			due = append(due, bytes.Clone(k))
		}
		for _, k := range due {
			if err := q.av.Delete(k); err != nil {
				return nil, err
			}
			if err := q.r.Put(u64(seqOf(k)), empty); err != nil {
				return nil, err
			}
		}
		c = q.r.Cursor()
		for k, _ := c.First(); k != nil && len(seqs) < n+maxReceiveSkips; k, _ = c.Next() {
			seqs = append(seqs, seqOf(k))
		}
	} else {
		c := q.av.Cursor()
		for k, _ := c.First(); k != nil && len(seqs) < n+maxReceiveSkips; k, _ = c.Next() {
			t, seq := splitTimeSeq(k)
			if t > a.now {
				break
			}
			seqs = append(seqs, seq)
		}
	}
	resp := &queuedv1.ReceiveResponse{}
	skips := 0
	for i := 0; i < len(seqs) && len(resp.Messages) < n && skips <= maxReceiveSkips; i++ {
		seq := seqs[i]
		rec, err := a.getMsg(q, seq)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, fmt.Errorf("%w: queue %q indexes missing message %d", ErrCorrupt, q.rec.GetName(), seq)
		}
		skip := false
		if a.expired(q, rec) {
			if err := a.removeMsg(q, rec); err != nil {
				return nil, err
			}
			skip = true
		} else if skip, err = a.deadLetter(q, rec); err != nil {
			return nil, err
		}
		if skip {
			skips++
			// The group's next message may be receivable now.
			if q.fifo {
				if h := headSeq(q, rec.GetGroupId()); h != 0 && q.r.Get(u64(h)) != nil {
					seqs = append(seqs, h)
				}
			}
			continue
		}
		m, err := a.deliver(q, rec, vis)
		if err != nil {
			return nil, err
		}
		resp.Messages = append(resp.Messages, m)
	}
	return resp, nil
}

type settleKind int

const (
	settleAck settleKind = iota
	settleNack
	settleExtend
)

func (a *applier) settle(op *queuedraftv1.SettleOp, kind settleKind) (*queuedraftv1.SettleResult, error) {
	q, err := a.mustQueue(op.GetQueue())
	if err != nil {
		return nil, err
	}
	res := &queuedraftv1.SettleResult{}
	for i, e := range op.GetEntries() {
		id := entryID(e.GetId(), i)
		f, err := a.settleOne(q, e, kind)
		if err != nil {
			return nil, err
		}
		if f != nil {
			res.Errors = append(res.Errors, &queuedv1.EntryError{Id: id, Reason: f.reason, Message: f.msg, SenderFault: true})
			continue
		}
		res.Succeeded = append(res.Succeeded, id)
	}
	return res, nil
}

func (a *applier) settleOne(q *queueTx, e *queuedv1.VisibilityEntry, kind settleKind) (*failure, error) {
	r, err := ParseReceipt(e.GetReceiptHandle())
	if err != nil {
		return fail(reasonReceiptInvalid, "%v", err), nil
	}
	gone := func() *failure {
		if kind == settleAck {
			return nil
		}
		return fail(reasonReceiptStale, "the message is no longer in queue %q", q.rec.GetName())
	}
	if r.QueueID != q.rec.GetId() {
		// An earlier incarnation of this queue (before a purge, or a queue
		// of the same name deleted since) held the message: it is gone.
		if name := a.tx.Bucket(bucketIDs).Get(u64(r.QueueID)); string(name) == q.rec.GetName() && r.QueueID < q.rec.GetId() {
			return gone(), nil
		}
		return fail(reasonReceiptInvalid, "the receipt handle is not of queue %q", q.rec.GetName()), nil
	}
	rec, err := a.getMsg(q, r.Sequence)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return gone(), nil
	}
	if rec.GetReceiptNonce() != r.Nonce {
		return fail(reasonReceiptStale, "message %s was delivered again or released since", rec.GetMessageId()), nil
	}
	if a.now >= rec.GetVisibleAtUnixNanos() {
		return fail(reasonReceiptExpired, "the visibility deadline of message %s has passed", rec.GetMessageId()), nil
	}
	d := int64(e.GetTimeout().AsDuration())
	if d < 0 || d > int64(maxVisibility) {
		return fail(reasonInvalidArgument, "timeout %v out of range", time.Duration(d)), nil
	}
	switch kind {
	case settleAck:
		if err := a.removeMsg(q, rec); err != nil {
			return nil, err
		}
		q.rec.Acked++
	case settleNack:
		rec.ReceiptNonce = 0
		st := stateReady
		if d > 0 {
			st = stateDelayed
		}
		if err := a.setVisibility(q, rec, a.now+d, st); err != nil {
			return nil, err
		}
	case settleExtend:
		if err := a.setVisibility(q, rec, a.now+d, stateInFlight); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// redrive moves up to max_messages movable messages of a dead letter queue
// with a sequence above after_sequence back to their sources (or to the
// destination). It looks at no more than max_messages plus maxReceiveSkips
// messages, and reports where it stopped, so that a caller can resume past
// messages that cannot move: in flight, or without a source of the same type
// to return to.
func (a *applier) redrive(op *queuedraftv1.RedriveOp) (*queuedraftv1.RedriveResult, error) {
	src, err := a.mustQueue(op.GetDeadLetterQueue())
	if err != nil {
		return nil, err
	}
	var dest *queueTx
	if name := op.GetDestination(); name != "" {
		if dest, err = a.mustQueue(name); err != nil {
			return nil, err
		}
		if dest == src {
			return nil, fail(reasonInvalidArgument, "queue %q cannot be redriven into itself", name)
		}
		if dest.fifo != src.fifo {
			return nil, fail(reasonQueueMismatch, "queue %q is of another type than %q", name, src.rec.GetName())
		}
	}
	limit := int(op.GetMaxMessages())
	if limit <= 0 || limit > maxRedrive {
		limit = maxRedrive
	}
	// Pick the messages first (a cursor must not see its bucket change),
	// then move them.
	type pick struct {
		seq    uint64
		target *queueTx
	}
	var picks []pick
	res := &queuedraftv1.RedriveResult{NextAfter: op.GetAfterSequence()}
	scanned := 0
	c := src.m.Cursor()
	k, v := c.Seek(u64(op.GetAfterSequence() + 1))
	for ; k != nil && len(picks) < limit && scanned < limit+maxReceiveSkips; k, v = c.Next() {
		scanned++
		rec := &queuedraftv1.MessageRecord{}
		if err := proto.Unmarshal(v, rec); err != nil {
			return nil, fmt.Errorf("%w: queue %q message: %v", ErrCorrupt, src.rec.GetName(), err)
		}
		res.NextAfter = rec.GetSequence()
		if rec.GetState() == stateInFlight && rec.GetVisibleAtUnixNanos() > a.now {
			continue // being worked on
		}
		target := dest
		if target == nil {
			if target, err = a.queue(rec.GetDeadLetterSource()); err != nil {
				return nil, err
			}
			if target == nil || target == src || target.fifo != src.fifo {
				continue // stays
			}
		}
		picks = append(picks, pick{seq: rec.GetSequence(), target: target})
	}
	res.Done = k == nil
	for _, p := range picks {
		rec, err := a.getMsg(src, p.seq)
		if err != nil {
			return nil, err
		}
		if err := a.removeMsg(src, rec); err != nil {
			return nil, err
		}
		cp := &queuedraftv1.MessageRecord{
			MessageId:          rec.GetMessageId(),
			Body:               rec.GetBody(),
			Attributes:         rec.GetAttributes(),
			SentUnixNanos:      rec.GetSentUnixNanos(),
			VisibleAtUnixNanos: a.now,
			GroupId:            rec.GetGroupId(),
			DeduplicationId:    rec.GetDeduplicationId(),
			Md5OfBody:          rec.GetMd5OfBody(),
		}
		if _, err := a.enqueue(p.target, cp); err != nil {
			return nil, err
		}
		p.target.rec.Sent++
		res.Moved++
	}
	return res, nil
}

func unmarshalMsg(v []byte) (*queuedraftv1.MessageRecord, error) {
	rec := &queuedraftv1.MessageRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("%w: message: %v", ErrCorrupt, err)
	}
	return rec, nil
}
