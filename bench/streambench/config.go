package streambench

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
	ScenarioProduce Scenario = "produce"
	ScenarioConsume Scenario = "consume"
	ScenarioE2E     Scenario = "e2e"
	ScenarioGrowth  Scenario = "growth"
)

// Target names the log service under test.
type Target string

// The targets.
const (
	TargetStreamd Target = "streamd"
	TargetNATS    Target = "nats"
)

// Acks says when a produce is acknowledged.
type Acks string

// The acks modes. NATS JetStream has one: a publish is acknowledged once a
// quorum of the stream's replicas stored it; it runs with either value.
const (
	// AcksLeader: fsynced on the partition leader.
	AcksLeader Acks = "leader"
	// AcksAll: fsynced on every in-sync replica.
	AcksAll Acks = "all"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario Scenario
	Target   Target
	// Endpoints are the nodes' addresses: host:port of streamd's gRPC or of
	// NATS's client listeners.
	Endpoints []string
	// TLS secures streamd connections; nil dials in plaintext. NATS is
	// dialled in plaintext.
	TLS *tls.Config
	// Topic names the run's topic (streamd) or the prefix of its streams
	// (NATS, one stream per partition); DefaultConfig makes it unique.
	Topic string
	// Partitions and Replication shape the topic.
	Partitions, Replication int
	// Acks is the produce acknowledgement (streamd).
	Acks Acks
	// RecordBytes is the size of every record's value (at least 16); records
	// have no key.
	RecordBytes int
	// Total is the number of measured records: produced (produce, e2e,
	// growth) or drained (consume).
	Total int
	// Producers are the producer clients, each with its own connections;
	// every producer keeps one batch in flight per partition.
	Producers int
	// BatchBytes bounds a batch's values: a batch holds up to
	// BatchBytes/RecordBytes records.
	BatchBytes int
	// Linger is how long a partition's batch waits for more records before
	// it is sent part full. It only matters with Rate, as an unthrottled
	// producer always has a full batch ready.
	Linger time.Duration
	// Rate, when positive, paces the producers to that many records per
	// second in all (e2e latency at a given load); 0 means as fast as the
	// acks come back.
	Rate float64
	// Consumers are the consumer clients; the partitions are divided among
	// them.
	Consumers int
	// Group makes the streamd consumers members of one consumer group
	// (join, assignment, commits once a second); otherwise consumer i
	// fetches partitions i, i+Consumers, ... directly from their leaders.
	Group bool
	// FetchBytes is the most a fetch of one partition returns.
	FetchBytes int
	// Interval is the produced volume between two samples of the growth
	// scenario, in bytes.
	Interval int64
	// RequestTimeout bounds each produce and the consumers' wait for
	// progress.
	RequestTimeout time.Duration
}

// DefaultConfig returns the defaults of `cairn bench stream`: Kreps's setup
// (100-byte records, 6 partitions, 3 replicas, one producer).
func DefaultConfig() Config {
	return Config{
		Scenario:       ScenarioProduce,
		Target:         TargetStreamd,
		Topic:          fmt.Sprintf("bench-%x", time.Now().UnixNano()),
		Partitions:     6,
		Replication:    3,
		Acks:           AcksAll,
		RecordBytes:    100,
		Total:          1_000_000,
		Producers:      1,
		BatchBytes:     100_000,
		Linger:         5 * time.Millisecond,
		Consumers:      1,
		Group:          true,
		FetchBytes:     1 << 20,
		Interval:       256 << 20,
		RequestTimeout: 30 * time.Second,
	}
}

// maxTotal bounds Total (10^10 records of 16 bytes is 160 GB).
const maxTotal = 10_000_000_000

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Scenario != ScenarioProduce && c.Scenario != ScenarioConsume && c.Scenario != ScenarioE2E && c.Scenario != ScenarioGrowth:
		return fmt.Errorf("streambench: Scenario %q: want produce, consume, e2e or growth", c.Scenario)
	case c.Target != TargetStreamd && c.Target != TargetNATS:
		return fmt.Errorf("streambench: Target %q: want streamd or nats", c.Target)
	case len(c.Endpoints) == 0:
		return errors.New("streambench: Endpoints: need at least one")
	case c.Topic == "":
		return errors.New("streambench: Topic: must not be empty")
	case c.Partitions < 1 || c.Partitions > 1000:
		return fmt.Errorf("streambench: Partitions %d: must be in [1, 1000]", c.Partitions)
	case c.Replication < 1 || c.Replication > 5:
		return fmt.Errorf("streambench: Replication %d: must be in [1, 5]", c.Replication)
	case c.Acks != AcksLeader && c.Acks != AcksAll:
		return fmt.Errorf("streambench: Acks %q: want leader or all", c.Acks)
	case c.RecordBytes < headerBytes || c.RecordBytes > 1<<20:
		return fmt.Errorf("streambench: RecordBytes %d: must be in [%d, %d]", c.RecordBytes, headerBytes, 1<<20)
	case c.Total < 1 || c.Total > maxTotal:
		return fmt.Errorf("streambench: Total %d: must be in [1, %d]", c.Total, int64(maxTotal))
	case c.Producers < 1 || c.Producers > 1000:
		return fmt.Errorf("streambench: Producers %d: must be in [1, 1000]", c.Producers)
	case c.BatchBytes < c.RecordBytes || c.BatchBytes > 8<<20:
		return fmt.Errorf("streambench: BatchBytes %d: must be in [RecordBytes, %d]", c.BatchBytes, 8<<20)
	case c.Linger < 0:
		return fmt.Errorf("streambench: Linger %v: must be >= 0", c.Linger)
	case c.Rate < 0:
		return fmt.Errorf("streambench: Rate %v: must be >= 0", c.Rate)
	case c.Consumers < 1 || c.Consumers > c.Partitions:
		return fmt.Errorf("streambench: Consumers %d: must be in [1, Partitions=%d]", c.Consumers, c.Partitions)
	case c.FetchBytes < 1024 || c.FetchBytes > 64<<20:
		return fmt.Errorf("streambench: FetchBytes %d: must be in [1024, %d]", c.FetchBytes, 64<<20)
	case c.Scenario == ScenarioGrowth && c.Interval < int64(c.BatchBytes):
		return fmt.Errorf("streambench: Interval %d: must be at least BatchBytes (%d)", c.Interval, c.BatchBytes)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("streambench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	return nil
}

// batchRecords is the number of records in a full batch.
func (c Config) batchRecords() int { return max(1, c.BatchBytes/c.RecordBytes) }
