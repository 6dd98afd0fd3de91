package queued

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// consumer is the state of one Consume stream. Only the stream's handler
// goroutine touches it.
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
}

// consume serves a Consume stream. The handler goroutine does everything but
// read the stream: it delivers while the prefetch window has room and the
// local state machine says a receive would deliver (waiting as a long poll
// does otherwise), and it settles the acks and nacks a reader goroutine hands
// it, sending each settlement's outcome back (errors empty when every handle
// was settled). The stream ends when the client closes its side (nil), the
// client goes (its context's error) or the server stops (Unavailable).
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

	ctx := stream.Context()
	reqs := make(chan *queuedv1.ConsumeRequest)
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
	}
	var notBefore time.Time
	for {
		now := s.now()
		expiry := c.expire(now)
		changed := s.store.Changed()
		var next time.Time
		if room := c.prefetch - len(c.unsettled); room > 0 {
			ok, due, rerr := s.store.Receivable(c.queue, now)
			switch {
			case (ok || rerr != nil) && !now.Before(notBefore):
				n, err := c.deliver(room)
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
		if err := c.wait(reqs, recvErr, changed, next); err != nil {
			if errors.Is(err, errStreamDone) {
				return nil
			}
			return err
		}
	}
}

// errStreamDone ends a Consume stream without error: the client closed its side.
var errStreamDone = errors.New("queued: consume stream closed by the client")

// wait blocks until a settlement arrives (and settles it), changed is closed,
// next passes (never, when zero), or the stream or the server ends.
func (c *consumer) wait(reqs <-chan *queuedv1.ConsumeRequest, recvErr <-chan error, changed <-chan struct{}, next time.Time) error {
	s := c.s
	ctx := c.stream.Context()
	var timer <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(max(next.Sub(s.now()), time.Millisecond))
		defer t.Stop()
		timer = t.C
	}
	select {
	case r := <-reqs:
		return c.settle(r)
	case err := <-recvErr:
		if errors.Is(err, io.EOF) {
			return errStreamDone
		}
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

// deliver proposes a receive of up to room messages and sends what it got.
func (c *consumer) deliver(room int) (int, error) {
	c.op.MaxMessages = uint32(min(room, MaxReceiveMessages))
	resp, err := c.s.proposeReceive(c.stream.Context(), c.op)
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
	return len(msgs), c.stream.Send(&queuedv1.ConsumeResponse{Header: resp.GetHeader(), Messages: msgs})
}

// settle acks or nacks the handles of r, in proposals of at most
// MaxBatchEntries, drops them from the window and sends the outcome. Entry
// ids in errors are the handles' positions in r.
func (c *consumer) settle(r *queuedv1.ConsumeRequest) error {
	kind, s := "ack", r.GetAck()
	if s == nil {
		kind, s = "nack", r.GetNack()
	}
	if s == nil {
		return invalid("op", "a Consume stream takes start once, then ack or nack")
	}
	handles := s.GetReceiptHandles()
	if len(handles) == 0 {
		return invalid(kind+".receipt_handles", "must not be empty")
	}
	if len(handles) > c.prefetch+MaxBatchEntries {
		return overLimit(kind+".receipt_handles", len(handles), "handles", "", c.prefetch+MaxBatchEntries)
	}
	if kind == "nack" {
		if _, err := duration("nack.delay", s.GetDelay(), 0, MaxVisibilityTimeout); err != nil {
			return err
		}
	}
	out := &queuedv1.ConsumeResponse{}
	for lo := 0; lo < len(handles); lo += MaxBatchEntries {
		hi := min(lo+MaxBatchEntries, len(handles))
		entries := make([]*queuedv1.VisibilityEntry, 0, hi-lo)
		for i := lo; i < hi; i++ {
			entries = append(entries, &queuedv1.VisibilityEntry{Id: strconv.Itoa(i), ReceiptHandle: handles[i], Timeout: s.GetDelay()})
		}
		entries, err := validateSettle(c.queue, entries, "")
		if err != nil {
			return err
		}
		res, hdr, err := c.s.settle(c.stream.Context(), kind, c.queue, entries)
		if err != nil {
			return err
		}
		out.Header = hdr
		out.Errors = append(out.Errors, res.GetErrors()...)
	}
	for _, h := range handles {
		delete(c.unsettled, h)
	}
	return c.stream.Send(out)
}
