package queuebench

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"
)

// queuedDriver runs the workload on a queued queue through the Go client,
// as a queued user would: every producer and consumer has a client (and so
// connections) of its own, and the client sends its calls to the leader it
// follows (any node would forward them there).
type queuedDriver struct {
	cfg Config
}

func newQueuedDriver(cfg Config) (Driver, error) { return &queuedDriver{cfg: cfg}, nil }

func (d *queuedDriver) newClient() (*client.Client, error) {
	return client.New(client.Config{Endpoints: d.cfg.Endpoints, TLS: d.cfg.TLS, RequestTimeout: d.cfg.RequestTimeout})
}

func (d *queuedDriver) admin(f func(*client.Client) error) error {
	c, err := d.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

func (d *queuedDriver) Setup(ctx context.Context) error {
	return d.admin(func(c *client.Client) error {
		if err := c.DeleteQueue(ctx, d.cfg.Queue); err != nil && !errors.Is(err, client.ErrQueueNotFound) {
			return err
		}
		_, _, err := c.CreateQueue(ctx, d.cfg.Queue, nil)
		return err
	})
}

func (d *queuedDriver) Teardown(ctx context.Context) error {
	return d.admin(func(c *client.Client) error { return c.DeleteQueue(ctx, d.cfg.Queue) })
}

func (d *queuedDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	c, err := d.newClient()
	if err != nil {
		return nil, err
	}
	return &queuedProducer{c: c, queue: d.cfg.Queue}, nil
}

type queuedProducer struct {
	c     *client.Client
	queue string
}

// Send returns once the message is committed (fsynced on a quorum).
func (p *queuedProducer) Send(ctx context.Context, body []byte) error {
	_, err := p.c.SendMessage(ctx, p.queue, body)
	return err
}

// SendBatch sends bodies in one Send call (at most 100).
func (p *queuedProducer) SendBatch(ctx context.Context, bodies [][]byte) error {
	entries := make([]*queuedv1.SendEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = &queuedv1.SendEntry{Id: strconv.Itoa(i), Body: b}
	}
	resp, err := p.c.Send(ctx, p.queue, entries...)
	if err != nil {
		return err
	}
	if len(resp.GetErrors()) > 0 {
		e := resp.GetErrors()[0]
		return fmt.Errorf("queued: send refused: %s: %s", e.GetReason(), e.GetMessage())
	}
	return nil
}

func (p *queuedProducer) Close() error { return p.c.Close() }

func (d *queuedDriver) NewConsumer(ctx context.Context, i int) (Consumer, error) {
	c, err := d.newClient()
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	cons, err := c.Consume(sctx, d.cfg.Queue, d.cfg.Prefetch, 0)
	if err != nil {
		cancel()
		c.Close()
		return nil, err
	}
	qc := &queuedConsumer{c: c, cancel: cancel, cons: cons, msgs: make(chan *queuedv1.Message, d.cfg.Prefetch), done: make(chan struct{})}
	go qc.pump()
	return qc, nil
}

// queuedConsumer reads the Consume stream in a goroutine, so that Next can
// wait with a context, and acks each delivery on the stream.
type queuedConsumer struct {
	c      *client.Client
	cancel context.CancelFunc
	cons   *client.Consumer
	msgs   chan *queuedv1.Message
	done   chan struct{}
	err    error // set by pump before it closes msgs
}

func (c *queuedConsumer) pump() {
	defer close(c.msgs)
	for {
		resp, err := c.cons.Recv()
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
		if err := c.cons.Ack(m.GetReceiptHandle()); err != nil {
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
	c.cons.Close()
	return c.c.Close()
}
