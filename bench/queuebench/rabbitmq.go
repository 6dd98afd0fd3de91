package queuebench

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitDriver runs the workload on a RabbitMQ quorum queue: every producer
// and consumer has a connection of its own, spread over the endpoints.
type rabbitDriver struct {
	cfg Config
}

func newRabbitDriver(cfg Config) *rabbitDriver { return &rabbitDriver{cfg: cfg} }

func (d *rabbitDriver) dial(i int) (*amqp.Connection, error) {
	ep := d.cfg.Endpoints[i%len(d.cfg.Endpoints)]
	return amqp.Dial(fmt.Sprintf("amqp://%s:%s@%s/", d.cfg.Username, d.cfg.Password, ep))
}

// admin runs f on a channel of a short-lived connection.
func (d *rabbitDriver) admin(f func(*amqp.Channel) error) error {
	conn, err := d.dial(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	return f(ch)
}

func (d *rabbitDriver) Setup(ctx context.Context) error {
	return d.admin(func(ch *amqp.Channel) error {
		if _, err := ch.QueueDelete(d.cfg.Queue, false, false, false); err != nil {
			return err
		}
		// A quorum queue: a Raft group over the cluster's nodes (3 here);
		// publisher confirms come after a quorum wrote (and fsynced) the message.
		_, err := ch.QueueDeclare(d.cfg.Queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"})
		return err
	})
}

func (d *rabbitDriver) Teardown(ctx context.Context) error {
	return d.admin(func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(d.cfg.Queue, false, false, false)
		return err
	})
}

func (d *rabbitDriver) NewProducer(ctx context.Context, i int) (Producer, error) {
	conn, err := d.dial(i)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &rabbitProducer{conn: conn, ch: ch, queue: d.cfg.Queue, confirms: ch.NotifyPublish(make(chan amqp.Confirmation, 1))}, nil
}

type rabbitProducer struct {
	conn     *amqp.Connection
	ch       *amqp.Channel
	queue    string
	confirms chan amqp.Confirmation
}

func (p *rabbitProducer) Send(ctx context.Context, body []byte) error {
	err := p.ch.PublishWithContext(ctx, "", p.queue, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body})
	if err != nil {
		return err
	}
	select {
	case c, ok := <-p.confirms:
		if !ok {
			return errors.New("rabbitmq: channel closed before the confirm")
		}
		if !c.Ack {
			return errors.New("rabbitmq: publish nacked")
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *rabbitProducer) Close() error { return p.conn.Close() }

func (d *rabbitDriver) NewConsumer(ctx context.Context, i int) (Consumer, error) {
	conn, err := d.dial(i)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Qos(d.cfg.Prefetch, 0, false)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(d.cfg.Queue, "", false, false, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &rabbitConsumer{conn: conn, deliveries: deliveries}, nil
}

type rabbitConsumer struct {
	conn       *amqp.Connection
	deliveries <-chan amqp.Delivery
}

func (c *rabbitConsumer) Next(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.deliveries:
		if !ok {
			return nil, errors.New("rabbitmq: consumer closed")
		}
		if err := m.Ack(false); err != nil {
			return nil, err
		}
		return m.Body, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *rabbitConsumer) Close() error { return c.conn.Close() }
