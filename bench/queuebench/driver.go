package queuebench

import (
	"context"
	"errors"
)

// Driver connects to a queue service. Its methods may be called concurrently.
type Driver interface {
	// Setup creates the run's queue (Config.Queue), empty.
	Setup(ctx context.Context) error
	// NewProducer returns the producer of client i.
	NewProducer(ctx context.Context, i int) (Producer, error)
	// NewConsumer returns the consumer of client i, receiving from the run's
	// queue with at most Config.Prefetch unacknowledged deliveries.
	NewConsumer(ctx context.Context, i int) (Consumer, error)
	// Teardown deletes the run's queue and closes the connections, after
	// every producer and consumer is closed.
	Teardown(ctx context.Context) error
}

// Producer sends messages; it is used by one goroutine at a time.
type Producer interface {
	// Send sends body and returns once the service confirmed it.
	Send(ctx context.Context, body []byte) error
	Close() error
}

// BatchSender is a Producer that can also send many messages in one call;
// the consume scenario fills its backlog with it when the producer has it.
type BatchSender interface {
	// SendBatch sends bodies and returns once the service confirmed all.
	SendBatch(ctx context.Context, bodies [][]byte) error
}

// Consumer receives messages; it is used by one goroutine at a time.
type Consumer interface {
	// Next returns the next delivery's body, waiting for one until ctx ends.
	// The delivery is acknowledged (asynchronously, as the service's own
	// clients do) before the next call returns another.
	Next(ctx context.Context) ([]byte, error)
	Close() error
}

// NewDriver returns the Driver of cfg.Target.
func NewDriver(cfg Config) (Driver, error) {
	switch cfg.Target {
	case TargetQueued:
		return newQueuedDriver(cfg)
	case TargetRabbitMQ:
		return newRabbitDriver(cfg), nil
	case TargetNATS:
		return newNATSDriver(cfg), nil
	}
	return nil, errors.New("queuebench: unknown target " + string(cfg.Target))
}
