package queued

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// consumer is the state of one Consume stream. The handler goroutine owns
// every field but sendMu and settles, which it shares with the stream's
// settler goroutine.
type consumer struct {
	s        *Server
	stream   queuedv1.QueueService_ConsumeServer
	queue    string
	prefetch int
	op       *queuedraftv1.ReceiveOp
	// unsettled maps the receipt handle of each delivery made on this stream
	// that is neither acked nor nacked on it to its visibility deadline; a
	// delivery past its deadline leaves the window.
	unsettled map[string]time.Time

	// settles carries the acks and nacks the handler took from the stream to
	// the settler, which proposes them.
	settles chan settleReq
	// sendMu serializes stream.Send between the handler (deliveries) and the
	// settler (outcomes).
	sendMu sync.Mutex
}

// settleReq is one ack or nack read from the stream.
type settleReq struct {
	kind    string // "ack" or "nack"
	handles []string
	delay   *durationpb.Duration // nack only
}

// maxQueuedSettles bounds the settlements read from the stream and not yet
// proposed; the handler stops reading the stream while it is full.
const maxQueuedSettles = 256

// consume serves a Consume stream. The handler goroutine delivers while the
// prefetch window has room and the local state machine says a receive would
// deliver (waiting as a long poll does otherwise), and takes the acks and
// nacks a reader goroutine hands it: a settled delivery leaves the window at
// once, and the settler goroutine proposes the settlements, coalescing those
// that arrive while a proposal is in flight into one entry, and sends one
// outcome per proposal (errors empty when every handle was settled; each
// error's id is its receipt handle). The stream ends when the client closes
// its side (nil), the client goes (its context's error), a settlement cannot
// be proposed (its error), or the server stops (Unavailable).
func (s *Server) consume(stream queuedv1.QueueService_ConsumeServer) error {
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	start := first.GetStart()
	if start == nil {
		return invalid("start", "must be the first message of a Consume stream")
	}
	if err := validName("start.queue", start.GetQueue()); err != nil {
		return err
	}
	prefetch, err := s.limits.prefetch(start.GetPrefetch())
	if err != nil {
		return err
	}
	vis, err := duration("start.visibility_timeout", start.GetVisibilityTimeout(), 0, MaxVisibilityTimeout)
	if err != nil {
		return err
	}
	release, err := s.enterWait()
	if err != nil {
		return err
	}
	defer release()

	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	reqs := make(chan *queuedv1.ConsumeRequest, maxQueuedSettles)
	recvErr := make(chan error, 1)
	// The reader ends when Recv fails, which it does at the latest when this
	// handler returns and gRPC cancels the stream.
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()

	c := &consumer{
		s: s, stream: stream, queue: start.GetQueue(), prefetch: prefetch,
		op:        &queuedraftv1.ReceiveOp{Queue: start.GetQueue(), VisibilityTimeoutNanos: vis.Nanoseconds()},
		unsettled: map[string]time.Time{},
		settles:   make(chan settleReq, maxQueuedSettles),
	}
	settleErr := make(chan error, 1)
	var settler sync.WaitGroup
	settler.Go(func() { settleErr <- c.settleLoop(ctx) })
	defer settler.Wait()
	defer cancel() // runs before the Wait: the settler stops on ctx

	var notBefore time.Time
	for {
		now := s.now()
		expiry := c.expire(now)
		changed := s.store.Changed()
		var next time.Time
		if room := c.prefetch - len(c.unsettled); room >= c.minDelivery() || (room > 0 && len(c.unsettled) == 0) {
			ok, due, rerr := s.store.Receivable(c.queue, now)
			switch {
			case (ok || rerr != nil) && !now.Before(notBefore):
				n, err := c.deliver(ctx, room)
				if err != nil {
					return err
				}
				if n > 0 {
					continue
				}
				notBefore = s.now().Add(emptyRetry)
				next = notBefore
			case ok || rerr != nil:
				next = notBefore
			default:
				next = due
			}
		}
		if next.IsZero() || (!expiry.IsZero() && expiry.Before(next)) {
			next = expiry
		}
		if err := c.wait(ctx, reqs, recvErr, settleErr, changed, next); err != nil {
			if errors.Is(err, errStreamDone) {
				return nil
			}
			return err
		}
	}
}

// errStreamDone ends a Consume stream without error: the client closed its side.
var errStreamDone = errors.New("queued: consume stream closed by the client")

// wait blocks until a settlement arrives (and hands it to the settler),
// changed is closed, next passes (never, when zero), or the stream, the
// settler or the server ends.
func (c *consumer) wait(ctx context.Context, reqs <-chan *queuedv1.ConsumeRequest, recvErr, settleErr <-chan error, changed <-chan struct{}, next time.Time) error {
	s := c.s
	var timer <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(max(next.Sub(s.now()), time.Millisecond))
		defer t.Stop()
		timer = t.C
	}
	select {
	case r := <-reqs:
		if err := c.take(ctx, r); err != nil {
			return err
		}
		// Take every settlement already read, so that the window the next
		// delivery fills is as large as it can be.
		for {
			select {
			case r := <-reqs:
				if err := c.take(ctx, r); err != nil {
					return err
				}
			default:
				return nil
			}
		}
	case err := <-recvErr:
		if errors.Is(err, io.EOF) {
			return errStreamDone
		}
		return err
	case err := <-settleErr:
		return err
	case <-changed:
	case <-timer:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopping():
		return fmt.Errorf("%w: the Consume stream ends; consume again (on any node)", ErrShuttingDown)
	}
	return nil
}

// expire drops deliveries past their deadline from the window and returns the
// earliest deadline left (zero if none).
func (c *consumer) expire(now time.Time) time.Time {
	var earliest time.Time
	for h, at := range c.unsettled {
		if !now.Before(at) {
			delete(c.unsettled, h)
			continue
		}
		if earliest.IsZero() || at.Before(earliest) {
			earliest = at
		}
	}
	return earliest
}

// minDelivery is the least room in the window worth a receive while
// deliveries are outstanding: a receive is a round through the Raft log, so
// a consumer acking one message at a time gets its next messages in chunks
// of a quarter of its prefetch, not one by one.
func (c *consumer) minDelivery() int { return max(1, c.prefetch/4) }

// deliver proposes a receive of up to room messages and sends what it got.
func (c *consumer) deliver(ctx context.Context, room int) (int, error) {
	c.op.MaxMessages = uint32(min(room, MaxReceiveMessages))
	resp, err := c.s.proposeReceive(ctx, c.op)
	if err != nil {
		return 0, err
	}
	msgs := resp.GetMessages()
	if len(msgs) == 0 {
		return 0, nil
	}
	for _, m := range msgs {
		c.unsettled[m.GetReceiptHandle()] = m.GetVisibleAt().AsTime()
	}
	return len(msgs), c.send(&queuedv1.ConsumeResponse{Header: resp.GetHeader(), Messages: msgs})
}

func (c *consumer) send(r *queuedv1.ConsumeResponse) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(r)
}

// take validates an ack or nack of r, drops its handles from the window and
// queues it for the settler (waiting while the queue is full).
func (c *consumer) take(ctx context.Context, r *queuedv1.ConsumeRequest) error {
	kind, st := "ack", r.GetAck()
	if st == nil {
		kind, st = "nack", r.GetNack()
	}
	if st == nil {
		return invalid("op", "a Consume stream takes start once, then ack or nack")
	}
	handles := st.GetReceiptHandles()
	if len(handles) == 0 {
		return invalid(kind+".receipt_handles", "must not be empty")
	}
	if len(handles) > c.prefetch+MaxBatchEntries {
		return overLimit(kind+".receipt_handles", len(handles), "handles", "", c.prefetch+MaxBatchEntries)
	}
	if kind == "nack" {
		if _, err := duration("nack.delay", st.GetDelay(), 0, MaxVisibilityTimeout); err != nil {
			return err
		}
	}
	for i, h := range handles {
		field := fmt.Sprintf("%s.receipt_handles[%d]", kind, i)
		if h == "" {
			return invalid(field, "must not be empty")
		}
		// Receipt handles are far shorter; the handle is the entry's id.
		if err := validID(field, h, MaxEntryIDLen); err != nil {
			return err
		}
	}
	for _, h := range handles {
		delete(c.unsettled, h)
	}
	select {
	case c.settles <- settleReq{kind: kind, handles: handles, delay: st.GetDelay()}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settleLoop proposes the queued settlements until ctx ends, one proposal at
// a time: each takes the first waiting request and every later one of the
// same kind (and delay) already waiting, up to MaxBatchEntries handles, and
// its outcome is sent on the stream.
func (c *consumer) settleLoop(ctx context.Context) error {
	var held *settleReq // taken from the queue but not of the last batch's kind
	for {
		var first settleReq
		if held != nil {
			first, held = *held, nil
		} else {
			select {
			case first = <-c.settles:
			case <-ctx.Done():
				return nil
			}
		}
		handles := first.handles
	more:
		for len(handles) < MaxBatchEntries {
			select {
			case r := <-c.settles:
				if r.kind != first.kind || !proto.Equal(r.delay, first.delay) {
					held = &r
					break more
				}
				handles = append(handles, r.handles...)
			default:
				break more
			}
		}
		out, err := c.propose(ctx, first.kind, handles, first.delay)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := c.send(out); err != nil {
			return err
		}
	}
}

// propose settles handles in entries of at most MaxBatchEntries and returns
// the outcome to send; each error's id is its receipt handle.
func (c *consumer) propose(ctx context.Context, kind string, handles []string, delay *durationpb.Duration) (*queuedv1.ConsumeResponse, error) {
	out := &queuedv1.ConsumeResponse{}
	for lo := 0; lo < len(handles); lo += MaxBatchEntries {
		hi := min(lo+MaxBatchEntries, len(handles))
		entries := make([]*queuedv1.VisibilityEntry, 0, hi-lo)
		seen := make(map[string]bool, hi-lo)
		for _, h := range handles[lo:hi] {
			if !seen[h] { // the same delivery acked twice is settled once
				seen[h] = true
				entries = append(entries, &queuedv1.VisibilityEntry{Id: h, ReceiptHandle: h, Timeout: delay})
			}
		}
		entries, err := validateSettle(c.queue, entries, "")
		if err != nil {
			return nil, err
		}
		res, hdr, err := c.s.settle(ctx, kind, c.queue, entries)
		if err != nil {
			return nil, err
		}
		out.Header = hdr
		out.Errors = append(out.Errors, res.GetErrors()...)
	}
	return out, nil
}
