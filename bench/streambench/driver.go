package streambench

import (
	"context"
	"errors"
)

// Driver connects to a log service. Its methods may be called concurrently.
type Driver interface {
	// Setup creates the run's topic (Config.Topic), empty.
	Setup(ctx context.Context) error
	// NewProducer returns the producer of client i.
	NewProducer(ctx context.Context, i int) (Producer, error)
	// NewConsumer returns consumer i of n, reading the records of its share
	// of the partitions from the beginning.
	NewConsumer(ctx context.Context, i, n int) (Consumer, error)
	// Teardown deletes the run's topic and closes the connections, after
	// every producer and consumer is closed.
	Teardown(ctx context.Context) error
}

// Producer sends batches of records. Send may be called concurrently for
// different partitions, but for one partition at a time.
type Producer interface {
	// Send appends values to partition as one batch and returns once the
	// service acknowledged all of them.
	Send(ctx context.Context, partition int32, values [][]byte) error
	Close() error
}

// Msg is a record a consumer received.
type Msg struct {
	Partition int32
	// Offset is the record's position in its partition (streamd's offset,
	// JetStream's stream sequence): the benchmark counts a record once even
	// when a consumer group delivers it again after a rebalance.
	Offset int64
	Value  []byte
}

// Consumer receives records; it is used by one goroutine at a time.
type Consumer interface {
	// Next returns the next records received (of any of the consumer's
	// partitions, in offset order per partition), waiting for some until
	// ctx ends.
	Next(ctx context.Context) ([]Msg, error)
	Close() error
}

// NewDriver returns the Driver of cfg.Target.
func NewDriver(cfg Config) (Driver, error) {
	switch cfg.Target {
	case TargetStreamd:
		return newStreamdDriver(cfg), nil
	case TargetNATS:
		return newNATSDriver(cfg), nil
	}
	return nil, errors.New("streambench: unknown target " + string(cfg.Target))
}

// partitionsOf is consumer i of n's share of the partitions: i, i+n, ...
func partitionsOf(i, n, partitions int) []int32 {
	var out []int32
	for p := i; p < partitions; p += n {
		out = append(out, int32(p))
	}
	return out
}
