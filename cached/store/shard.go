package store

import (
	"math/rand/v2"
	"sync"
	"unsafe"
)

// entry is one item. All fields are guarded by the owning shard's mutex,
// except that the bytes value[:len(value)] are immutable once published.
// Entries are only handled by pointer: key may point into the entry itself.
type entry struct {
	key     string          // aliases kbuf when it fits; see newEntry
	kbuf    [inlineKey]byte // the key's bytes, when it fits: on key's cache line
	value   []byte          // cap may exceed len after Append; see the package doc
	version uint64
	expires int64 // see encodeExpiry: 0 no expiry, > 0 Unix ns, < 0 -(Unix ms) past 2262

	idx    int32  // index in shard.clock (PolicyLRU) or shard.all (PolicyLFU)
	ttlIdx int32  // index in shard.ttl, or -1
	ref    bool   // PolicyLRU: used since the clock hand last passed it
	freq   uint8  // LFU logarithmic access counter
	kind   Kind   // KindString: value; KindHash: value is nil, the fields are in shard.hashes
	period uint32 // LFU decay period of the last access
	hashHi uint32 // top half of hashKey(key), set by table.insert
}

// inlineKey is the longest key kept inside its entry, right after the key's
// header, so that a lookup compares the key without another cache miss: on a
// cache larger than the CPU's caches a Get or Set of a key held in its own
// allocation missed three times (table slot, entry, key bytes), and the third
// was 10–12 % of the RESP loop's time at -P 16. 32 bytes cover the keys of
// Redis Cluster clients (redis-benchmark --cluster's are 22:
// "key:{tag}:000000012345"), which at 16 cost 8 % of a node's CPU in the key
// compare and a key allocation per SET; the entry is 112 bytes, the size of
// its allocation class, and a key of up to 32 bytes needs no allocation of
// its own.
const inlineKey = 32

// newEntry returns an entry for key and value, with key copied into the entry
// when it fits.
func newEntry(key string, value []byte) *entry {
	e := &entry{key: key, value: value}
	if n := len(key); n > 0 && n <= inlineKey {
		copy(e.kbuf[:], key)
		e.key = unsafe.String(&e.kbuf[0], n)
	}
	return e
}

// charge is the number of bytes e is charged: len(key)+len(value)+
// ItemOverhead for a string, and for a hash its fields' bytes plus
// HashFieldOverhead per field instead of the value. Only a hash pays for the
// map lookup.
func (sh *shard) charge(e *entry) int64 {
	if e.kind == KindString {
		return int64(len(e.key)+len(e.value)) + ItemOverhead
	}
	return int64(len(e.key)) + sh.hashes[e].charge() + ItemOverhead
}

// item returns e's metadata and, for a string, its value.
func (e *entry) item() Item {
	it := Item{Value: e.value[:len(e.value):len(e.value)], Version: e.version, Kind: e.kind}
	if e.expires != 0 {
		it.ExpiresAt = expiryTime(e.expires)
	}
	return it
}

// shard is one lock domain of the store.
type shard struct {
	mu sync.Mutex // protects every field below and the entries they reach

	items table    // every entry, by key
	clock []*entry // PolicyLRU: every entry, in clock order; nil marks a hole
	hand  int      // PolicyLRU: the clock position the hand looks at next
	holes int      // PolicyLRU: nil slots in clock
	all   []*entry // PolicyLFU: every entry, for sampling
	ttl   []*entry // entries with an expiry, for active expiry
	cur   int      // active expiry cursor into ttl
	// hashes holds the fields of every KindHash entry; nil until the first.
	hashes map[*entry]*hashValue

	bytes   int64  // charged bytes of the entries in items
	version uint64 // last version handed out

	hits, misses, evictions, expirations, sets, deletes int64

	_ [64]byte // keep neighbouring shards' mutexes off this cache line
}

func (sh *shard) init() {
	sh.items.reset()
	sh.clock, sh.hand, sh.holes = nil, 0, 0
	sh.all, sh.ttl, sh.cur = nil, nil, 0
	sh.hashes = nil
	sh.bytes = 0
}

// lookup returns the live entry for key, whose hashKey is hash, removing it
// if it has expired.
func (s *Store) lookup(sh *shard, hash uint64, key string) *entry {
	e := sh.items.get(hash, key)
	if e != nil && e.expiredAt(s.nowNano()) {
		s.remove(sh, e)
		sh.expirations++
		s.notify(ChangeExpire, e)
		return nil
	}
	return e
}

// touch records an access for the eviction policy.
func (s *Store) touch(sh *shard, e *entry) {
	switch s.policy {
	case PolicyLRU:
		if !e.ref { // a hot entry's line is read, not written, on each use
			e.ref = true
		}
	case PolicyLFU:
		lfuTouch(e, s.period.Load())
	}
}

// insert links a new entry, whose key has hashKey hash, into sh; its size is
// already reserved.
func (s *Store) insert(sh *shard, hash uint64, e *entry) {
	sh.items.insert(hash, e)
	e.ttlIdx = -1
	switch s.policy {
	case PolicyLRU:
		sh.clockInsert(e)
	case PolicyLFU:
		e.freq, e.period = lfuInitial, s.period.Load()
		e.idx = int32(len(sh.all))
		sh.all = append(sh.all, e)
	}
	sh.bytes += sh.charge(e)
}

// remove unlinks e from sh and releases its charge.
func (s *Store) remove(sh *shard, e *entry) {
	sh.items.remove(e)
	switch s.policy {
	case PolicyLRU:
		sh.clockRemove(e)
	case PolicyLFU:
		last := sh.all[len(sh.all)-1]
		sh.all[e.idx] = last
		last.idx = e.idx
		sh.all[len(sh.all)-1] = nil
		sh.all = sh.all[:len(sh.all)-1]
	}
	s.setExpiry(sh, e, 0)
	sz := sh.charge(e)
	if e.kind != KindString {
		delete(sh.hashes, e)
	}
	sh.bytes -= sz
	if s.max > 0 {
		s.used.Add(-sz)
	}
}

// setExpiry sets e.expires and keeps sh.ttl in step.
func (s *Store) setExpiry(sh *shard, e *entry, expires int64) {
	switch {
	case expires != 0 && e.ttlIdx < 0:
		e.ttlIdx = int32(len(sh.ttl))
		sh.ttl = append(sh.ttl, e)
	case expires == 0 && e.ttlIdx >= 0:
		last := sh.ttl[len(sh.ttl)-1]
		sh.ttl[e.ttlIdx] = last
		last.ttlIdx = e.ttlIdx
		sh.ttl[len(sh.ttl)-1] = nil
		sh.ttl = sh.ttl[:len(sh.ttl)-1]
		e.ttlIdx = -1
	}
	e.expires = expires
}

// victim picks the entry to evict from sh, never keep; nil if none.
func (s *Store) victim(sh *shard, keep *entry) *entry {
	switch s.policy {
	case PolicyLRU:
		return sh.clockVictim(keep)
	case PolicyLFU:
		n := len(sh.all)
		if n == 0 || n == 1 && sh.all[0] == keep {
			return nil
		}
		now := s.period.Load()
		var best *entry
		var bestFreq uint8
		for range lfuSamples {
			e := sh.all[rand.IntN(n)]
			if e == keep {
				continue
			}
			if f := lfuDecayed(e, now); best == nil || f < bestFreq || f == bestFreq && e.period < best.period {
				best, bestFreq = e, f
			}
		}
		if best == nil { // every sample hit keep
			for _, e := range sh.all {
				if e != keep {
					return e
				}
			}
		}
		return best
	}
	return nil
}

// evictOne evicts one entry of sh other than keep and reports whether it did.
func (s *Store) evictOne(sh *shard, keep *entry) bool {
	e := s.victim(sh, keep)
	if e == nil {
		return false
	}
	s.remove(sh, e)
	sh.evictions++
	s.notify(ChangeEvict, e)
	return true
}

// needEviction is put's signal that its shard has nothing left to evict:
// the caller must unlock, call evictElsewhere and retry.
type needEviction struct{ need int64 }

func (needEviction) Error() string { return "store: evict in other shards" }

// reserve charges delta > 0 bytes against the global limit, evicting from sh
// (never keep) while it does not fit.
func (s *Store) reserve(sh *shard, delta int64, keep *entry) error {
	if s.max == 0 {
		return nil
	}
	if delta > s.max {
		return ErrOutOfMemory
	}
	for {
		u := s.used.Load()
		if u+delta <= s.max {
			if s.used.CompareAndSwap(u, u+delta) {
				return nil
			}
			continue
		}
		if s.policy == PolicyNoEviction {
			return ErrOutOfMemory
		}
		if !s.evictOne(sh, keep) {
			return needEviction{need: delta}
		}
	}
}

// evictElsewhere evicts from shards other than own, each locked on its own
// (never while holding own's lock, so there is no lock order), until need
// more bytes fit. It reports whether it fits or anything was evicted.
func (s *Store) evictElsewhere(own *shard, need int64) bool {
	start := int(s.cursor.Add(1))
	evicted := false
	for i := range s.shards {
		sh := &s.shards[(start+i)&int(s.mask)]
		if sh == own {
			continue
		}
		sh.mu.Lock()
		for s.used.Load()+need > s.max && s.evictOne(sh, nil) {
			evicted = true
		}
		fits := s.used.Load()+need <= s.max
		sh.mu.Unlock()
		if fits {
			return true
		}
	}
	return evicted
}

// put stores value under key (whose hashKey is hash) in sh, replacing old
// (the live entry for key, or nil), and returns the new version. The caller
// holds sh.mu.
func (s *Store) put(sh *shard, hash uint64, key string, old *entry, value []byte, expires int64) (uint64, error) {
	size := int64(len(key)+len(value)) + ItemOverhead
	delta := size
	if old != nil {
		delta -= sh.charge(old)
	}
	if delta > 0 {
		if err := s.reserve(sh, delta, old); err != nil {
			return 0, err
		}
	} else if s.max > 0 {
		s.used.Add(delta)
	}
	sh.version++
	e := old
	if e == nil {
		e = newEntry(key, value)
		s.insert(sh, hash, e)
	} else {
		if e.kind != KindString { // SET over a hash replaces it
			delete(sh.hashes, e)
			e.kind = KindString
		}
		e.value = value
		sh.bytes += delta
		s.touch(sh, e)
	}
	e.version = sh.version
	s.setExpiry(sh, e, expires)
	sh.sets++
	s.notify(ChangeSet, e)
	return e.version, nil
}
