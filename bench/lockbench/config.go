package lockbench

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
	ScenarioUncontended Scenario = "uncontended"
	ScenarioContended   Scenario = "contended"
	ScenarioMany        Scenario = "many"
)

// Target names the lock service under test.
type Target string

// The targets.
const (
	TargetLockd Target = "lockd"
	TargetEtcd  Target = "etcd"
	TargetRedis Target = "redis"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario Scenario
	Target   Target
	// Endpoints are the host:port addresses of the service's nodes (Redis: the
	// first one is used).
	Endpoints []string
	// TLS, when set, secures the lockd and etcd connections (cairn clusters
	// run mutual TLS); nil dials in plaintext. Redis ignores it.
	TLS *tls.Config
	// Clients is the number of concurrent closed-loop clients.
	Clients int
	// Conns is the number of connections (lockd clients, etcd gRPC
	// connections) the clients share; Redis clients have one each.
	Conns int
	// Total is the number of measured acquire+release cycles, over all clients.
	Total int
	// Locks is the number of lock names of ScenarioMany.
	Locks int
	// TTL is the session (lease, key expiry) TTL.
	TTL time.Duration
	// RequestTimeout bounds each acquire and each release.
	RequestTimeout time.Duration
	// RedisRetry is how long a Redis client waits before trying a held lock
	// again (± half); Redis locks have no queue.
	RedisRetry time.Duration
	// Seed seeds the lock choice of ScenarioMany.
	Seed uint64
	// Prefix is put before every lock name; DefaultConfig makes it unique per
	// run so that runs do not see each other's locks.
	Prefix string
}

// DefaultConfig returns the defaults of `cairn bench lock`.
func DefaultConfig() Config {
	return Config{
		Scenario:       ScenarioUncontended,
		Target:         TargetLockd,
		Clients:        64,
		Conns:          4,
		Total:          20000,
		Locks:          10000,
		TTL:            10 * time.Second,
		RequestTimeout: 10 * time.Second,
		RedisRetry:     2 * time.Millisecond,
		Seed:           1,
		Prefix:         fmt.Sprintf("bench/%x/", time.Now().UnixNano()),
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Scenario != ScenarioUncontended && c.Scenario != ScenarioContended && c.Scenario != ScenarioMany:
		return fmt.Errorf("lockbench: Scenario %q: want uncontended, contended or many", c.Scenario)
	case c.Target != TargetLockd && c.Target != TargetEtcd && c.Target != TargetRedis:
		return fmt.Errorf("lockbench: Target %q: want lockd, etcd or redis", c.Target)
	case len(c.Endpoints) == 0:
		return errors.New("lockbench: Endpoints: need at least one")
	case c.Clients < 1:
		return fmt.Errorf("lockbench: Clients %d: must be >= 1", c.Clients)
	case c.Conns < 1:
		return fmt.Errorf("lockbench: Conns %d: must be >= 1", c.Conns)
	case c.Total < 1 || c.Total > 100_000_000:
		return fmt.Errorf("lockbench: Total %d: must be in [1, 1e8]", c.Total)
	case c.Locks < 1:
		return fmt.Errorf("lockbench: Locks %d: must be >= 1", c.Locks)
	case c.TTL < time.Second:
		return fmt.Errorf("lockbench: TTL %v: must be >= 1s", c.TTL)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("lockbench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	case c.RedisRetry <= 0:
		return fmt.Errorf("lockbench: RedisRetry %v: must be > 0", c.RedisRetry)
	}
	return nil
}
