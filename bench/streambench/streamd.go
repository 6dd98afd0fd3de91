package streambench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
)

// streamdDriver runs the workload on a streamd topic; every producer and
// consumer has a client (and so connections) of its own.
type streamdDriver struct {
	cfg Config
}

func newStreamdDriver(cfg Config) *streamdDriver { return &streamdDriver{cfg: cfg} }

func (d *streamdDriver) newClient() (*client.Client, error) {
	return client.New(client.Config{Endpoints: d.cfg.Endpoints, TLS: d.cfg.TLS, RequestTimeout: d.cfg.RequestTimeout})
}

func (d *streamdDriver) Setup(ctx context.Context) error {
	c, err := d.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.DeleteTopic(ctx, d.cfg.Topic); err != nil && !errors.Is(err, client.ErrTopicNotFound) {
		return err
	}
	_, err = c.CreateTopic(ctx, &streamdv1.CreateTopicRequest{
		Name: d.cfg.Topic, Partitions: int32(d.cfg.Partitions), Replication: int32(d.cfg.Replication),
		Config: &streamdv1.TopicConfig{MaxBatchBytes: int32(min(64<<20, 2*d.cfg.BatchBytes+64<<10))},
	})
	if err != nil {
		return err
	}
	// Wait until every partition has a leader, so the first produces do not
	// measure the election.
	for {
		t, err := c.DescribeTopic(ctx, d.cfg.Topic)
		if err != nil {
			return err
		}
		led := 0
		for _, p := range t.GetPartitions() {
			if p.GetLeaderAddr() != "" && len(p.GetIsr()) == d.cfg.Replication {
				led++
			}
		}
		if led == d.cfg.Partitions {
			return d.waitVisible(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitVisible waits until every endpoint's node answers Metadata with the
// topic: a producer's first Metadata once failed with "topic not found"
// after the controller had created the topic and every partition had a full
// ISR (seen in bench/stream-compare.sh), so a fresh client's view may lag.
func (d *streamdDriver) waitVisible(ctx context.Context) error {
	for _, ep := range d.cfg.Endpoints {
		c, err := client.New(client.Config{Endpoints: []string{ep}, TLS: d.cfg.TLS, RequestTimeout: d.cfg.RequestTimeout})
		if err != nil {
			return err
		}
		for {
			resp, err := c.Metadata(ctx, d.cfg.Topic)
			if err == nil && len(resp.GetTopics()) == 1 && len(resp.GetTopics()[0].GetPartitions()) == d.cfg.Partitions {
				break
			}
			select {
			case <-ctx.Done():
				c.Close()
				return fmt.Errorf("topic %s not visible through %s: %w", d.cfg.Topic, ep, errors.Join(ctx.Err(), err))
			case <-time.After(50 * time.Millisecond):
			}
		}
		c.Close()
	}
	return nil
}

func (d *streamdDriver) Teardown(ctx context.Context) error {
	c, err := d.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.DeleteTopic(ctx, d.cfg.Topic)
}

func (d *streamdDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	c, err := d.newClient()
	if err != nil {
		return nil, err
	}
	acks := client.AcksAll
	if d.cfg.Acks == AcksLeader {
		acks = client.AcksLeader
	}
	return &streamdProducer{c: c, topic: d.cfg.Topic, acks: acks, timeout: d.cfg.RequestTimeout}, nil
}

// streamdProducer sends each batch with one Produce call naming the
// partition; the client's idempotent producer numbers it.
type streamdProducer struct {
	c       *client.Client
	topic   string
	acks    client.Acks
	timeout time.Duration
}

func (p *streamdProducer) Send(ctx context.Context, partition int32, values [][]byte) error {
	recs := make([]client.Record, len(values))
	now := time.Now()
	for i, v := range values {
		recs[i] = client.Record{Value: v, Timestamp: now}
	}
	_, err := p.c.Produce(ctx, p.topic, recs, client.ProduceOptions{Acks: p.acks, Partition: &partition, Timeout: p.timeout})
	return err
}

func (p *streamdProducer) Close() error { return p.c.Close() }

func (d *streamdDriver) NewConsumer(ctx context.Context, i, n int) (Consumer, error) {
	c, err := d.newClient()
	if err != nil {
		return nil, err
	}
	if d.cfg.Group {
		g, err := c.JoinGroup(ctx, client.GroupConfig{
			Group: d.cfg.Topic + "-bench", Topics: []string{d.cfg.Topic},
			MaxWait: 100 * time.Millisecond, MaxBytes: int32(d.cfg.FetchBytes),
		})
		if err != nil {
			c.Close()
			return nil, err
		}
		return &streamdGroupConsumer{c: c, g: g}, nil
	}
	fc := &streamdFetchConsumer{c: c, out: make(chan []Msg, 4), done: make(chan struct{})}
	for _, p := range partitionsOf(i, n, d.cfg.Partitions) {
		fc.wg.Go(func() { fc.fetchLoop(d.cfg.Topic, p, int32(d.cfg.FetchBytes)) })
	}
	return fc, nil
}

// streamdGroupConsumer is a consumer-group member; it commits its position
// once a second.
type streamdGroupConsumer struct {
	c          *client.Client
	g          *client.GroupConsumer
	lastCommit time.Time
}

func (gc *streamdGroupConsumer) Next(ctx context.Context) ([]Msg, error) {
	for {
		if time.Since(gc.lastCommit) > time.Second {
			gc.lastCommit = time.Now()
			if err := gc.g.Commit(ctx); err != nil && !errors.Is(err, client.ErrRebalance) && !errors.Is(err, client.ErrNotAssigned) {
				return nil, err
			}
		}
		recs, err := gc.g.Poll(ctx)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			continue
		}
		out := make([]Msg, len(recs))
		for i, r := range recs {
			out[i] = Msg{Partition: r.Partition, Offset: r.Offset, Value: r.Value}
		}
		return out, nil
	}
}

func (gc *streamdGroupConsumer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = gc.g.Close(ctx)
	return gc.c.Close()
}

// streamdFetchConsumer long-polls each of its partitions' leaders from a
// goroutine of its own and hands the records to Next.
type streamdFetchConsumer struct {
	c    *client.Client
	out  chan []Msg
	done chan struct{}
	wg   sync.WaitGroup

	mu  sync.Mutex // protects err
	err error
}

func (fc *streamdFetchConsumer) fetchLoop(topic string, part, maxBytes int32) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-fc.done
		cancel()
	}()
	var off int64
	for ctx.Err() == nil {
		f, err := fc.c.Fetch(ctx, topic, part, off, client.FetchOptions{MaxBytes: maxBytes, MaxWait: 100 * time.Millisecond})
		if err != nil {
			if ctx.Err() == nil {
				fc.mu.Lock()
				fc.err = err
				fc.mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		off = f.NextOffset
		if len(f.Records) == 0 {
			continue
		}
		msgs := make([]Msg, len(f.Records))
		for i, r := range f.Records {
			msgs[i] = Msg{Partition: part, Offset: r.Offset, Value: r.Value}
		}
		select {
		case fc.out <- msgs:
		case <-fc.done:
			return
		}
	}
}

func (fc *streamdFetchConsumer) Next(ctx context.Context) ([]Msg, error) {
	select {
	case m := <-fc.out:
		return m, nil
	case <-ctx.Done():
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if fc.err != nil {
			return nil, errors.Join(ctx.Err(), fc.err)
		}
		return nil, ctx.Err()
	}
}

func (fc *streamdFetchConsumer) Close() error {
	close(fc.done)
	fc.wg.Wait()
	return fc.c.Close()
}
