package searchbench

import (
	"fmt"
	"time"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	// Docs is how many documents are indexed: the corpus, replicated with
	// new ids when it is smaller (see Replicate).
	Docs int
	// Batch is the documents per Index call (one bulk request).
	Batch int
	// Writers is how many Index calls run at once.
	Writers int
	// Clients is how many query clients run at once, each sending one
	// query after another.
	Clients int
	// Warmup is how long the clients query, unmeasured, before Duration.
	Warmup time.Duration
	// Duration is the measured query phase, unless Queries is set.
	Duration time.Duration
	// Queries, when positive, is how many queries each client sends in the
	// measured phase instead of running for Duration.
	Queries int
	// Kinds are the query kinds of the mix; client c's k-th query is of
	// kind Kinds[(c+k) mod len(Kinds)] (those the target supports).
	Kinds []Kind
	// QueriesPerKind is how many distinct queries of each kind Generate
	// makes; clients draw from them at random.
	QueriesPerKind int
	// RequestTimeout bounds each Index and Search call.
	RequestTimeout time.Duration
	// Seed chooses the queries and each client's draws.
	Seed uint64
}

// DefaultConfig returns the defaults of `cairn bench search`: 60 000
// documents in batches of 500 by 2 writers, then 8 clients querying the
// whole mix for 30 s after a 3 s warm-up.
func DefaultConfig() Config {
	return Config{
		Docs:           60_000,
		Batch:          500,
		Writers:        2,
		Clients:        8,
		Warmup:         3 * time.Second,
		Duration:       30 * time.Second,
		Kinds:          Kinds,
		QueriesPerKind: 500,
		RequestTimeout: time.Minute,
		Seed:           1,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Docs < 1 || c.Docs > 100_000_000:
		return fmt.Errorf("searchbench: Docs %d: must be in [1, 100000000]", c.Docs)
	case c.Batch < 1 || c.Batch > 100_000:
		return fmt.Errorf("searchbench: Batch %d: must be in [1, 100000]", c.Batch)
	case c.Writers < 1 || c.Writers > 1000:
		return fmt.Errorf("searchbench: Writers %d: must be in [1, 1000]", c.Writers)
	case c.Clients < 1 || c.Clients > 1000:
		return fmt.Errorf("searchbench: Clients %d: must be in [1, 1000]", c.Clients)
	case c.Warmup < 0:
		return fmt.Errorf("searchbench: Warmup %v: must not be negative", c.Warmup)
	case c.Queries < 0 || c.Queries > 100_000_000:
		return fmt.Errorf("searchbench: Queries %d: must be in [0, 100000000] (0: run for Duration)", c.Queries)
	case c.Queries == 0 && c.Duration <= 0:
		return fmt.Errorf("searchbench: Duration %v: must be > 0 when Queries is 0", c.Duration)
	case len(c.Kinds) == 0:
		return fmt.Errorf("searchbench: Kinds: need at least one")
	case c.QueriesPerKind < 1 || c.QueriesPerKind > 1_000_000:
		return fmt.Errorf("searchbench: QueriesPerKind %d: must be in [1, 1000000]", c.QueriesPerKind)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("searchbench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	seen := map[Kind]bool{}
	for _, k := range c.Kinds {
		if _, err := ParseKind(string(k)); err != nil {
			return fmt.Errorf("searchbench: Kinds: %w", err)
		}
		if seen[k] {
			return fmt.Errorf("searchbench: Kinds: %q twice", k)
		}
		seen[k] = true
	}
	return nil
}
