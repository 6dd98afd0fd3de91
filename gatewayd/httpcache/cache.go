package httpcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Cache.
type Options struct {
	Storage Storage          // required
	Name    string           // this cache's name in Cache-Status ("edge-1"); default "cairn"
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
	// MaxObjectBytes: larger responses pass through uncached (default 1 GiB).
	MaxObjectBytes int64
	// HeuristicFraction of (Date - Last-Modified) is the heuristic
	// freshness lifetime (default 0.1); HeuristicMax caps it (default 24h).
	HeuristicFraction float64
	HeuristicMax      time.Duration
	// Grace is how long past its staleness an entry may still be served when the
	// origin fails or in under-attack mode (default 1h). Responses' own
	// stale-if-error / stale-while-revalidate windows apply in normal mode.
	Grace time.Duration
	// FetchTimeout bounds one origin fetch, body included (default 30 s).
	FetchTimeout time.Duration
	// Downstream, when set and true for a request, sends that request the
	// edge-only headers (Surrogate-Control, Surrogate-Key) the cache
	// otherwise strips: the request comes from another cache of the same
	// CDN (a shield hop), which needs them to store the response as the
	// origin meant.
	Downstream func(r *http.Request) bool
}

// Option defaults.
const (
	DefaultMaxObjectBytes    = 1 << 30
	DefaultHeuristicFraction = 0.1
	DefaultHeuristicMax      = 24 * time.Hour
	DefaultGrace             = time.Hour
	DefaultFetchTimeout      = 30 * time.Second
)

// withDefaults fills zero fields and validates the others.
func (o Options) withDefaults() (Options, error) {
	if o.Storage == nil {
		return o, errors.New("httpcache: Options.Storage is required")
	}
	switch {
	case o.MaxObjectBytes < 0:
		return o, fmt.Errorf("httpcache: Options.MaxObjectBytes is %d, it must be >= 0 (0: %d)", o.MaxObjectBytes, DefaultMaxObjectBytes)
	case o.HeuristicFraction < 0 || o.HeuristicFraction > 1:
		return o, fmt.Errorf("httpcache: Options.HeuristicFraction is %g, it must be within [0, 1] (0: %g)", o.HeuristicFraction, DefaultHeuristicFraction)
	case o.HeuristicMax < 0:
		return o, fmt.Errorf("httpcache: Options.HeuristicMax is %s, it must be >= 0 (0: %s)", o.HeuristicMax, DefaultHeuristicMax)
	case o.Grace < 0:
		return o, fmt.Errorf("httpcache: Options.Grace is %s, it must be >= 0 (0: %s)", o.Grace, DefaultGrace)
	case o.FetchTimeout < 0:
		return o, fmt.Errorf("httpcache: Options.FetchTimeout is %s, it must be >= 0 (0: %s)", o.FetchTimeout, DefaultFetchTimeout)
	}
	if o.Name == "" {
		o.Name = "cairn"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxObjectBytes == 0 {
		o.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if o.HeuristicFraction == 0 {
		o.HeuristicFraction = DefaultHeuristicFraction
	}
	if o.HeuristicMax == 0 {
		o.HeuristicMax = DefaultHeuristicMax
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	return o, nil
}

// Fetch sends r to the origin (or shield). When revalidating, r carries
// If-None-Match / If-Modified-Since. The cache reads and closes the
// response body. It is called concurrently.
type Fetch func(ctx context.Context, r *http.Request) (*http.Response, error)

// Outcome says how Serve answered a request; X-Cache carries the same word.
type Outcome string

// Outcomes.
const (
	Hit         Outcome = "HIT"         // a stored response, fresh (or from a coalesced fetch)
	Miss        Outcome = "MISS"        // fetched from the origin
	Stale       Outcome = "STALE"       // a stale stored response (SWR, SIE, grace, max-stale)
	Revalidated Outcome = "REVALIDATED" // the origin confirmed the stored response (304)
	Pass        Outcome = "PASS"        // forwarded without the cache (method, hit-for-pass)
	Error       Outcome = "ERROR"       // the cache answered an error (502, 504)
)

// Cache is a shared HTTP cache (RFC 9111) over a Storage. Its methods are
// safe for concurrent use.
type Cache struct {
	opts  Options
	store Storage
	idx   *index
	start time.Time

	underAttack atomic.Bool
	closed      atomic.Bool
	bg          sync.WaitGroup // background revalidations
	bgMu        sync.Mutex     // orders bg.Add against Close's bg.Wait

	mu         sync.Mutex // protects the fields below
	flights    map[string]*flight
	hitForPass map[string]time.Time

	st    counters
	sweep sweeper

	// purgeMu orders purges against stores: a purge bumps purgeEpoch and
	// removes under the write lock; a fetch notes the epoch when it starts
	// and stores (commits, refreshes) under the read lock only if no purge
	// ran since. So a response fetched before a purge is never stored
	// after it.
	purgeMu    sync.RWMutex
	purgeEpoch uint64
}

// epoch returns the purge epoch (see purgeMu).
func (c *Cache) epoch() uint64 {
	c.purgeMu.RLock()
	defer c.purgeMu.RUnlock()
	return c.purgeEpoch
}

// storeIfUnpurged runs store under the read side of purgeMu when no purge
// ran since epoch, and reports whether it ran.
func (c *Cache) storeIfUnpurged(epoch uint64, store func()) bool {
	c.purgeMu.RLock()
	defer c.purgeMu.RUnlock()
	if c.purgeEpoch != epoch {
		return false
	}
	store()
	return true
}

// New returns a cache over opts.Storage, rebuilding its key, prefix and
// tag indexes from what the storage holds (Storage.Range). Objects whose
// metadata it cannot decode are deleted.
func New(opts Options) (*Cache, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{
		opts: o, store: o.Storage, idx: newIndex(), start: o.Now(),
		flights: map[string]*flight{}, hitForPass: map[string]time.Time{},
	}
	var bad []string
	o.Storage.Range(func(id string, b []byte) bool {
		m, err := decodeMeta(b)
		if err != nil {
			bad = append(bad, id)
			return true
		}
		c.idx.add(id, m)
		return true
	})
	for _, id := range bad {
		o.Logger.Warn("httpcache: dropping an object with unreadable metadata", "id", id)
		o.Storage.Delete(id)
	}
	return c, nil
}

// Close waits for the background revalidations; later ones are not started.
// It does not close the Storage.
func (c *Cache) Close() {
	c.bgMu.Lock()
	c.closed.Store(true)
	c.bgMu.Unlock()
	c.bg.Wait()
}

// goBackground runs fn in a tracked goroutine unless the cache is closed.
func (c *Cache) goBackground(fn func()) bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		fn()
	}()
	return true
}

// SetUnderAttack turns under-attack mode on or off: while on, a stale entry
// within Grace is served instead of fetching (unless its response forbids
// stale serving).
func (c *Cache) SetUnderAttack(on bool) { c.underAttack.Store(on) }

func (c *Cache) now() time.Time { return c.opts.Now() }
