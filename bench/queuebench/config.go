package queuebench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Scenario is the load pattern of a run.
type Scenario string

// The scenarios; see the package documentation.
const (
	ScenarioPublish Scenario = "publish"
	ScenarioConsume Scenario = "consume"
	ScenarioE2E     Scenario = "e2e"
)

// Target names the queue service under test.
type Target string

// The targets.
const (
	TargetQueued   Target = "queued"
	TargetRabbitMQ Target = "rabbitmq"
	TargetNATS     Target = "nats"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario Scenario
	Target   Target
	// Endpoints are the nodes' addresses: host:port of queued's gRPC, of
	// RabbitMQ's AMQP listeners, or of NATS's client listeners. Clients are
	// spread over them.
	Endpoints []string
	// TLS secures queued connections (cairn clusters run mutual TLS); nil
	// dials in plaintext. RabbitMQ and NATS are dialled in plaintext.
	TLS *tls.Config
	// Username and Password log in to RabbitMQ (default guest/guest).
	Username, Password string
	// Producers and Consumers are the closed-loop clients of each kind.
	Producers, Consumers int
	// Prefetch is the most unacknowledged deliveries a consumer holds.
	Prefetch int
	// MessageBytes is the size of every message body (at least 16).
	MessageBytes int
	// Total is the number of measured messages: sent (publish, e2e) or
	// drained (consume).
	Total int
	// RequestTimeout bounds each send and the wait for each delivery.
	RequestTimeout time.Duration
	// Queue is the name of the run's queue; DefaultConfig makes it unique.
	Queue string
}

// DefaultConfig returns the defaults of `cairn bench queue`.
func DefaultConfig() Config {
	return Config{
		Scenario:       ScenarioE2E,
		Target:         TargetQueued,
		Username:       "guest",
		Password:       "guest",
		Producers:      16,
		Consumers:      4,
		Prefetch:       100,
		MessageBytes:   1024,
		Total:          50000,
		RequestTimeout: 30 * time.Second,
		Queue:          fmt.Sprintf("bench-%x", time.Now().UnixNano()),
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Scenario != ScenarioPublish && c.Scenario != ScenarioConsume && c.Scenario != ScenarioE2E:
		return fmt.Errorf("queuebench: Scenario %q: want publish, consume or e2e", c.Scenario)
	case c.Target != TargetQueued && c.Target != TargetRabbitMQ && c.Target != TargetNATS:
		return fmt.Errorf("queuebench: Target %q: want queued, rabbitmq or nats", c.Target)
	case len(c.Endpoints) == 0:
		return errors.New("queuebench: Endpoints: need at least one")
	case c.Producers < 1 || c.Producers > 10000:
		return fmt.Errorf("queuebench: Producers %d: must be in [1, 10000]", c.Producers)
	case c.Consumers < 1 || c.Consumers > 10000:
		return fmt.Errorf("queuebench: Consumers %d: must be in [1, 10000]", c.Consumers)
	case c.Prefetch < 1 || c.Prefetch > 1000:
		return fmt.Errorf("queuebench: Prefetch %d: must be in [1, 1000]", c.Prefetch)
	case c.MessageBytes < headerBytes || c.MessageBytes > 256<<10:
		return fmt.Errorf("queuebench: MessageBytes %d: must be in [%d, %d]", c.MessageBytes, headerBytes, 256<<10)
	case c.Total < 1 || c.Total > 100_000_000:
		return fmt.Errorf("queuebench: Total %d: must be in [1, 1e8]", c.Total)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("queuebench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	case c.Queue == "":
		return errors.New("queuebench: Queue: must not be empty")
	}
	return nil
}
