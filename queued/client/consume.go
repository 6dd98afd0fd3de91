package client

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Consumer is one Consume stream: the server delivers messages while fewer
// than the prefetch window are unsettled (delivered on this stream and
// neither acked nor nacked on it, nor past their visibility deadline).
//
// Recv must be called from one goroutine; Ack and Nack may be called from any
// goroutine, concurrently with Recv. The outcome of each Ack and Nack comes
// back through Recv as a response with no messages (its Errors list the
// handles that failed, by position). A stream that fails (the node stops, the
// connection drops) is not resumed: Consume again; unsettled deliveries come
// back after their visibility deadline.
type Consumer struct {
	stream queuedv1.QueueService_ConsumeClient
	cancel context.CancelFunc

	mu sync.Mutex // serializes Send on the stream
}

// Consume opens a Consume stream on queue with a prefetch window (0: the
// server's default of 10) and a visibility timeout for its deliveries (0: the
// queue's). The stream lives until ctx ends or Close.
func (c *Client) Consume(ctx context.Context, queue string, prefetch int, visibility time.Duration) (*Consumer, error) {
	if c.conn.Closed() {
		return nil, errs.Local("consume", ErrClosed)
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.queues.Consume(ctx, grpc.WaitForReady(true))
	if err != nil {
		cancel()
		return nil, toError("consume", kindWrite, err)
	}
	start := &queuedv1.ConsumeStart{Queue: queue, Prefetch: uint32(max(prefetch, 0))}
	if visibility > 0 {
		start.VisibilityTimeout = durationpb.New(visibility)
	}
	if err := stream.Send(&queuedv1.ConsumeRequest{Op: &queuedv1.ConsumeRequest_Start{Start: start}}); err != nil {
		cancel()
		_, rerr := stream.Recv()
		if rerr != nil {
			err = rerr
		}
		return nil, toError("consume", kindWrite, err)
	}
	return &Consumer{stream: stream, cancel: cancel}, nil
}

// Recv returns the next response: deliveries, or the outcome of an Ack or
// Nack. It fails when the stream ends (an *Error; io.EOF is never returned
// while the server serves).
func (s *Consumer) Recv() (*queuedv1.ConsumeResponse, error) {
	resp, err := s.stream.Recv()
	if err != nil {
		return nil, toError("consume", kindWrite, err)
	}
	return resp, nil
}

// Ack settles deliveries of this stream by receipt handle.
func (s *Consumer) Ack(handles ...string) error {
	return s.send(&queuedv1.ConsumeRequest{Op: &queuedv1.ConsumeRequest_Ack{Ack: &queuedv1.ConsumeSettle{ReceiptHandles: handles}}})
}

// Nack makes deliveries of this stream visible again after delay (0: now).
func (s *Consumer) Nack(delay time.Duration, handles ...string) error {
	return s.send(&queuedv1.ConsumeRequest{Op: &queuedv1.ConsumeRequest_Nack{Nack: &queuedv1.ConsumeSettle{ReceiptHandles: handles, Delay: durationpb.New(delay)}}})
}

func (s *Consumer) send(r *queuedv1.ConsumeRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stream.Send(r); err != nil {
		return toError("consume", kindWrite, err)
	}
	return nil
}

// Close ends the stream. Unsettled deliveries become visible again after
// their visibility deadline. Idempotent.
func (s *Consumer) Close() error {
	s.mu.Lock()
	_ = s.stream.CloseSend()
	s.mu.Unlock()
	s.cancel()
	return nil
}
