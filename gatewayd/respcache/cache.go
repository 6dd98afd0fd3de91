package respcache

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultLocalBytes     = 64 << 20
	DefaultStoreTimeout   = 100 * time.Millisecond
	DefaultMaxPendingSets = 64
)

// Config configures a Cache.
type Config struct {
	// Store is the shared tier; nil means local only.
	Store Store
	// LocalBytes bounds the local tier's memory; default 64 MiB, negative
	// disables the local tier.
	LocalBytes int64
	// StoreTimeout bounds each Store call; default 100ms. A slower shared
	// tier is a miss, not a slow request.
	StoreTimeout time.Duration
	// MaxPendingSets bounds the asynchronous Store writes in flight; a store
	// beyond it is kept locally only. Default 64.
	MaxPendingSets int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives Store failures; nil discards them.
	Logger *slog.Logger
}

// Cache is a two-tier response cache. Create it with New; Close it when
// done. All methods are safe for concurrent use.
type Cache struct {
	cfg   Config
	local *lru // nil when disabled
	now   func() time.Time
	log   *slog.Logger
	stats counters

	flightMu sync.Mutex // guards flights
	flights  map[string]*flight

	mu      sync.Mutex // guards closed and wg.Add
	closed  bool
	wg      sync.WaitGroup
	pending chan struct{} // a token per asynchronous Store write in flight
}

// counters are the Cache's statistics.
type counters struct {
	localHits, sharedHits, misses, bypasses atomic.Int64
	stores, sharedSets, setErrors, setsShed atomic.Int64
	getErrors, corrupt, coalesced           atomic.Int64
}

// Stats is a snapshot of a Cache's counters and local tier size.
type Stats struct {
	LocalHits, SharedHits, Misses, Bypasses int64
	// Stores counts entries stored (locally); SharedSets the Store writes
	// that succeeded, SetErrors those that failed, SetsShed those skipped
	// because MaxPendingSets were in flight.
	Stores, SharedSets, SetErrors, SetsShed int64
	// GetErrors counts failed Store reads, Corrupt undecodable entries,
	// Coalesced the requests that waited for another one in Do.
	GetErrors, Corrupt, Coalesced int64
	LocalEntries                  int
	LocalBytes                    int64
}

// New returns a Cache.
func New(cfg Config) *Cache {
	if cfg.LocalBytes == 0 {
		cfg.LocalBytes = DefaultLocalBytes
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.MaxPendingSets <= 0 {
		cfg.MaxPendingSets = DefaultMaxPendingSets
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{
		cfg:     cfg,
		now:     cfg.Now,
		log:     cfg.Logger,
		flights: map[string]*flight{},
		pending: make(chan struct{}, cfg.MaxPendingSets),
	}
	if cfg.LocalBytes > 0 {
		c.local = newLRU(cfg.LocalBytes)
	}
	return c
}

// Close waits for the asynchronous Store writes in flight; later stores
// are kept locally only. It does not close the Store.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	s := Stats{
		LocalHits: c.stats.localHits.Load(), SharedHits: c.stats.sharedHits.Load(),
		Misses: c.stats.misses.Load(), Bypasses: c.stats.bypasses.Load(),
		Stores: c.stats.stores.Load(), SharedSets: c.stats.sharedSets.Load(),
		SetErrors: c.stats.setErrors.Load(), SetsShed: c.stats.setsShed.Load(),
		GetErrors: c.stats.getErrors.Load(), Corrupt: c.stats.corrupt.Load(),
		Coalesced: c.stats.coalesced.Load(),
	}
	if c.local != nil {
		s.LocalEntries, s.LocalBytes = c.local.stats()
	}
	return s
}

// Lookup returns the entry under key that may answer r, trying the local
// tier and then the Store. It misses for methods other than GET and HEAD
// and when r's Cache-Control or Pragma asks to bypass caches (see the
// package doc). The caller serves a hit with Entry.Serve.
func (c *Cache) Lookup(ctx context.Context, key string, r *http.Request) (*Entry, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, false
	}
	bypass, maxAge := requestBypass(r.Header)
	if bypass {
		c.stats.bypasses.Add(1)
		return nil, false
	}
	now := c.now()
	if c.local != nil {
		if e := c.local.get(key, now); e != nil && e.usable(r, now, maxAge) {
			c.stats.localHits.Add(1)
			return e, true
		}
	}
	if e := c.fetch(ctx, key, now); e != nil && e.usable(r, now, maxAge) {
		c.stats.sharedHits.Add(1)
		return e, true
	}
	c.stats.misses.Add(1)
	return nil, false
}

// fetch reads key from the Store and keeps a fresh entry locally.
func (c *Cache) fetch(ctx context.Context, key string, now time.Time) *Entry {
	if c.cfg.Store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StoreTimeout)
	defer cancel()
	b, ok, err := c.cfg.Store.Get(ctx, key)
	if err != nil {
		c.stats.getErrors.Add(1)
		c.log.Debug("respcache: store get failed", "key", key, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	e, err := DecodeEntry(b)
	if err != nil {
		c.stats.corrupt.Add(1)
		c.log.Warn("respcache: undecodable entry in store", "key", key, "err", err)
		return nil
	}
	if !e.fresh(now) {
		return nil
	}
	e.now = c.now
	if c.local != nil {
		c.local.put(key, e)
	}
	return e
}

// Put stores a response to r under key for ttl: at once in the local tier
// and asynchronously in the Store. It returns the stored entry, or nil
// when ttl is not positive, Vary is "*", or r is not a GET. Put copies
// header and body. Storable decides whether and for how long to store;
// Put does not check it.
func (c *Cache) Put(ctx context.Context, key string, r *http.Request, status int, header http.Header, body []byte, ttl time.Duration) *Entry {
	if ttl <= 0 || r.Method != http.MethodGet || varyStar(header) {
		return nil
	}
	e := newEntry(r, status, header, body, c.now(), ttl)
	e.now = c.now
	c.stats.stores.Add(1)
	if c.local != nil {
		c.local.put(key, e)
	}
	if c.cfg.Store != nil {
		c.storeAsync(ctx, key, e)
	}
	return e
}

// storeAsync writes e to the Store in a goroutine the Cache owns, unless
// MaxPendingSets writes are in flight or the Cache is closed.
func (c *Cache) storeAsync(ctx context.Context, key string, e *Entry) {
	select {
	case c.pending <- struct{}{}:
	default:
		c.stats.setsShed.Add(1)
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.pending
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	val := EncodeEntry(e)
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.pending }()
		ctx, cancel := context.WithTimeout(ctx, c.cfg.StoreTimeout)
		defer cancel()
		if err := c.cfg.Store.Set(ctx, key, val, e.TTL); err != nil {
			c.stats.setErrors.Add(1)
			c.log.Warn("respcache: store set failed", "key", key, "err", err)
			return
		}
		c.stats.sharedSets.Add(1)
	}()
}
