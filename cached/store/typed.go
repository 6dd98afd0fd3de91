package store

import (
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// Kind is the type of value a key holds.
type Kind uint8

// Kinds of values. The zero value is KindString.
const (
	// KindString is a byte string: Set, Get, Append, IncrBy.
	KindString Kind = iota
	// KindHash is a map of fields to byte strings, kept in insertion order:
	// HSet, HRead, HDel, HUpdate.
	KindHash
)

// String returns the Redis name of the kind, as TYPE answers it.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindHash:
		return "hash"
	}
	return "unknown"
}

// Field is one field of a hash and its value.
type Field struct {
	Name  string
	Value []byte
}

// HashFieldOverhead is the fixed number of bytes charged per field of a hash,
// on top of len(field)+len(value): the field's slot in the hash (a string
// and a slice header, 40 bytes) and its share of the name index that hashes
// of more than hashIndexMin fields keep.
const HashFieldOverhead = 48

// hashIndexMin is the largest hash whose fields are found by a linear scan;
// bigger hashes keep an index from name to position.
const hashIndexMin = 16

// hashValue is the payload of a KindHash entry, kept in its shard's hashes
// map (so that entries, and the string hot path, do not grow). Fields keep
// the order in which they were first set, as Redis's small hashes (listpack)
// do; a deleted field's successors move up. Values are immutable once stored:
// an update installs a new slice, so readers may keep the ones they got.
// Guarded by the shard's mutex.
type hashValue struct {
	fields []Field
	index  map[string]int32 // name → position; nil while len(fields) <= hashIndexMin
	data   int              // Σ len(Name)+len(Value)
}

func (h *hashValue) charge() int64 {
	return int64(h.data + len(h.fields)*HashFieldOverhead)
}

// find returns the position of name, or -1.
func (h *hashValue) find(name string) int {
	if h == nil {
		return -1
	}
	if h.index != nil {
		if i, ok := h.index[name]; ok {
			return int(i)
		}
		return -1
	}
	for i := range h.fields {
		if h.fields[i].Name == name {
			return i
		}
	}
	return -1
}

func (h *hashValue) get(name string) ([]byte, bool) {
	if i := h.find(name); i >= 0 {
		return h.fields[i].Value, true
	}
	return nil, false
}

// set stores owned copies of name and value.
func (h *hashValue) set(name string, value []byte) {
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	if i := h.find(name); i >= 0 {
		h.data += len(v) - len(h.fields[i].Value)
		h.fields[i].Value = v
		return
	}
	name = strings.Clone(name)
	h.fields = append(h.fields, Field{Name: name, Value: v})
	h.data += len(name) + len(v)
	switch {
	case h.index != nil:
		h.index[name] = int32(len(h.fields) - 1)
	case len(h.fields) > hashIndexMin:
		h.index = make(map[string]int32, len(h.fields))
		for i, f := range h.fields {
			h.index[f.Name] = int32(i)
		}
	}
}

func (h *hashValue) del(name string) bool {
	i := h.find(name)
	if i < 0 {
		return false
	}
	h.data -= len(h.fields[i].Name) + len(h.fields[i].Value)
	copy(h.fields[i:], h.fields[i+1:])
	h.fields[len(h.fields)-1] = Field{}
	h.fields = h.fields[:len(h.fields)-1]
	if h.index != nil {
		delete(h.index, name)
		for j := i; j < len(h.fields); j++ {
			h.index[h.fields[j].Name] = int32(j)
		}
	}
	return true
}

// bstr returns b as a string without copying, for lookups and for keys of
// maps that do not outlive the call; hashValue.set copies what it keeps.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// stringEntry is the lookup of every operation that reads or changes a value
// as a string (Get, GetDel, IncrBy, Append, and any string command added
// later): it returns key's live entry, nil when key does not exist, or
// ErrWrongType when key holds another kind of value. Set does not use it: it
// replaces a value of any kind, as Redis's SET does. The caller holds sh.mu.
func (s *Store) stringEntry(sh *shard, hash uint64, key string) (*entry, error) {
	e := s.lookup(sh, hash, key)
	if e != nil && e.kind != KindString {
		return nil, ErrWrongType
	}
	return e, nil
}

// hashEntry is stringEntry for hash operations: the live entry and its
// fields, nils when key does not exist, ErrWrongType for a string.
func (s *Store) hashEntry(sh *shard, hash uint64, key string) (*entry, *hashValue, error) {
	e := s.lookup(sh, hash, key)
	if e == nil {
		return nil, nil, nil
	}
	if e.kind != KindHash {
		return nil, nil, ErrWrongType
	}
	return e, sh.hashes[e], nil
}

// fullItem is e.item() with a copy of a hash's fields. The caller holds sh.mu.
func (sh *shard) fullItem(e *entry) Item {
	it := e.item()
	if e.kind == KindHash {
		it.Fields = slices.Clone(sh.hashes[e].fields)
	}
	return it
}

// Hash is a read-only view of a stored hash, valid only inside the function
// given to HRead (the zero Hash is empty). The field values it returns are
// immutable and stay valid afterwards.
type Hash struct{ v *hashValue }

// Len returns the number of fields.
func (h Hash) Len() int {
	if h.v == nil {
		return 0
	}
	return len(h.v.fields)
}

// Get returns the value of field.
func (h Hash) Get(field string) ([]byte, bool) { return h.v.get(field) }

// At returns the i-th field in insertion order, 0 <= i < Len().
func (h Hash) At(i int) Field { return h.v.fields[i] }

// HRead calls fn with key's hash, the zero Hash when key does not exist,
// while key's shard is locked: fn must be quick and must not call the Store.
// It counts a hit or miss. It returns ErrWrongType for a string.
func (s *Store) HRead(key string, fn func(h Hash)) error {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, hv, err := s.hashEntry(sh, h, key)
	if err != nil {
		return err
	}
	if e == nil {
		sh.misses++
	} else {
		sh.hits++
		s.touch(sh, e)
	}
	fn(Hash{hv})
	return nil
}

// hashPlan is what a hash write will do, decided under the shard lock before
// anything changes, so that its memory can be reserved first: the hash's
// size after it, and apply, which makes the change (nil: nothing to change).
type hashPlan struct {
	data, fields int // Σ len(field)+len(value) and the field count after apply
	apply        func(h *hashValue)
}

// keepExpiry tells editHash to leave a key's expiry as it is; encodeExpiry
// never returns it.
const keepExpiry int64 = math.MinInt64

// editHash runs one write of key's hash atomically under its shard lock.
// plan sees the current fields (nil when key does not exist) and may be
// called more than once (after evicting from other shards), so it must not
// have side effects. A hash left without fields is deleted, as in Redis. The
// item limit applies to len(key) plus the fields' bytes, memory is charged by
// the fields (see HashFieldOverhead), and the key's TTL is kept. With
// overwrite, a string under key is replaced instead of ErrWrongType; unless
// expires is keepExpiry the expiry is set to it (0: none; see encodeExpiry).
func (s *Store) editHash(key string, overwrite bool, expires int64, plan func(hv *hashValue) (hashPlan, error)) error {
	sh, h := s.shardFor(key)
	for round := 0; ; round++ {
		sh.mu.Lock()
		e, hv, err := s.hashEntry(sh, h, key)
		if err == ErrWrongType && overwrite {
			e = s.lookup(sh, h, key)
			s.remove(sh, e)
			s.notify(ChangeDelete, e)
			e, hv, err = nil, nil, nil
		}
		if err != nil {
			sh.mu.Unlock()
			return err
		}
		p, err := plan(hv)
		if err != nil || p.apply == nil {
			sh.mu.Unlock()
			return err
		}
		if p.fields == 0 { // the last field went: the key goes
			if e != nil {
				s.remove(sh, e)
				sh.deletes++
				s.notify(ChangeDelete, e)
			}
			sh.mu.Unlock()
			return nil
		}
		if len(key)+p.data > s.maxItem {
			sh.mu.Unlock()
			return &TooLargeError{Size: len(key) + p.data, Limit: s.maxItem}
		}
		delta := int64(len(key)+p.data+p.fields*HashFieldOverhead) + ItemOverhead
		if e != nil {
			delta -= sh.charge(e)
		}
		if delta > 0 {
			if err := s.reserve(sh, delta, e); err != nil {
				sh.mu.Unlock()
				if s.retry(sh, err, round) {
					continue
				}
				return finalErr(err)
			}
		} else if s.max > 0 {
			s.used.Add(delta)
		}
		sh.version++
		if e == nil {
			hv = &hashValue{}
			p.apply(hv)
			e = newEntry(strings.Clone(key), nil)
			e.kind = KindHash
			if sh.hashes == nil {
				sh.hashes = make(map[*entry]*hashValue)
			}
			sh.hashes[e] = hv
			s.insert(sh, h, e)
		} else {
			p.apply(hv)
			sh.bytes += delta
			s.touch(sh, e)
		}
		if expires != keepExpiry {
			s.setExpiry(sh, e, expires)
		}
		e.version = sh.version
		sh.sets++
		s.notify(ChangeSet, e)
		sh.mu.Unlock()
		return nil
	}
}

func sizeOf(hv *hashValue) (data, fields int) {
	if hv == nil {
		return 0, 0
	}
	return hv.data, len(hv.fields)
}

// HSet sets fields of the hash under key (creating it): pairs alternate field
// and value, and a field given twice takes its last value. With onlyNew
// (HSETNX) a field that exists keeps its value. It returns how many fields
// were added, ErrWrongType for a string, ErrTooLarge or ErrOutOfMemory.
func (s *Store) HSet(key string, pairs [][]byte, onlyNew bool) (int, error) {
	var added int
	err := s.editHash(key, false, keepExpiry, func(hv *hashValue) (hashPlan, error) {
		data, n := sizeOf(hv)
		added = 0
		var seen map[string]int // value lengths set earlier in this call
		if len(pairs) > 2 {
			seen = make(map[string]int, len(pairs)/2)
		}
		changed := false
		for i := 0; i+1 < len(pairs); i += 2 {
			name, vlen := bstr(pairs[i]), len(pairs[i+1])
			if l, ok := seen[name]; ok {
				if !onlyNew {
					data += vlen - l
					seen[name] = vlen
				}
				continue
			}
			if old, ok := hv.get(name); ok {
				if onlyNew {
					continue
				}
				data += vlen - len(old)
			} else {
				data += len(name) + vlen
				n++
				added++
			}
			changed = true
			if seen != nil {
				seen[name] = vlen
			}
		}
		if !changed {
			return hashPlan{}, nil
		}
		return hashPlan{data: data, fields: n, apply: func(hv *hashValue) {
			for i := 0; i+1 < len(pairs); i += 2 {
				if onlyNew && hv.find(bstr(pairs[i])) >= 0 {
					continue
				}
				hv.set(bstr(pairs[i]), pairs[i+1])
			}
		}}, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// HDel removes fields from the hash under key and returns how many existed;
// the key is deleted with its last field. ErrWrongType for a string.
func (s *Store) HDel(key string, fields ...[]byte) (int, error) {
	var removed int
	err := s.editHash(key, false, keepExpiry, func(hv *hashValue) (hashPlan, error) {
		data, n := sizeOf(hv)
		removed = 0
		seen := map[string]bool{}
		for _, f := range fields {
			name := bstr(f)
			if v, ok := hv.get(name); ok && !seen[name] {
				seen[name] = true
				data -= len(name) + len(v)
				n--
				removed++
			}
		}
		if removed == 0 {
			return hashPlan{}, nil
		}
		return hashPlan{data: data, fields: n, apply: func(hv *hashValue) {
			for _, f := range fields {
				hv.del(bstr(f))
			}
		}}, nil
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// HUpdate replaces the value of one field of the hash under key (creating
// both if needed) with fn's result, atomically: fn gets the current value
// (exists false when the field or the key is missing), may be called more
// than once and must not retain old. An error from fn is returned and
// nothing changes. HINCRBY and HINCRBYFLOAT are built on it.
func (s *Store) HUpdate(key, field string, fn func(old []byte, exists bool) ([]byte, error)) ([]byte, error) {
	var out []byte
	err := s.editHash(key, false, keepExpiry, func(hv *hashValue) (hashPlan, error) {
		old, ok := hv.get(field)
		nv, err := fn(old, ok)
		if err != nil {
			return hashPlan{}, err
		}
		out = nv
		data, n := sizeOf(hv)
		if ok {
			data += len(nv) - len(old)
		} else {
			data += len(field) + len(nv)
			n++
		}
		return hashPlan{data: data, fields: n, apply: func(hv *hashValue) { hv.set(field, nv) }}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetHash replaces whatever key holds with a hash of fields (later
// duplicates win), expiring after ttl (0: no expiry): how a replica applies
// its owner's copy of a hash. An empty fields deletes the key.
func (s *Store) SetHash(key string, fields []Field, ttl time.Duration) error {
	var expires int64
	if ttl > 0 {
		expires = s.deadline(ttl)
	}
	if len(fields) == 0 {
		s.Delete(key)
		return nil
	}
	return s.editHash(key, true, expires, func(*hashValue) (hashPlan, error) {
		tmp := &hashValue{}
		for _, f := range fields {
			tmp.set(f.Name, f.Value)
		}
		return hashPlan{data: tmp.data, fields: len(tmp.fields), apply: func(hv *hashValue) {
			*hv = *tmp
		}}, nil
	})
}

// Type returns the kind of value key holds and whether it exists.
func (s *Store) Type(key string) (Kind, bool) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return 0, false
	}
	return e.kind, true
}

// Touch records an access of each existing key for the eviction policy,
// without counting hits, and returns how many existed (Redis's TOUCH).
func (s *Store) Touch(keys ...string) int {
	n := 0
	for _, k := range keys {
		sh, h := s.shardFor(k)
		sh.mu.Lock()
		if e := s.lookup(sh, h, k); e != nil {
			s.touch(sh, e)
			n++
		}
		sh.mu.Unlock()
	}
	return n
}

// Stamp returns what WATCH remembers of key: its version and expiry (Unix
// nanoseconds), both 0 when key does not exist. A write, a deletion, an
// expiry, an eviction or a change of TTL changes the stamp; a key that is
// deleted and created again gets a new version, so equal stamps mean the key
// was not modified in between.
func (s *Store) Stamp(key string) (version uint64, expires int64) {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookup(sh, h, key)
	if e == nil {
		return 0, 0
	}
	return e.version, e.expires
}

// Rename moves the value of src, of any kind, to dst with its TTL, replacing
// what dst held; dst gets a new version. With onlyIfAbsent (RENAMENX) it does
// nothing and reports false when dst exists. It returns ErrNoSuchKey when src
// does not exist and ErrOutOfMemory when a longer dst does not fit. Both
// shards are locked, the lower index first, so the move is atomic.
func (s *Store) Rename(src, dst string, onlyIfAbsent bool) (bool, error) {
	hs, hd := hashKey(s.seed, src), hashKey(s.seed, dst)
	is, id := hs&s.mask, hd&s.mask
	ssh, dsh := &s.shards[is], &s.shards[id]
	switch {
	case is == id:
		ssh.mu.Lock()
		defer ssh.mu.Unlock()
	case is < id:
		ssh.mu.Lock()
		dsh.mu.Lock()
		defer ssh.mu.Unlock()
		defer dsh.mu.Unlock()
	default:
		dsh.mu.Lock()
		ssh.mu.Lock()
		defer dsh.mu.Unlock()
		defer ssh.mu.Unlock()
	}
	e := s.lookup(ssh, hs, src)
	if e == nil {
		return false, ErrNoSuchKey
	}
	if src == dst {
		return !onlyIfAbsent, nil
	}
	if onlyIfAbsent && s.lookup(dsh, hd, dst) != nil {
		return false, nil
	}
	grow := int64(len(dst) - len(src))
	if grow > 0 {
		if err := s.reserve(dsh, grow, e); err != nil {
			return false, finalErr(err)
		}
	} else if s.max > 0 {
		s.used.Add(grow)
	}
	if d := s.lookup(dsh, hd, dst); d != nil {
		s.remove(dsh, d)
		dsh.deletes++
	}
	hv, expires := ssh.hashes[e], e.expires
	size := ssh.charge(e)
	s.remove(ssh, e)
	if s.max > 0 {
		s.used.Add(size) // the moved bytes stay charged, now to dst
	}
	ne := newEntry(strings.Clone(dst), e.value)
	ne.kind = e.kind
	if hv != nil {
		if dsh.hashes == nil {
			dsh.hashes = make(map[*entry]*hashValue)
		}
		dsh.hashes[ne] = hv
	}
	s.insert(dsh, hd, ne)
	dsh.version++
	ne.version = dsh.version
	s.setExpiry(dsh, ne, expires)
	dsh.sets++
	s.notify(ChangeDelete, e)
	s.notify(ChangeSet, ne)
	return true, nil
}

// ScanEntry is one key returned by Scan.
type ScanEntry struct {
	Key  string
	Kind Kind
}

// Scan returns about count keys from position pos on and the position to
// continue from, 0 when every shard was visited (start with 0). Positions
// follow each shard's keys in the order of their hash (pos is the shard
// index << 32 | the lowest top half of a hash still to return), which does
// not depend on the shards' table sizes: a key that exists for a whole scan
// is returned exactly once, whatever is written meanwhile, and a key added or
// removed during it may or may not be. Keys with equal hash halves are
// returned together, so a page may exceed count. Expired keys are skipped.
func (s *Store) Scan(pos uint64, count int) ([]ScanEntry, uint64) {
	type ent struct {
		hi uint32
		ScanEntry
	}
	si, lo := pos>>32, uint32(pos)
	var out []ScanEntry
	var buf []ent
	for si < uint64(len(s.shards)) && len(out) < count {
		sh := &s.shards[si]
		sh.mu.Lock()
		now := s.nowNano()
		buf = buf[:0]
		for e := range sh.items.all {
			if e.hashHi >= lo && !e.expiredAt(now) {
				buf = append(buf, ent{e.hashHi, ScanEntry{e.key, e.kind}})
			}
		}
		sh.mu.Unlock()
		slices.SortFunc(buf, func(a, b ent) int { return int(int64(a.hi) - int64(b.hi)) })
		take := len(buf)
		if need := count - len(out); take > need {
			take = need
			for take < len(buf) && buf[take].hi == buf[take-1].hi {
				take++
			}
		}
		for _, x := range buf[:take] {
			out = append(out, x.ScanEntry)
		}
		if take < len(buf) {
			return out, si<<32 | uint64(buf[take-1].hi+1)
		}
		si, lo = si+1, 0
	}
	if si >= uint64(len(s.shards)) {
		return out, 0
	}
	return out, si << 32
}
