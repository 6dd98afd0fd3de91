package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// CreateQueue creates queue name with attrs (nil, or zero fields, for the
// defaults). Creating a queue that exists with the same attributes succeeds
// with created false; with other attributes it fails with ErrQueueExists.
func (c *Client) CreateQueue(ctx context.Context, name string, attrs *queuedv1.QueueAttributes) (q *queuedv1.Queue, created bool, err error) {
	req := &queuedv1.CreateQueueRequest{Name: name, Attributes: attrs}
	resp, err := call(ctx, c, "create-queue", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.CreateQueueResponse, error) {
		return c.queues.CreateQueue(ctx, req, co...)
	})
	return resp.GetQueue(), resp.GetCreated(), err
}

// GetQueue returns a queue's attributes and counts.
func (c *Client) GetQueue(ctx context.Context, name string) (*queuedv1.Queue, error) {
	resp, err := call(ctx, c, "get-queue", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.GetQueueResponse, error) {
		return c.queues.GetQueue(ctx, &queuedv1.GetQueueRequest{Name: name}, co...)
	})
	return resp.GetQueue(), err
}

// SetQueueAttributes changes the attributes named in mask ("visibility_timeout",
// "max_receives", ...) to their values in attrs.
func (c *Client) SetQueueAttributes(ctx context.Context, name string, attrs *queuedv1.QueueAttributes, mask ...string) (*queuedv1.Queue, error) {
	req := &queuedv1.SetQueueAttributesRequest{Name: name, Attributes: attrs, Mask: mask}
	resp, err := call(ctx, c, "set-queue-attributes", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.SetQueueAttributesResponse, error) {
		return c.queues.SetQueueAttributes(ctx, req, co...)
	})
	return resp.GetQueue(), err
}

// ListQueues returns one page of queues whose names start with prefix, after
// the page token (""), and the next page's token ("" on the last page).
// pageSize 0 means the server's maximum.
func (c *Client) ListQueues(ctx context.Context, prefix, pageToken string, pageSize int) ([]*queuedv1.Queue, string, error) {
	req := &queuedv1.ListQueuesRequest{Prefix: prefix, PageToken: pageToken, PageSize: uint32(max(pageSize, 0))}
	resp, err := call(ctx, c, "list-queues", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.ListQueuesResponse, error) {
		return c.queues.ListQueues(ctx, req, co...)
	})
	return resp.GetQueues(), resp.GetNextPageToken(), err
}

// PurgeQueue deletes every message of a queue and returns how many there were.
func (c *Client) PurgeQueue(ctx context.Context, name string) (int64, error) {
	resp, err := call(ctx, c, "purge-queue", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.PurgeQueueResponse, error) {
		return c.queues.PurgeQueue(ctx, &queuedv1.PurgeQueueRequest{Name: name}, co...)
	})
	return resp.GetPurged(), err
}

// DeleteQueue deletes a queue and its messages.
func (c *Client) DeleteQueue(ctx context.Context, name string) error {
	_, err := call(ctx, c, "delete-queue", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.DeleteQueueResponse, error) {
		return c.queues.DeleteQueue(ctx, &queuedv1.DeleteQueueRequest{Name: name}, co...)
	})
	return err
}

// Send enqueues a batch (1..100 entries, each with a unique id when more than
// one). Entries fail one by one: the response lists the accepted ones and the
// failed ones (see EntryErr); the call returns once every accepted entry is
// committed.
func (c *Client) Send(ctx context.Context, queue string, entries ...*queuedv1.SendEntry) (*queuedv1.SendResponse, error) {
	req := &queuedv1.SendRequest{Queue: queue, Entries: entries}
	return call(ctx, c, "send", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.SendResponse, error) {
		return c.queues.Send(ctx, req, co...)
	})
}

// SendOption sets a field of the entry SendMessage sends.
type SendOption func(*queuedv1.SendEntry)

// WithDelay keeps the message invisible for d (standard queues; at most 15m).
func WithDelay(d time.Duration) SendOption {
	return func(e *queuedv1.SendEntry) { e.Delay = durationpb.New(d) }
}

// WithGroup sets the message group (FIFO queues; required there).
func WithGroup(id string) SendOption { return func(e *queuedv1.SendEntry) { e.GroupId = id } }

// WithDeduplicationID sets the deduplication id (FIFO queues).
func WithDeduplicationID(id string) SendOption {
	return func(e *queuedv1.SendEntry) { e.DeduplicationId = id }
}

// WithAttribute adds a String attribute.
func WithAttribute(name, value string) SendOption {
	return func(e *queuedv1.SendEntry) {
		if e.Attributes == nil {
			e.Attributes = map[string]*queuedv1.AttributeValue{}
		}
		e.Attributes[name] = &queuedv1.AttributeValue{DataType: "String", StringValue: value}
	}
}

// SendMessage sends one message; a failure of the entry is returned as an
// error (see EntryErr).
func (c *Client) SendMessage(ctx context.Context, queue string, body []byte, opts ...SendOption) (*queuedv1.SendResult, error) {
	e := &queuedv1.SendEntry{Body: body}
	for _, o := range opts {
		o(e)
	}
	resp, err := c.Send(ctx, queue, e)
	if err != nil {
		return nil, err
	}
	if len(resp.GetErrors()) > 0 {
		return nil, EntryErr("send", resp.GetErrors()[0])
	}
	if len(resp.GetResults()) == 0 {
		return nil, errs.Local("send", errEmptyResult)
	}
	return resp.GetResults()[0], nil
}

// ReceiveOption sets a field of a Receive.
type ReceiveOption func(*queuedv1.ReceiveRequest)

// WithMaxMessages receives up to n messages (default 1, at most 100).
func WithMaxMessages(n int) ReceiveOption {
	return func(r *queuedv1.ReceiveRequest) { r.MaxMessages = uint32(max(n, 0)) }
}

// WithWait long-polls up to d (at most 20s) for the first message; without
// it the queue's receive_wait applies.
func WithWait(d time.Duration) ReceiveOption {
	return func(r *queuedv1.ReceiveRequest) { r.Wait = durationpb.New(d) }
}

// WithVisibilityTimeout overrides the queue's visibility timeout for these
// deliveries.
func WithVisibilityTimeout(d time.Duration) ReceiveOption {
	return func(r *queuedv1.ReceiveRequest) { r.VisibilityTimeout = durationpb.New(d) }
}

// Receive takes up to the asked number of visible messages, long-polling as
// asked; it returns no messages (and no error) when none came within the
// wait. Each delivery's receipt handle acks, nacks or extends it.
func (c *Client) Receive(ctx context.Context, queue string, opts ...ReceiveOption) ([]*queuedv1.Message, error) {
	req := &queuedv1.ReceiveRequest{Queue: queue}
	for _, o := range opts {
		o(req)
	}
	extra := MaxWait
	if req.Wait != nil {
		extra = req.GetWait().AsDuration()
	}
	resp, err := call(ctx, c, "receive", kindWrite, extra, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.ReceiveResponse, error) {
		return c.queues.Receive(ctx, req, co...)
	})
	return resp.GetMessages(), err
}

// MaxWait is the longest long-poll wait a queue or a Receive may ask for.
const MaxWait = 20 * time.Second

// Ack deletes received messages by receipt handle; entries fail one by one
// (an entry's id is its position). Acking a message that is gone succeeds.
func (c *Client) Ack(ctx context.Context, queue string, handles ...string) (*queuedv1.AckResponse, error) {
	req := &queuedv1.AckRequest{Queue: queue}
	for _, h := range handles {
		req.Entries = append(req.Entries, &queuedv1.ReceiptEntry{ReceiptHandle: h})
	}
	return call(ctx, c, "ack", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.AckResponse, error) {
		return c.queues.Ack(ctx, req, co...)
	})
}

func visibilityEntries(handles []string, d time.Duration) []*queuedv1.VisibilityEntry {
	out := make([]*queuedv1.VisibilityEntry, len(handles))
	for i, h := range handles {
		out[i] = &queuedv1.VisibilityEntry{ReceiptHandle: h, Timeout: durationpb.New(d)}
	}
	return out
}

// Nack makes received messages visible again after delay (0: now).
func (c *Client) Nack(ctx context.Context, queue string, delay time.Duration, handles ...string) (*queuedv1.NackResponse, error) {
	req := &queuedv1.NackRequest{Queue: queue, Entries: visibilityEntries(handles, delay)}
	return call(ctx, c, "nack", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.NackResponse, error) {
		return c.queues.Nack(ctx, req, co...)
	})
}

// ExtendVisibility sets received messages' visibility deadline to now plus
// timeout (at most 12h).
func (c *Client) ExtendVisibility(ctx context.Context, queue string, timeout time.Duration, handles ...string) (*queuedv1.ExtendVisibilityResponse, error) {
	req := &queuedv1.ExtendVisibilityRequest{Queue: queue, Entries: visibilityEntries(handles, timeout)}
	return call(ctx, c, "extend-visibility", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.ExtendVisibilityResponse, error) {
		return c.queues.ExtendVisibility(ctx, req, co...)
	})
}

// Redrive moves up to maxMessages (0: all) messages from a dead letter queue
// back to the queue each came from, or to destination when it is not "".
func (c *Client) Redrive(ctx context.Context, deadLetterQueue, destination string, maxMessages uint64) (int64, error) {
	req := &queuedv1.RedriveRequest{DeadLetterQueue: deadLetterQueue, Destination: destination, MaxMessages: maxMessages}
	resp, err := call(ctx, c, "redrive", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.RedriveResponse, error) {
		return c.queues.Redrive(ctx, req, co...)
	})
	return resp.GetMoved(), err
}
