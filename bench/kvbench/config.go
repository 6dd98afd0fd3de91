package kvbench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
)

// Scenario is the request mix of a run.
type Scenario string

// The scenarios.
const (
	ScenarioPut   Scenario = "put"
	ScenarioGet   Scenario = "get"
	ScenarioMixed Scenario = "mixed"
)

// Consistency is the freshness required of reads.
type Consistency string

// The read consistencies.
const (
	Linearizable Consistency = "linearizable"
	Serializable Consistency = "serializable"
)

// Target names the kind of store under test.
type Target string

// The targets.
const (
	TargetCairn Target = "cairn"
	TargetEtcd  Target = "etcd"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario Scenario
	// Target selects the Driver; ignored when NewDriver is set.
	Target Target
	// Endpoints are the gRPC addresses (host:port) of the store's nodes.
	Endpoints []string
	// Clients is the number of concurrent closed-loop clients.
	Clients int
	// Conns is the number of gRPC connections the clients share.
	Conns int
	// KeySize and ValSize are the sizes in bytes of keys and values.
	KeySize, ValSize int
	// Total is the number of measured requests, over all clients.
	Total int
	// Keys is the size of the key space; requests pick keys uniformly in it.
	Keys int
	// Consistency of reads.
	Consistency Consistency
	// ReadRatio is the fraction of reads in the mixed scenario, in [0, 1].
	ReadRatio float64
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// Seed seeds the key choice of every client.
	Seed uint64
	// TLS, when set, secures the connections (cairn clusters run mutual
	// TLS); nil dials in plaintext.
	TLS *tls.Config
	// DialOptions are added to the defaults (transport credentials from TLS).
	DialOptions []grpc.DialOption
	// NewDriver, when set, builds the driver of each connection instead of Target.
	NewDriver func(cc grpc.ClientConnInterface) Driver
}

// DefaultConfig returns the defaults of `cairn bench kv`.
func DefaultConfig() Config {
	return Config{
		Scenario:       ScenarioPut,
		Target:         TargetCairn,
		Clients:        256,
		Conns:          16,
		KeySize:        8,
		ValSize:        256,
		Total:          100000,
		Keys:           10000,
		Consistency:    Linearizable,
		ReadRatio:      0.9,
		RequestTimeout: 10 * time.Second,
		Seed:           1,
	}
}

// maxTotal bounds Total: every latency is kept in memory (8 bytes each).
const maxTotal = 100_000_000

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Scenario != ScenarioPut && c.Scenario != ScenarioGet && c.Scenario != ScenarioMixed:
		return fmt.Errorf("kvbench: Scenario %q: want put, get or mixed", c.Scenario)
	case c.NewDriver == nil && c.Target != TargetCairn && c.Target != TargetEtcd:
		return fmt.Errorf("kvbench: Target %q: want cairn or etcd", c.Target)
	case len(c.Endpoints) == 0:
		return errors.New("kvbench: Endpoints: need at least one")
	case c.Clients < 1:
		return fmt.Errorf("kvbench: Clients %d: must be >= 1", c.Clients)
	case c.Conns < 1:
		return fmt.Errorf("kvbench: Conns %d: must be >= 1", c.Conns)
	case c.KeySize < 1:
		return fmt.Errorf("kvbench: KeySize %d: must be >= 1", c.KeySize)
	case c.ValSize < 0:
		return fmt.Errorf("kvbench: ValSize %d: must be >= 0", c.ValSize)
	case c.Total < 1 || c.Total > maxTotal:
		return fmt.Errorf("kvbench: Total %d: must be in [1, %d]", c.Total, maxTotal)
	case c.Keys < 1:
		return fmt.Errorf("kvbench: Keys %d: must be >= 1", c.Keys)
	case c.KeySize < len(fmt.Sprint(c.Keys-1)):
		return fmt.Errorf("kvbench: KeySize %d: too small for %d distinct keys", c.KeySize, c.Keys)
	case c.Consistency != Linearizable && c.Consistency != Serializable:
		return fmt.Errorf("kvbench: Consistency %q: want linearizable or serializable", c.Consistency)
	case c.ReadRatio < 0 || c.ReadRatio > 1:
		return fmt.Errorf("kvbench: ReadRatio %v: must be in [0, 1]", c.ReadRatio)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("kvbench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	return nil
}
