package store

import (
	"time"
)

// removeDeleted removes e from sh as a deletion (not an expiry or an
// eviction). The caller holds sh.mu.
func (s *Store) removeDeleted(sh *shard, e *entry) {
	s.remove(sh, e)
	sh.deletes++
	s.notify(ChangeDelete, e)
}

// GetEx returns the item stored under key, like Get, and then changes its
// expiry: to at when at is not zero (deleting the key when at is not after
// now), or to none when persist (Redis GETEX). The version does not change.
func (s *Store) GetEx(key string, at time.Time, persist bool) (Item, bool, error) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, err := s.stringEntry(sh, h, key)
	if err != nil {
		return Item{}, false, err
	}
	if e == nil {
		sh.misses++
		return Item{}, false, nil
	}
	sh.hits++
	s.touch(sh, e)
	it := e.item()
	switch {
	case !at.IsZero():
		if enc := encodeExpiry(at); enc > 0 && enc <= s.nowNano() {
			s.removeDeleted(sh, e)
		} else {
			s.setExpiry(sh, e, enc)
		}
	case persist:
		s.setExpiry(sh, e, 0)
	}
	return it, true, nil
}

// ExpireCond is the condition of ExpireAt (Redis's EXPIRE options); the
// values combine as Redis allows (XX with GT or LT).
type ExpireCond uint8

// ExpireAt conditions.
const (
	ExpireNX ExpireCond = 1 << iota // only if the key has no expiry
	ExpireXX                        // only if the key has an expiry
	ExpireGT                        // only if at is later than the expiry (none counts as infinite)
	ExpireLT                        // only if at is earlier than the expiry (none counts as infinite)
)

// ExpireAt sets key's expiry to at if key exists and cond holds, comparing
// expiry times to the millisecond as Redis does, and reports whether it did.
// An at not after now deletes the key. It applies to a key of any kind. The
// version does not change.
func (s *Store) ExpireAt(key string, at time.Time, cond ExpireCond) bool {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return false
	}
	if cond != 0 {
		has := e.expires != 0
		var cur int64
		if has {
			cur = expiryTime(e.expires).UnixMilli()
		}
		when := at.UnixMilli()
		if cond&ExpireNX != 0 && has || cond&ExpireXX != 0 && !has ||
			cond&ExpireGT != 0 && (!has || when <= cur) ||
			cond&ExpireLT != 0 && has && when >= cur {
			return false
		}
	}
	if enc := encodeExpiry(at); enc > 0 && enc <= s.nowNano() {
		s.removeDeleted(sh, e)
	} else {
		s.setExpiry(sh, e, enc)
	}
	return true
}

// Expiry returns key's expiry time (zero for none); exists is false for a
// missing key. Unlike TTL it does not saturate: Redis's expiry times reach
// math.MaxInt64 milliseconds.
func (s *Store) Expiry(key string) (at time.Time, exists bool) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return time.Time{}, false
	}
	if e.expires != 0 {
		at = expiryTime(e.expires)
	}
	return at, true
}

// SetRange overwrites the value under key from byte offset on with v,
// padding with zero bytes, keeping the TTL, and returns the new length
// (Redis SETRANGE). An empty v changes nothing and returns the current
// length (0 for a missing key, which it does not create). It returns
// ErrTooLarge or ErrOutOfMemory; offset must not be negative.
func (s *Store) SetRange(key string, offset int64, v []byte) (int, error) {
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
		if len(v) == 0 {
			sh.mu.Unlock()
			return len(old), nil
		}
		if offset > int64(s.maxItem) || len(key)+int(offset)+len(v) > s.maxItem {
			sh.mu.Unlock()
			size := int64(len(key)+len(v)) + offset
			if size < 0 { // overflow
				size = 1<<63 - 1
			}
			return 0, &TooLargeError{Size: int(size), Limit: s.maxItem}
		}
		n := max(len(old), int(offset)+len(v))
		nv := make([]byte, n) // a new slice: readers may hold the old value
		copy(nv, old)
		copy(nv[offset:], v)
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

// IncrByFloat adds the decimal (or hexadecimal) floating-point number incr
// to the one stored under key (a missing key counts as 0), keeps its TTL,
// and returns the new value's text, computing and formatting as Redis does
// with x87 long doubles (see float.go). It returns ErrNotFloat, ErrNaNOrInf,
// ErrTooLarge or ErrOutOfMemory.
func (s *Store) IncrByFloat(key string, incr []byte) ([]byte, error) {
	sh, h := s.shardFor(key)
	for round := 0; ; round++ {
		sh.mu.Lock()
		e, err := s.stringEntry(sh, h, key)
		if err != nil {
			sh.mu.Unlock()
			return nil, err
		}
		var cur []byte
		var expires int64
		if e != nil {
			cur, expires = e.value, e.expires
		}
		nv, err := addFloat(cur, e != nil, incr)
		if err == nil && len(key)+len(nv) > s.maxItem {
			err = &TooLargeError{Size: len(key) + len(nv), Limit: s.maxItem}
		}
		if err != nil {
			sh.mu.Unlock()
			return nil, err
		}
		_, err = s.put(sh, h, key, e, nv, expires)
		sh.mu.Unlock()
		if s.retry(sh, err, round) {
			continue
		}
		if err != nil {
			return nil, finalErr(err)
		}
		return nv, nil
	}
}

// checkItems returns the TooLargeError of the first pair over the item limit.
func (s *Store) checkItems(keys []string, values [][]byte) error {
	for i, k := range keys {
		if n := len(k) + len(values[i]); n > s.maxItem {
			return &TooLargeError{Size: n, Limit: s.maxItem}
		}
	}
	return nil
}

// MSet stores values[i] under keys[i], without expiry, in order (Redis
// MSET). Every pair is checked against the item limit before anything is
// written, so an ErrTooLarge writes nothing; ErrOutOfMemory may stop it
// after some pairs. It is not atomic: a concurrent reader may see some keys
// written and others not.
func (s *Store) MSet(keys []string, values [][]byte) error {
	if err := s.checkItems(keys, values); err != nil {
		return err
	}
	for i, k := range keys {
		if _, err := s.Set(k, values[i], SetOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// MSetNX stores values[i] under keys[i], without expiry, if none of keys
// exists, and reports whether it did (Redis MSETNX). The check and the
// writes hold every shard involved, locked in shard order, so no concurrent
// write comes between them. It returns ErrTooLarge (nothing written) or
// ErrOutOfMemory; before locking it evicts until the items fit, so running
// out of memory midway (after some keys were written) needs concurrent
// writers to take that memory first.
func (s *Store) MSetNX(keys []string, values [][]byte) (bool, error) {
	if err := s.checkItems(keys, values); err != nil {
		return false, err
	}
	if s.max > 0 {
		var need int64
		for i, k := range keys {
			need += int64(len(k)+len(values[i])) + ItemOverhead
		}
		if need > s.max {
			return false, ErrOutOfMemory
		}
		for round := 0; s.used.Load()+need > s.max; round++ {
			if s.policy == PolicyNoEviction || round >= maxEvictRounds || !s.evictElsewhere(nil, need) {
				return false, ErrOutOfMemory
			}
		}
	}
	idx := make([]int, len(keys))
	hs := make([]uint64, len(keys))
	var locked []int // shard indexes, ascending
	for i, k := range keys {
		h := hashKey(s.seed, k)
		hs[i], idx[i] = h, int(h&s.mask)
		j := 0
		for j < len(locked) && locked[j] < idx[i] {
			j++
		}
		if j == len(locked) || locked[j] != idx[i] {
			locked = append(locked, 0)
			copy(locked[j+1:], locked[j:])
			locked[j] = idx[i]
		}
	}
	for _, i := range locked {
		s.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range locked {
			s.shards[i].mu.Unlock()
		}
	}()
	for i, k := range keys {
		if s.lookup(&s.shards[idx[i]], hs[i], k) != nil { // of any kind, as in Redis
			return false, nil
		}
	}
	for i, k := range keys {
		sh := &s.shards[idx[i]]
		v := make([]byte, len(values[i]))
		copy(v, values[i])
		if _, err := s.put(sh, hs[i], k, sh.items.get(hs[i], k), v, 0); err != nil {
			return false, finalErr(err)
		}
	}
	return true, nil
}
