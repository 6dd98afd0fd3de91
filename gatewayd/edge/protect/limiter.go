package protect

import (
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"sync"
	"time"
)

// limiterShards is how many independently locked parts a Limiter has.
const limiterShards = 16

// DefaultMaxClients is LimiterConfig.MaxClients when zero.
const DefaultMaxClients = 100_000

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	// Rate is the sustained requests per second allowed per client (> 0).
	Rate float64
	// Burst is how many requests a client may make at once after being idle
	// (>= 1).
	Burst int
	// MaxClients bounds how many clients' buckets are kept (default
	// DefaultMaxClients); beyond it the least recently seen client is
	// forgotten, which can only let that client through sooner (its next
	// request finds a full bucket).
	MaxClients int
	// IPv6PrefixBits groups IPv6 clients by prefix (default 64).
	IPv6PrefixBits int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Limiter is a token bucket per client IP: each client may make Burst
// requests at once and Rate per second sustained. Memory is bounded by
// MaxClients (an LRU of clients, split into shards). A Limiter is safe for
// concurrent use.
type Limiter struct {
	rate   float64
	burst  float64
	now    func() time.Time
	keyer  clientKeyer
	seed   maphash.Seed
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex // protects the fields below
	buckets map[netip.Addr]*bucket
	head    *bucket // most recently used
	tail    *bucket // least recently used
	limit   int
	_       [40]byte // keeps neighbouring shards' locks off one cache line
}

type bucket struct {
	key        netip.Addr
	tokens     float64
	last       time.Time
	prev, next *bucket
}

// NewLimiter returns a Limiter, or an error naming the bad field.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("%w: Rate is %v, it must be a positive number of requests per second", ErrInvalidConfig, cfg.Rate)
	}
	if cfg.Burst < 1 {
		return nil, fmt.Errorf("%w: Burst is %d, it must be at least 1", ErrInvalidConfig, cfg.Burst)
	}
	if cfg.MaxClients < 0 {
		return nil, fmt.Errorf("%w: MaxClients is %d, it must be >= 0 (0: %d)", ErrInvalidConfig, cfg.MaxClients, DefaultMaxClients)
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	keyer, err := newClientKeyer("IPv6PrefixBits", cfg.IPv6PrefixBits)
	if err != nil {
		return nil, err
	}
	l := &Limiter{rate: cfg.Rate, burst: float64(cfg.Burst), now: cfg.Now, keyer: keyer, seed: maphash.MakeSeed()}
	if l.now == nil {
		l.now = time.Now
	}
	per := max(1, (cfg.MaxClients+limiterShards-1)/limiterShards)
	for i := range l.shards {
		l.shards[i].buckets = make(map[netip.Addr]*bucket)
		l.shards[i].limit = per
	}
	return l, nil
}

// Allow takes one token from ip's bucket. When the bucket is empty it
// returns false and how long until a token is there. An invalid address is
// one client of its own.
func (l *Limiter) Allow(ip netip.Addr) (ok bool, retryAfter time.Duration) {
	key := l.keyer.key(ip)
	now := l.now()
	s := &l.shards[maphash.Comparable(l.seed, key)%limiterShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(key, now, l.burst)
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := math.Ceil((1 - b.tokens) / l.rate * float64(time.Second))
	return false, time.Duration(wait)
}

// Len is how many clients the Limiter currently remembers.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// get returns key's bucket, moved to the front; a new key gets a full
// bucket, reusing the least recently used one when the shard is full.
// s.mu must be held.
func (s *limiterShard) get(key netip.Addr, now time.Time, burst float64) *bucket {
	if b, ok := s.buckets[key]; ok {
		if s.head != b {
			s.unlink(b)
			s.pushFront(b)
		}
		return b
	}
	var b *bucket
	if len(s.buckets) >= s.limit {
		b = s.tail
		s.unlink(b)
		delete(s.buckets, b.key)
		*b = bucket{}
	} else {
		b = new(bucket)
	}
	b.key, b.tokens, b.last = key, burst, now
	s.buckets[key] = b
	s.pushFront(b)
	return b
}

func (s *limiterShard) unlink(b *bucket) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		s.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		s.tail = b.prev
	}
	b.prev, b.next = nil, nil
}

func (s *limiterShard) pushFront(b *bucket) {
	b.next = s.head
	if s.head != nil {
		s.head.prev = b
	}
	s.head = b
	if s.tail == nil {
		s.tail = b
	}
}
