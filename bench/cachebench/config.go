package cachebench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Scenario is the request mix of a run.
type Scenario string

// The scenarios; see the package documentation.
const (
	ScenarioSet   Scenario = "set"
	ScenarioGet   Scenario = "get"
	ScenarioAside Scenario = "aside"
)

// Target is the protocol the load is sent with.
type Target string

// The targets.
const (
	// TargetCached uses the smart gRPC client; Endpoints are cached gRPC
	// addresses.
	TargetCached Target = "cached"
	// TargetRESP sends GET, MGET and SET over RESP, one connection per client,
	// to Endpoints[0]: a cached node's RESP port or a redis-server.
	TargetRESP Target = "resp"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario  Scenario
	Target    Target
	Endpoints []string
	// TLS, when set, secures the smart client's connections (cairn clusters
	// run mutual TLS); nil dials in plaintext. RESP ignores it.
	TLS *tls.Config
	// Clients is the number of concurrent closed-loop clients; they share one
	// smart client (one connection per node).
	Clients int
	// Total is the number of measured requests (an MGet of Batch keys is one).
	Total int
	// Keys is the size of the key space.
	Keys int
	// KeySize and ValSize are in bytes.
	KeySize, ValSize int
	// Zipf is the exponent of the key distribution (> 1); 0 means uniform.
	Zipf float64
	// Batch is the number of keys per read: 1 uses Get, more uses MGet.
	Batch int
	// TTL of written keys; 0 means none.
	TTL time.Duration
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// Seed seeds the key choices.
	Seed uint64
}

// DefaultConfig returns the defaults of `cairn bench cache`.
func DefaultConfig() Config {
	return Config{
		Scenario: ScenarioGet, Target: TargetCached, Clients: 64, Total: 200000, Keys: 100000, KeySize: 16, ValSize: 100,
		Batch: 1, RequestTimeout: 5 * time.Second, Seed: 1,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Scenario != ScenarioSet && c.Scenario != ScenarioGet && c.Scenario != ScenarioAside:
		return fmt.Errorf("cachebench: Scenario %q: want set, get or aside", c.Scenario)
	case c.Target != TargetCached && c.Target != TargetRESP:
		return fmt.Errorf("cachebench: Target %q: want cached or resp", c.Target)
	case len(c.Endpoints) == 0:
		return errors.New("cachebench: Endpoints: need at least one")
	case c.Clients < 1:
		return fmt.Errorf("cachebench: Clients %d: must be >= 1", c.Clients)
	case c.Total < 1 || c.Total > 100_000_000:
		return fmt.Errorf("cachebench: Total %d: must be in [1, 100000000]", c.Total)
	case c.Keys < 1:
		return fmt.Errorf("cachebench: Keys %d: must be >= 1", c.Keys)
	case c.KeySize < len(fmt.Sprint(c.Keys-1)):
		return fmt.Errorf("cachebench: KeySize %d: too small for %d distinct keys", c.KeySize, c.Keys)
	case c.ValSize < 0:
		return fmt.Errorf("cachebench: ValSize %d: must be >= 0", c.ValSize)
	case c.Zipf != 0 && c.Zipf <= 1:
		return fmt.Errorf("cachebench: Zipf %v: must be > 1 (or 0 for uniform)", c.Zipf)
	case c.Batch < 1:
		return fmt.Errorf("cachebench: Batch %d: must be >= 1", c.Batch)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("cachebench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	return nil
}
