package streambench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsDriver runs the workload on JetStream: one stream per partition (file
// storage, Replication replicas, each its own Raft group, as each streamd
// partition has its own leader), named <topic>-<p> with subject <topic>.<p>.
// Producers publish asynchronously and wait for every PubAck of a batch;
// consumers read each of their partitions' streams with an ordered consumer
// (no acks, flow controlled), the closest thing to a Kafka fetch.
type natsDriver struct {
	cfg Config
}

func newNATSDriver(cfg Config) *natsDriver { return &natsDriver{cfg: cfg} }

func (d *natsDriver) stream(p int) string  { return fmt.Sprintf("%s-%d", d.cfg.Topic, p) }
func (d *natsDriver) subject(p int) string { return fmt.Sprintf("%s.%d", d.cfg.Topic, p) }

func (d *natsDriver) connect(i int, opts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
	urls := make([]string, len(d.cfg.Endpoints))
	for k := range d.cfg.Endpoints {
		urls[k] = "nats://" + d.cfg.Endpoints[(i+k)%len(d.cfg.Endpoints)]
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize())
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc, opts...)
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
	for p := range d.cfg.Partitions {
		if err := js.DeleteStream(ctx, d.stream(p)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:     d.stream(p),
			Subjects: []string{d.subject(p)},
			Storage:  jetstream.FileStorage,
			Replicas: d.cfg.Replication,
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", d.stream(p), err)
		}
	}
	return nil
}

func (d *natsDriver) Teardown(ctx context.Context) error {
	nc, js, err := d.connect(0)
	if err != nil {
		return err
	}
	defer nc.Close()
	var errs []error
	for p := range d.cfg.Partitions {
		errs = append(errs, js.DeleteStream(ctx, d.stream(p)))
	}
	return errors.Join(errs...)
}

func (d *natsDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	pending := 2 * d.cfg.Partitions * d.cfg.batchRecords()
	nc, js, err := d.connect(i, jetstream.WithPublishAsyncMaxPending(pending), jetstream.WithPublishAsyncTimeout(d.cfg.RequestTimeout))
	if err != nil {
		return nil, err
	}
	subjects := make([]string, d.cfg.Partitions)
	for p := range subjects {
		subjects[p] = d.subject(p)
	}
	return &natsProducer{nc: nc, js: js, subjects: subjects}, nil
}

type natsProducer struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	subjects []string
}

// Send publishes every value asynchronously, then waits for all their
// PubAcks (each message stored on a quorum of the stream's replicas).
func (p *natsProducer) Send(ctx context.Context, partition int32, values [][]byte) error {
	futures := make([]jetstream.PubAckFuture, 0, len(values))
	for _, v := range values {
		f, err := p.js.PublishAsync(p.subjects[partition], v)
		if err != nil {
			return err
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *natsProducer) Close() error {
	p.nc.Close()
	return nil
}

func (d *natsDriver) NewConsumer(ctx context.Context, i, n int) (Consumer, error) {
	nc, js, err := d.connect(i)
	if err != nil {
		return nil, err
	}
	c := &natsConsumer{nc: nc, out: make(chan []Msg, 16), done: make(chan struct{})}
	for _, p := range partitionsOf(i, n, d.cfg.Partitions) {
		cons, err := js.OrderedConsumer(ctx, d.stream(int(p)), jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
		var cc jetstream.ConsumeContext
		if err == nil {
			cc, err = cons.Consume(c.handler(p), jetstream.PullMaxMessages(4096))
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		c.ccs = append(c.ccs, cc)
	}
	return c, nil
}

// natsConsumer gathers each partition's messages into batches, handed to
// Next when the stream has nothing more pending or the batch is full.
type natsConsumer struct {
	nc   *nats.Conn
	ccs  []jetstream.ConsumeContext
	out  chan []Msg
	done chan struct{} // closed by Close

	mu  sync.Mutex // protects err
	err error
}

// natsBatch is the most messages a batch handed to Next holds.
const natsBatch = 1000

func (c *natsConsumer) handler(p int32) jetstream.MessageHandler {
	var buf []Msg // used by this partition's callbacks, called one at a time
	return func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		buf = append(buf, Msg{Partition: p, Offset: int64(md.Sequence.Stream), Value: m.Data()})
		if md.NumPending == 0 || len(buf) >= natsBatch {
			select {
			case c.out <- buf:
			case <-c.done:
			}
			buf = nil
		}
	}
}

func (c *natsConsumer) Next(ctx context.Context) ([]Msg, error) {
	select {
	case m := <-c.out:
		return m, nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil {
			return nil, errors.Join(ctx.Err(), c.err)
		}
		return nil, ctx.Err()
	}
}

func (c *natsConsumer) Close() error {
	for _, cc := range c.ccs {
		cc.Stop()
	}
	close(c.done) // unblocks a handler waiting to hand a batch over
	c.nc.Close()
	return nil
}
