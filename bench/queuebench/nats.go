package queuebench

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsDriver runs the workload on a JetStream work-queue stream with file
// storage and 3 replicas; every producer and consumer has a connection of
// its own.
type natsDriver struct {
	cfg Config
}

func newNATSDriver(cfg Config) *natsDriver { return &natsDriver{cfg: cfg} }

func (d *natsDriver) subject() string { return "bench." + d.cfg.Queue }

func (d *natsDriver) connect(i int) (*nats.Conn, jetstream.JetStream, error) {
	urls := make([]string, len(d.cfg.Endpoints))
	for k := range d.cfg.Endpoints {
		urls[k] = "nats://" + d.cfg.Endpoints[(i+k)%len(d.cfg.Endpoints)]
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize())
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func (d *natsDriver) Setup(ctx context.Context) error {
	nc, js, err := d.connect(0)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := js.DeleteStream(ctx, d.cfg.Queue); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      d.cfg.Queue,
		Subjects:  []string{d.subject()},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  min(3, len(d.cfg.Endpoints)),
	})
	if err != nil {
		return err
	}
	_, err = js.CreateOrUpdateConsumer(ctx, d.cfg.Queue, jetstream.ConsumerConfig{
		Durable:       "bench",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: d.cfg.Prefetch * d.cfg.Consumers,
	})
	return err
}

func (d *natsDriver) Teardown(ctx context.Context) error {
	nc, js, err := d.connect(0)
	if err != nil {
		return err
	}
	defer nc.Close()
	return js.DeleteStream(ctx, d.cfg.Queue)
}

func (d *natsDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	nc, js, err := d.connect(i)
	if err != nil {
		return nil, err
	}
	return &natsProducer{nc: nc, js: js, subject: d.subject()}, nil
}

type natsProducer struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	subject string
}

// Send publishes and waits for the stream's PubAck (the message is stored on
// a quorum of the replicas).
func (p *natsProducer) Send(ctx context.Context, body []byte) error {
	_, err := p.js.Publish(ctx, p.subject, body)
	return err
}

func (p *natsProducer) Close() error {
	p.nc.Close()
	return nil
}

func (d *natsDriver) NewConsumer(ctx context.Context, i int) (Consumer, error) {
	nc, js, err := d.connect(i)
	if err != nil {
		return nil, err
	}
	cons, err := js.Consumer(ctx, d.cfg.Queue, "bench")
	var it jetstream.MessagesContext
	if err == nil {
		it, err = cons.Messages(jetstream.PullMaxMessages(d.cfg.Prefetch))
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	c := &natsConsumer{nc: nc, it: it, msgs: make(chan jetstream.Msg, d.cfg.Prefetch), done: make(chan struct{})}
	go c.pump()
	return c, nil
}

// natsConsumer turns the pull iterator (which blocks without a context) into
// a channel that Next can select on.
type natsConsumer struct {
	nc   *nats.Conn
	it   jetstream.MessagesContext
	msgs chan jetstream.Msg
	done chan struct{}
	err  error // set by pump before it closes msgs
}

func (c *natsConsumer) pump() {
	defer close(c.msgs)
	for {
		m, err := c.it.Next()
		if err != nil {
			c.err = err
			return
		}
		select {
		case c.msgs <- m:
		case <-c.done:
			return
		}
	}
}

func (c *natsConsumer) Next(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.msgs:
		if !ok {
			return nil, c.err
		}
		if err := m.Ack(); err != nil {
			return nil, err
		}
		return m.Data(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *natsConsumer) Close() error {
	close(c.done)
	c.it.Stop()
	c.nc.Close()
	return nil
}
