package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultLeaseTimeout = 100 * time.Millisecond
	DefaultLeaseLife    = time.Second
	DefaultStoreBackoff = time.Second
	DefaultMaxKeys      = 1 << 20
)

// fallbackLogEvery is how often the fallback to local shares is logged while
// it lasts.
const fallbackLogEvery = time.Minute

// Config configures a Limiter. Only Store needs to be set for global limits;
// every other field has a default.
type Config struct {
	// Store holds the global buckets. nil: global policies act as local ones
	// limited to their share, Limit/Nodes().
	Store GlobalStore
	// Nodes returns the number of live gateway nodes sharing global policies;
	// it sizes leases and the fallback share. It is called concurrently, on
	// leases and fallback decisions. nil or a result < 1 means 1.
	Nodes func() int
	// Now is the clock every decision is made by. Default time.Now. Given the
	// same sequence of calls and clock readings, local decisions are the same.
	Now func() time.Time
	// Logger receives store failures (at most once a minute per Limiter).
	Logger *slog.Logger
	// LeaseTimeout bounds how long Allow waits on the store when its lease for
	// a global key is empty. Default 100ms; past it the request is decided by
	// the fallback share.
	LeaseTimeout time.Duration
	// LeaseLife is how long leased tokens stay spendable; unspent ones are
	// given back with the key's next lease. Default 1s. It widens the error
	// bound over a sliding window (see the package doc).
	LeaseLife time.Duration
	// StoreBackoff is how long global policies stay on the fallback share after
	// the store failed, before it is tried again. Default 1s.
	StoreBackoff time.Duration
	// MaxKeys bounds the local buckets (local and fallback ones together) and,
	// separately, the leases held in memory. Default 1<<20; the least recently
	// used is evicted first.
	MaxKeys int
}

// Limiter decides whether requests fit their rate limits. It is safe for
// concurrent use. Allow on an existing local key takes a shard lock and
// allocates nothing; global keys reach the store only when their lease is
// empty.
type Limiter struct {
	cfg    Config
	local  *table[bucket]
	leases *table[lease]

	// downUntil is the clock reading (unix ns) before which the store is not
	// tried; lastLog is when the fallback was last logged.
	downUntil atomic.Int64
	lastLog   atomic.Int64
	closed    atomic.Bool
	closeOnce sync.Once
}

// bucket is a local bucket: its theoretical arrival time (unix ns).
type bucket struct{ tat int64 }

// New returns a Limiter. It starts no goroutine.
func New(cfg Config) *Limiter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nodes == nil {
		cfg.Nodes = func() int { return 1 }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LeaseTimeout <= 0 {
		cfg.LeaseTimeout = DefaultLeaseTimeout
	}
	if cfg.LeaseLife <= 0 {
		cfg.LeaseLife = DefaultLeaseLife
	}
	if cfg.StoreBackoff <= 0 {
		cfg.StoreBackoff = DefaultStoreBackoff
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	return &Limiter{cfg: cfg, local: newTable[bucket](cfg.MaxKeys), leases: newTable[lease](cfg.MaxKeys)}
}

// Allow takes one token from p's bucket for key and reports the outcome. A
// local policy is decided in memory. A global one spends the Limiter's lease
// of the shared bucket; when the lease is empty Allow leases more from the
// store, waiting at most LeaseTimeout (and ctx), and falls back to the local
// share Limit/Nodes when the store does not answer. After Close every policy
// is decided locally (global ones by their share).
func (l *Limiter) Allow(ctx context.Context, p Policy, key string) Decision {
	now := l.cfg.Now().UnixNano()
	if !p.Global {
		return l.allowLocal(p, key, kindLocal, 1, now)
	}
	if l.cfg.Store == nil || l.closed.Load() || now < l.downUntil.Load() {
		return l.allowLocal(p, key, kindFallback, l.nodes(), now)
	}
	return l.allowGlobal(ctx, p, key, now)
}

func (l *Limiter) nodes() int64 { return int64(max(1, l.cfg.Nodes())) }

// allowLocal decides in p's local bucket (kind kindLocal) or its fallback
// share (kindFallback, the policy divided by share).
func (l *Limiter) allowLocal(p Policy, key string, kind uint8, share int64, now int64) Decision {
	r, ok := rateOf(p, share)
	if !ok {
		return Decision{Limit: p.Limit, Window: p.Per, Fallback: kind == kindFallback}
	}
	d := with(l.local, tableKey{policy: p.ID, key: key, kind: kind}, func(b *bucket) bool { return b.tat <= now },
		func(b *bucket) Decision {
			tat, ok := r.take(b.tat, now, 1)
			if !ok {
				return Decision{Reset: r.reset(b.tat, now), RetryAfter: r.retryAfter(b.tat, now)}
			}
			b.tat = tat
			return Decision{Allowed: true, Remaining: r.available(tat, now), Reset: r.reset(tat, now)}
		})
	d.Limit, d.Window, d.Fallback = p.Limit, p.Per, kind == kindFallback
	return d
}

// storeFailed switches global policies to their fallback share for
// StoreBackoff and logs it at most once a minute.
func (l *Limiter) storeFailed(now int64, err error) {
	l.downUntil.Store(now + int64(l.cfg.StoreBackoff))
	last := l.lastLog.Load()
	if (last == 0 || now-last >= int64(fallbackLogEvery)) && l.lastLog.CompareAndSwap(last, now) {
		l.cfg.Logger.Warn("ratelimit: shared store unreachable, global limits use each node's share",
			"err", err, "retry_in", l.cfg.StoreBackoff)
	}
}

// closeTimeout bounds the store writes of Close.
const closeTimeout = time.Second

// Close gives the unspent tokens of every lease back to the store (within
// one second in all) so that other nodes can use them, and makes later Allow
// calls decide locally. The error joins the give-backs that failed (their
// tokens stay stranded: under-admission only). Close starts no goroutine and
// is safe to call more than once; later calls return nil.
func (l *Limiter) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err = l.returnLeases(ctx)
	})
	return err
}
