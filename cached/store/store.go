package store

import (
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Store is a sharded in-memory key-value store. All methods may be called
// concurrently. Create it with New and stop its background goroutine with
// Close.
type Store struct {
	shards  []shard
	mask    uint64
	seed    uint64
	max     int64 // Config.MaxBytes
	maxItem int
	policy  Policy
	clock   func() time.Time
	// onChange is Config.OnChange; called with the key's shard locked.
	onChange func(kind ChangeKind, key string, version uint64)

	used       atomic.Int64  // charged bytes, maintained only when max > 0
	period     atomic.Uint32 // coarse LFU clock, refreshed by tick
	cursor     atomic.Uint64 // start shard of the next evictElsewhere
	expiryNext atomic.Uint64 // start shard of the next expiry cycle

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Item is a stored value with its metadata. Value is shared with the store
// and must not be modified; it stays valid (unchanged) forever.
type Item struct {
	Value     []byte
	Version   uint64    // ≥ 1 for a stored item; 0 only in the zero Item
	ExpiresAt time.Time // zero means no expiry
	// Kind is the value's type. A KindHash item has no Value; Peek and
	// Range fill Fields with a copy of its fields, in order.
	Kind   Kind
	Fields []Field
}

// SetOptions modify Set.
type SetOptions struct {
	// TTL > 0 makes the key expire after TTL; 0 means no expiry (unless
	// KeepTTL); negative is ErrBadOptions.
	TTL time.Duration
	// KeepTTL keeps the existing key's expiry (Redis KEEPTTL).
	KeepTTL bool
	// OnlyIfAbsent stores only if the key does not exist (Redis NX).
	OnlyIfAbsent bool
	// OnlyIfPresent stores only if the key exists (Redis XX).
	OnlyIfPresent bool
	// IfVersion, when not 0, stores only if the key exists with this version.
	IfVersion uint64
	// ExpireAt, when not zero, is the absolute expiry time (Redis EXAT,
	// PXAT, and EX/PX turned into a time by the caller, as Redis does); a
	// time not after now stores nothing and deletes the key. With TTL or
	// KeepTTL it is ErrBadOptions. Times past 2262 are kept to the
	// millisecond (see encodeExpiry).
	ExpireAt time.Time
}

// Stats are cumulative counters and current sizes.
type Stats struct {
	Hits        int64 // Get/MGet/GetDel found the key
	Misses      int64 // Get/MGet/GetDel did not
	Evictions   int64 // keys removed to free memory
	Expirations int64 // expired keys removed, lazily or actively
	Items       int64 // keys currently stored (as Len)
	Bytes       int64 // charged bytes currently stored; exact and ≤ MaxBytes when MaxBytes > 0
	Sets        int64 // successful value writes (Set, IncrBy, Append)
	Deletes     int64 // keys removed by Delete, GetDel and Expire(ttl <= 0)
}

// maxEvictRounds bounds how often one write retries after evicting in other
// shards while concurrent writers take the freed memory.
const maxEvictRounds = 16

// New validates cfg, applies defaults and returns a Store whose active-expiry
// goroutine is running.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Store{
		shards:  make([]shard, cfg.Shards),
		mask:    uint64(cfg.Shards - 1),
		seed:    rand.Uint64(),
		max:     cfg.MaxBytes,
		maxItem: cfg.MaxItemBytes,
		policy:  cfg.Policy,
		clock:   cfg.Clock,
		stop:    make(chan struct{}),

		onChange: cfg.OnChange,
	}
	for i := range s.shards {
		s.shards[i].init()
	}
	s.period.Store(s.periodOf(s.nowNano()))
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// Close stops the active-expiry goroutine and waits for it. It is idempotent.
// The store stays usable; expired keys are then only removed lazily.
func (s *Store) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// shardFor returns key's shard and hashKey: the shard is chosen by the
// hash's low bits, the shard's table uses its high bits.
func (s *Store) shardFor(key string) (*shard, uint64) {
	h := hashKey(s.seed, key)
	return &s.shards[h&s.mask], h
}

func (s *Store) nowNano() int64 { return s.clock().UnixNano() }

func (s *Store) periodOf(ns int64) uint32 { return uint32(ns / int64(lfuDecayPeriod)) }

// deadline returns the expiry time for ttl > 0 from now, saturating.
func (s *Store) deadline(ttl time.Duration) int64 {
	now := s.nowNano()
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }

// Get returns the string stored under key. It counts a hit or miss and
// records the access for the eviction policy. It returns ErrWrongType when
// key holds another kind of value.
func (s *Store) Get(key string) (Item, bool, error) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	e, err := s.stringEntry(sh, h, key)
	if e == nil {
		if err == nil {
			sh.misses++
		}
		sh.mu.Unlock()
		return Item{}, false, err
	}
	sh.hits++
	s.touch(sh, e)
	it := e.item()
	sh.mu.Unlock()
	return it, true, nil
}

// Peek returns the item stored under key, of any kind (a hash with a copy
// of its fields), but counts no hit or miss and records no access: for
// replication and introspection, not for clients.
func (s *Store) Peek(key string) (Item, bool) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return Item{}, false
	}
	return sh.fullItem(e), true
}

// MGet returns one Item per key, in order; a missing key's Item, and a key
// that holds another kind than a string, is the zero Item (Version 0), as in
// Redis's MGET. It is not atomic across keys.
func (s *Store) MGet(keys []string) []Item {
	return s.AppendMGet(make([]Item, 0, len(keys)), keys)
}

// AppendMGet is MGet appending to dst, for callers that reuse a slice.
func (s *Store) AppendMGet(dst []Item, keys []string) []Item {
	for _, k := range keys {
		it, _, _ := s.Get(k)
		dst = append(dst, it)
	}
	return dst
}

// Set stores a copy of value under key and returns its new version. It
// returns ErrBadOptions, ErrTooLarge, ErrNotStored (a condition in o failed)
// or ErrOutOfMemory. With o.ExpireAt not after now the write applies but
// leaves key deleted (version 0), as Redis's SET with a past EXAT does.
func (s *Store) Set(key string, value []byte, o SetOptions) (uint64, error) {
	ver, _, _, err := s.set(key, value, o, false)
	return ver, err
}

// SetGet is Set returning also the item key held before (Redis's SET … GET
// and GETSET), whether or not the write applied (found is false for a
// missing key). It finds that item as string operations do (stringEntry).
func (s *Store) SetGet(key string, value []byte, o SetOptions) (old Item, found bool, err error) {
	_, old, found, err = s.set(key, value, o, true)
	return old, found, err
}

func (s *Store) set(key string, value []byte, o SetOptions, get bool) (uint64, Item, bool, error) {
	if o.OnlyIfAbsent && o.OnlyIfPresent || o.TTL < 0 || o.KeepTTL && o.TTL != 0 ||
		!o.ExpireAt.IsZero() && (o.TTL != 0 || o.KeepTTL) {
		return 0, Item{}, false, ErrBadOptions
	}
	if len(key)+len(value) > s.maxItem {
		return 0, Item{}, false, &TooLargeError{Size: len(key) + len(value), Limit: s.maxItem}
	}
	v := make([]byte, len(value))
	copy(v, value)
	sh, h := s.shardFor(key)
	for round := 0; ; round++ {
		sh.mu.Lock()
		var e *entry
		var old Item
		if get {
			var err error
			if e, err = s.stringEntry(sh, h, key); err != nil {
				sh.mu.Unlock()
				return 0, Item{}, false, err
			}
			if e != nil {
				old = e.item()
			}
		} else {
			e = s.lookup(sh, h, key)
		}
		if o.OnlyIfAbsent && e != nil || o.OnlyIfPresent && e == nil ||
			o.IfVersion != 0 && (e == nil || e.version != o.IfVersion) {
			sh.mu.Unlock()
			return 0, old, e != nil, ErrNotStored
		}
		var expires int64
		switch {
		case !o.ExpireAt.IsZero():
			if expires = encodeExpiry(o.ExpireAt); expires > 0 && expires <= s.nowNano() {
				// Set and expired at once.
				if e != nil {
					s.removeDeleted(sh, e)
				}
				sh.mu.Unlock()
				return 0, old, e != nil, nil
			}
		case o.TTL > 0:
			expires = s.deadline(o.TTL)
		case o.KeepTTL && e != nil:
			expires = e.expires
		}
		ver, err := s.put(sh, h, key, e, v, expires)
		sh.mu.Unlock()
		if !s.retry(sh, err, round) {
			return ver, old, e != nil, finalErr(err)
		}
	}
}

// retry handles needEviction from put (called without sh.mu): it evicts in
// other shards and reports whether the write should be attempted again.
// Otherwise the caller returns finalErr(err).
func (s *Store) retry(sh *shard, err error, round int) bool {
	ne, ok := err.(needEviction)
	if !ok {
		return false
	}
	return round < maxEvictRounds && s.evictElsewhere(sh, ne.need)
}

// finalErr maps an unsatisfied needEviction to ErrOutOfMemory.
func finalErr(err error) error {
	if _, ok := err.(needEviction); ok {
		return ErrOutOfMemory
	}
	return err
}

// Delete removes keys and returns how many existed.
func (s *Store) Delete(keys ...string) int {
	n := 0
	for _, k := range keys {
		sh, h := s.shardFor(k)
		sh.mu.Lock()
		if e := s.lookup(sh, h, k); e != nil {
			s.remove(sh, e)
			sh.deletes++
			s.notify(ChangeDelete, e)
			n++
		}
		sh.mu.Unlock()
	}
	return n
}

// GetDel removes key and returns the string it held; ErrWrongType (and
// nothing removed) when key holds another kind.
func (s *Store) GetDel(key string) (Item, bool, error) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, err := s.stringEntry(sh, h, key)
	if e == nil {
		if err == nil {
			sh.misses++
		}
		return Item{}, false, err
	}
	sh.hits++
	sh.deletes++
	s.remove(sh, e)
	s.notify(ChangeDelete, e)
	return e.item(), true, nil
}

// Expire sets key to expire after ttl and reports whether key exists. A ttl
// <= 0 deletes the key (Redis semantics). The version does not change.
func (s *Store) Expire(key string, ttl time.Duration) bool {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return false
	}
	if ttl <= 0 {
		s.remove(sh, e)
		sh.deletes++
		s.notify(ChangeDelete, e)
		return true
	}
	s.setExpiry(sh, e, s.deadline(ttl))
	return true
}

// Persist removes key's expiry and reports whether it had one.
func (s *Store) Persist(key string) bool {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil || e.expires == 0 {
		return false
	}
	s.setExpiry(sh, e, 0)
	return true
}

// TTL returns key's remaining time to live. exists is false for a missing
// key; hasTTL is false for a key without expiry (ttl is then 0).
func (s *Store) TTL(key string) (ttl time.Duration, exists bool, hasTTL bool) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return 0, false, false
	}
	if e.expires == 0 {
		return 0, true, false
	}
	return remaining(e.expires, s.nowNano()), true, true
}

// IncrBy adds delta to the base-10 integer stored under key (a missing key
// counts as 0), keeps its TTL, and returns the new value. It returns
// ErrNotInteger, ErrOverflow or ErrOutOfMemory.
func (s *Store) IncrBy(key string, delta int64) (int64, error) {
	if len(key)+20 > s.maxItem {
		return 0, &TooLargeError{Size: len(key) + 20, Limit: s.maxItem}
	}
	sh, h := s.shardFor(key)
	for round := 0; ; round++ {
		sh.mu.Lock()
		e, err := s.stringEntry(sh, h, key)
		if err != nil {
			sh.mu.Unlock()
			return 0, err
		}
		var cur, expires int64
		if e != nil {
			var ok bool
			if cur, ok = parseInt(e.value); !ok {
				sh.mu.Unlock()
				return 0, ErrNotInteger
			}
			expires = e.expires
		}
		if delta > 0 && cur > math.MaxInt64-delta || delta < 0 && cur < math.MinInt64-delta {
			sh.mu.Unlock()
			return 0, ErrOverflow
		}
		n := cur + delta
		_, err = s.put(sh, h, key, e, strconv.AppendInt(make([]byte, 0, 20), n, 10), expires)
		sh.mu.Unlock()
		if s.retry(sh, err, round) {
			continue
		}
		if err != nil {
			return 0, finalErr(err)
		}
		return n, nil
	}
}

// Append appends v to the value stored under key (creating it if missing),
// keeps its TTL, and returns the new length. It returns ErrTooLarge or
// ErrOutOfMemory.
func (s *Store) Append(key string, v []byte) (int, error) {
	sh, h := s.shardFor(key)
	for round := 0; ; round++ {
		sh.mu.Lock()
		e, err := s.stringEntry(sh, h, key)
		if err != nil {
			sh.mu.Unlock()
			return 0, err
		}
		var old []byte
		var expires int64
		if e != nil {
			old, expires = e.value, e.expires
		}
		n := len(old) + len(v)
		if len(key)+n > s.maxItem {
			sh.mu.Unlock()
			return 0, &TooLargeError{Size: len(key) + n, Limit: s.maxItem}
		}
		var nv []byte
		if cap(old)-len(old) >= len(v) {
			// Bytes past len(old) were never visible to a reader.
			nv = old[:n]
			copy(nv[len(old):], v)
		} else {
			c := min(n+n/4, s.maxItem-len(key))
			nv = make([]byte, n, c)
			copy(nv, old)
			copy(nv[len(old):], v)
		}
		_, err = s.put(sh, h, key, e, nv, expires)
		sh.mu.Unlock()
		if s.retry(sh, err, round) {
			continue
		}
		if err != nil {
			return 0, finalErr(err)
		}
		return n, nil
	}
}

// Exists returns how many of keys exist; a key given twice counts twice.
func (s *Store) Exists(keys ...string) int {
	n := 0
	for _, k := range keys {
		sh, h := s.shardFor(k)
		sh.mu.Lock()
		if s.lookup(sh, h, k) != nil {
			n++
		}
		sh.mu.Unlock()
	}
	return n
}

// FlushAll removes every key, shard by shard. Versions keep growing.
func (s *Store) FlushAll() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if s.max > 0 {
			s.used.Add(-sh.bytes)
		}
		sh.init()
		sh.mu.Unlock()
	}
	if s.onChange != nil {
		s.onChange(ChangeFlush, "", 0)
	}
}

// Len returns the number of stored keys, including expired keys not yet
// removed.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.items.len()
		sh.mu.Unlock()
	}
	return n
}

// Range calls fn for every live key until fn returns false, for rebalancing
// and KEYS. A hash's Item carries a copy of its fields.
// Shards are visited one at a time: each shard is copied (keys and Item
// headers, not values) under its lock and fn runs on the copy without any
// lock held, so fn may call Store methods. Each shard's view is a consistent
// snapshot, but shards are snapped at different times; keys written to a
// shard after its snapshot are not seen, keys deleted after it may be, and
// keys expired at snapshot time are skipped. Range does not count hits or
// touch entries.
func (s *Store) Range(fn func(key string, it Item) bool) {
	type kv struct {
		key string
		it  Item
	}
	var buf []kv
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		now := s.nowNano()
		buf = buf[:0]
		for e := range sh.items.all {
			if !e.expiredAt(now) {
				buf = append(buf, kv{e.key, sh.fullItem(e)})
			}
		}
		sh.mu.Unlock()
		for _, x := range buf {
			if !fn(x.key, x.it) {
				return
			}
		}
	}
}

// Stats sums the shards' counters, locking one shard at a time.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Hits += sh.hits
		st.Misses += sh.misses
		st.Evictions += sh.evictions
		st.Expirations += sh.expirations
		st.Items += int64(sh.items.len())
		st.Bytes += sh.bytes
		st.Sets += sh.sets
		st.Deletes += sh.deletes
		sh.mu.Unlock()
	}
	if s.max > 0 {
		// The shards were read at different times; the global counter is
		// the exact, enforced total.
		st.Bytes = s.used.Load()
	}
	return st
}

// notify reports a change of e to Config.OnChange. The caller holds e's
// shard lock, so the changes of one key are reported in the order they
// happen.
func (s *Store) notify(kind ChangeKind, e *entry) {
	if s.onChange != nil {
		s.onChange(kind, e.key, e.version)
	}
}

// parseInt parses a canonical base-10 int64 the way Redis does: optional
// '-', no '+', no leading zeros, no "-0", no spaces.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= 1<<63:
		return -int64(u), true // -int64(1<<63) wraps to MinInt64
	}
	return 0, false
}
