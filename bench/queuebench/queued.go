package queuebench

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// queuedDriver runs the workload on a queued queue through its gRPC API:
// every producer and consumer has a connection of its own, spread over the
// endpoints (followers forward to the leader).
type queuedDriver struct {
	cfg Config
}

func newQueuedDriver(cfg Config) (Driver, error) { return &queuedDriver{cfg: cfg}, nil }

func (d *queuedDriver) dial(i int) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if d.cfg.TLS != nil {
		creds = credentials.NewTLS(d.cfg.TLS)
	}
	return grpc.NewClient(d.cfg.Endpoints[i%len(d.cfg.Endpoints)], grpc.WithTransportCredentials(creds))
}

func (d *queuedDriver) admin(ctx context.Context, f func(queuedv1.QueueServiceClient) error) error {
	conn, err := d.dial(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	return f(queuedv1.NewQueueServiceClient(conn))
}

func (d *queuedDriver) Setup(ctx context.Context) error {
	return d.admin(ctx, func(c queuedv1.QueueServiceClient) error {
		if _, err := c.DeleteQueue(ctx, &queuedv1.DeleteQueueRequest{Name: d.cfg.Queue}); err != nil && status.Code(err) != codes.NotFound {
			return err
		}
		_, err := c.CreateQueue(ctx, &queuedv1.CreateQueueRequest{Name: d.cfg.Queue})
		return err
	})
}

func (d *queuedDriver) Teardown(ctx context.Context) error {
	return d.admin(ctx, func(c queuedv1.QueueServiceClient) error {
		_, err := c.DeleteQueue(ctx, &queuedv1.DeleteQueueRequest{Name: d.cfg.Queue})
		return err
	})
}

func (d *queuedDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	conn, err := d.dial(i)
	if err != nil {
		return nil, err
	}
	return &queuedProducer{conn: conn, c: queuedv1.NewQueueServiceClient(conn), queue: d.cfg.Queue}, nil
}

type queuedProducer struct {
	conn  *grpc.ClientConn
	c     queuedv1.QueueServiceClient
	queue string
}

// Send returns once the message is committed (fsynced on a quorum).
func (p *queuedProducer) Send(ctx context.Context, body []byte) error {
	resp, err := p.c.Send(ctx, &queuedv1.SendRequest{Queue: p.queue, Entries: []*queuedv1.SendEntry{{Body: body}}})
	if err != nil {
		return err
	}
	if len(resp.GetErrors()) > 0 {
		e := resp.GetErrors()[0]
		return fmt.Errorf("queued: send refused: %s: %s", e.GetReason(), e.GetMessage())
	}
	return nil
}

// SendBatch sends bodies in one Send call (at most 100).
func (p *queuedProducer) SendBatch(ctx context.Context, bodies [][]byte) error {
	entries := make([]*queuedv1.SendEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = &queuedv1.SendEntry{Id: strconv.Itoa(i), Body: b}
	}
	resp, err := p.c.Send(ctx, &queuedv1.SendRequest{Queue: p.queue, Entries: entries})
	if err != nil {
		return err
	}
	if len(resp.GetErrors()) > 0 {
		e := resp.GetErrors()[0]
		return fmt.Errorf("queued: send refused: %s: %s", e.GetReason(), e.GetMessage())
	}
	return nil
}

func (p *queuedProducer) Close() error { return p.conn.Close() }

func (d *queuedDriver) NewConsumer(ctx context.Context, i int) (Consumer, error) {
	conn, err := d.dial(i)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := queuedv1.NewQueueServiceClient(conn).Consume(sctx)
	if err == nil {
		err = stream.Send(&queuedv1.ConsumeRequest{Op: &queuedv1.ConsumeRequest_Start{Start: &queuedv1.ConsumeStart{Queue: d.cfg.Queue, Prefetch: uint32(d.cfg.Prefetch)}}})
	}
	if err != nil {
		cancel()
		conn.Close()
		return nil, err
	}
	c := &queuedConsumer{conn: conn, cancel: cancel, stream: stream, msgs: make(chan *queuedv1.Message, d.cfg.Prefetch), done: make(chan struct{})}
	go c.pump()
	return c, nil
}

// queuedConsumer reads the Consume stream in a goroutine, so that Next can
// wait with a context, and acks each delivery on the stream.
type queuedConsumer struct {
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	stream queuedv1.QueueService_ConsumeClient
	msgs   chan *queuedv1.Message
	done   chan struct{}
	err    error // set by pump before it closes msgs
}

func (c *queuedConsumer) pump() {
	defer close(c.msgs)
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			c.err = err
			return
		}
		if len(resp.GetErrors()) > 0 {
			e := resp.GetErrors()[0]
			c.err = fmt.Errorf("queued: ack refused: %s: %s", e.GetReason(), e.GetMessage())
			return
		}
		for _, m := range resp.GetMessages() {
			select {
			case c.msgs <- m:
			case <-c.done:
				return
			}
		}
	}
}

func (c *queuedConsumer) Next(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.msgs:
		if !ok {
			if c.err == nil {
				c.err = errors.New("queued: consume stream ended")
			}
			return nil, c.err
		}
		ack := &queuedv1.ConsumeRequest{Op: &queuedv1.ConsumeRequest_Ack{Ack: &queuedv1.ConsumeSettle{ReceiptHandles: []string{m.GetReceiptHandle()}}}}
		if err := c.stream.Send(ack); err != nil {
			return nil, err
		}
		return m.GetBody(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *queuedConsumer) Close() error {
	close(c.done)
	c.cancel()
	return c.conn.Close()
}
