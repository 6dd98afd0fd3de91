package respcache

import (
	"hash/maphash"
	"sync"
	"time"
)

// lruShards spreads the local tier over independently locked shards.
const lruShards = 16

// lru is the local tier: a byte-bounded LRU of entries split into shards,
// each holding at most max/lruShards bytes. Expired entries are dropped
// when found. Safe for concurrent use.
type lru struct {
	seed   maphash.Seed
	shards [lruShards]lruShard
}

type lruShard struct {
	mu    sync.Mutex // guards the fields below
	items map[string]*lruItem
	head  lruItem // sentinel: head.next is the most recently used
	bytes int64
	max   int64
}

type lruItem struct {
	key        string
	e          *Entry
	size       int64
	prev, next *lruItem
}

func newLRU(maxBytes int64) *lru {
	l := &lru{seed: maphash.MakeSeed()}
	for i := range l.shards {
		s := &l.shards[i]
		s.items = map[string]*lruItem{}
		s.head.next, s.head.prev = &s.head, &s.head
		s.max = maxBytes / lruShards
	}
	return l
}

func (l *lru) shard(key string) *lruShard {
	return &l.shards[maphash.String(l.seed, key)%lruShards]
}

// get returns the entry under key if it is still fresh at now.
func (l *lru) get(key string, now time.Time) *Entry {
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[key]
	if it == nil {
		return nil
	}
	if !it.e.fresh(now) {
		s.drop(it)
		return nil
	}
	if s.head.next != it {
		it.unlink()
		s.pushFront(it)
	}
	return it.e
}

// put stores e under key, replacing any entry there, and evicts the least
// recently used entries beyond the bound. An entry larger than half
// of a shard is not kept.
func (l *lru) put(key string, e *Entry) {
	s := l.shard(key)
	size := e.size() + int64(len(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.items[key]; old != nil {
		s.drop(old)
	}
	if size > s.max/2 {
		return
	}
	it := &lruItem{key: key, e: e, size: size}
	s.items[key] = it
	s.pushFront(it)
	s.bytes += size
	for s.bytes > s.max {
		s.drop(s.head.prev)
	}
}

// remove drops the entry under key.
func (l *lru) remove(key string) {
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.items[key]; it != nil {
		s.drop(it)
	}
}

// stats returns the number of entries and their bytes.
func (l *lru) stats() (n int, bytes int64) {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.items)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return n, bytes
}

func (s *lruShard) pushFront(it *lruItem) {
	it.prev, it.next = &s.head, s.head.next
	s.head.next.prev = it
	s.head.next = it
}

func (s *lruShard) drop(it *lruItem) {
	it.unlink()
	delete(s.items, it.key)
	s.bytes -= it.size
}

func (it *lruItem) unlink() {
	it.prev.next = it.next
	it.next.prev = it.prev
	it.prev, it.next = nil, nil
}
