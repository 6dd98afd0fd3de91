package ratelimit

import (
	"hash/maphash"
	"strings"
	"sync"
)

// numShards is the number of independently locked parts of a table.
const numShards = 64

// idleDropsPerCall is how many idle entries one call may drop from its
// shard's cold end: more than one, so idle entries drain even while new keys
// keep arriving.
const idleDropsPerCall = 2

// tableKey names one bucket: a policy, a key within it, and which kind of
// state it is (local bucket, fallback share, global lease), so the three never
// collide.
type tableKey struct {
	policy string
	key    string
	kind   uint8
}

// Kinds of table entries.
const (
	kindLocal uint8 = iota
	kindFallback
	kindLease
)

// table is a bounded map from tableKey to V, split into shards each guarded
// by its own mutex. Each shard keeps its entries in a slice threaded by a
// doubly linked recency list, so lookups of existing keys allocate nothing,
// and an insert into a full shard evicts its least recently used entry.
//
// Callers reach an entry only through with, which holds the shard's lock
// while fn runs: fn must not block.
type table[V any] struct {
	seed   maphash.Seed
	shards [numShards]shard[V]
}

type shard[V any] struct {
	mu    sync.Mutex // protects the fields below
	index map[tableKey]int32
	slots []slot[V]
	head  int32 // most recently used slot, -1 when empty
	tail  int32 // least recently used slot, -1 when empty
	free  int32 // first free slot (linked through next), -1 when none
	limit int
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type slot[V any] struct {
	k          tableKey
	prev, next int32
	v          V
}

// newTable returns a table holding at most about maxKeys entries (rounded up
// to a multiple of the shard count).
func newTable[V any](maxKeys int) *table[V] {
	t := &table[V]{seed: maphash.MakeSeed()}
	per := max(1, (maxKeys+numShards-1)/numShards)
	for i := range t.shards {
		s := &t.shards[i]
		s.index = make(map[tableKey]int32)
		s.head, s.tail, s.free = -1, -1, -1
		s.limit = per
	}
	return t
}

func (t *table[V]) shardOf(k tableKey) *shard[V] {
	h := maphash.String(t.seed, k.key) ^ (maphash.String(t.seed, k.policy) * 0x9e3779b97f4a7c15) ^ uint64(k.kind)
	return &t.shards[h%numShards]
}

// with runs fn on k's entry under its shard's lock, creating a zero entry
// (evicting the least recently used one of a full shard) when k is new, and
// marks it most recently used. Then it drops up to idleDropsPerCall entries
// from the shard's cold end for which idle reports that they hold nothing
// worth keeping, so idle entries drain as traffic passes through their
// shard. fn's result is returned.
func with[V any, R any](t *table[V], k tableKey, idle func(*V) bool, fn func(*V) R) R {
	s := t.shardOf(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[k]
	if !ok {
		i = s.insert(k)
	} else {
		s.touch(i)
	}
	for range idleDropsPerCall {
		tl := s.tail
		if tl < 0 || tl == i || idle == nil || !idle(&s.slots[tl].v) {
			break
		}
		s.remove(tl)
	}
	return fn(&s.slots[i].v)
}

// peek runs fn on k's entry if it exists, without changing recency.
func peek[V any](t *table[V], k tableKey, fn func(*V)) bool {
	s := t.shardOf(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[k]
	if ok {
		fn(&s.slots[i].v)
	}
	return ok
}

// each runs fn on every entry, shard by shard, under each shard's lock.
func (t *table[V]) each(fn func(k tableKey, v *V)) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for j := s.head; j >= 0; j = s.slots[j].next {
			fn(s.slots[j].k, &s.slots[j].v)
		}
		s.mu.Unlock()
	}
}

// len returns the number of entries.
func (t *table[V]) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// insert adds k as the most recently used entry and returns its slot. The
// key's strings are cloned: the caller's may point into a large request.
func (s *shard[V]) insert(k tableKey) int32 {
	if len(s.index) >= s.limit && s.tail >= 0 {
		s.remove(s.tail)
	}
	k.policy, k.key = strings.Clone(k.policy), strings.Clone(k.key)
	var i int32
	if s.free >= 0 {
		i = s.free
		s.free = s.slots[i].next
	} else {
		s.slots = append(s.slots, slot[V]{})
		i = int32(len(s.slots) - 1)
	}
	s.slots[i] = slot[V]{k: k, prev: -1, next: s.head}
	if s.head >= 0 {
		s.slots[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
	s.index[k] = i
	return i
}

// touch moves slot i to the front of the recency list.
func (s *shard[V]) touch(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.slots[i].prev, s.slots[i].next = -1, s.head
	if s.head >= 0 {
		s.slots[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// remove deletes slot i and puts it on the free list.
func (s *shard[V]) remove(i int32) {
	s.unlink(i)
	delete(s.index, s.slots[i].k)
	s.slots[i] = slot[V]{prev: -1, next: s.free}
	s.free = i
}

func (s *shard[V]) unlink(i int32) {
	p, n := s.slots[i].prev, s.slots[i].next
	if p >= 0 {
		s.slots[p].next = n
	} else {
		s.head = n
	}
	if n >= 0 {
		s.slots[n].prev = p
	} else {
		s.tail = p
	}
}
