package store

import (
	"fmt"
	"time"
)

// Policy selects what a full store evicts.
type Policy int

// Eviction policies. The zero value is PolicyLRU.
const (
	// PolicyLRU evicts the least recently used entry of a shard.
	PolicyLRU Policy = iota
	// PolicyLFU evicts the least frequently used of a random sample of a
	// shard's entries (see the package doc).
	PolicyLFU
	// PolicyNoEviction never evicts; writes that need memory fail with
	// ErrOutOfMemory.
	PolicyNoEviction
)

// String returns the Redis name of the policy.
func (p Policy) String() string {
	switch p {
	case PolicyLRU:
		return "allkeys-lru"
	case PolicyLFU:
		return "allkeys-lfu"
	case PolicyNoEviction:
		return "noeviction"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ItemOverhead is the fixed number of bytes charged per item on top of
// len(key)+len(value): the entry struct (112 bytes on 64-bit platforms, with
// a key of up to 32 bytes inside it), its share of the shard's hash table and
// the allocator's rounding of the key (when longer) and value.
// TestItemOverhead measures it on the heap (144 bytes on amd64 with 16-byte
// keys and 100-byte values) and keeps this constant within 25%.
const ItemOverhead = 144

// Defaults applied by New to zero Config fields.
const (
	DefaultShards       = 256
	DefaultMaxItemBytes = 1 << 20
)

// Config configures a Store. The zero value is valid: 256 shards, no memory
// limit, 1 MiB items, LRU, time.Now.
type Config struct {
	// Shards is the number of independently locked shards, a power of two.
	// 0 means DefaultShards.
	Shards int
	// MaxBytes limits the memory charged to items (len(key)+len(value)+
	// ItemOverhead each). 0 means unlimited.
	MaxBytes int64
	// MaxItemBytes limits len(key)+len(value) of one item. 0 means
	// DefaultMaxItemBytes.
	MaxItemBytes int
	// Policy is the eviction policy used when MaxBytes is reached.
	Policy Policy
	// Clock returns the current time for TTLs and LFU decay. nil means
	// time.Now. Tests inject a fake clock.
	Clock func() time.Time
	// OnChange, when not nil, is called for every change of a key's value
	// or existence; see [ChangeKind] and the package doc ("Change hook").
	OnChange func(kind ChangeKind, key string, version uint64)
}

// ChangeKind says why OnChange was called.
type ChangeKind uint8

// Change kinds.
const (
	// ChangeSet: a value was written (Set, IncrBy, Append); version is new.
	ChangeSet ChangeKind = iota + 1
	// ChangeDelete: the key was removed by Delete, GetDel or Expire(ttl <= 0).
	ChangeDelete
	// ChangeExpire: the key expired and was removed, lazily or actively.
	ChangeExpire
	// ChangeEvict: the key was evicted to free memory.
	ChangeEvict
	// ChangeFlush: FlushAll removed every key; key is "" and version 0. No
	// per-key events are reported for the keys it removed.
	ChangeFlush
)

// String returns the kind's lower-case name.
func (k ChangeKind) String() string {
	switch k {
	case ChangeSet:
		return "set"
	case ChangeDelete:
		return "delete"
	case ChangeExpire:
		return "expire"
	case ChangeEvict:
		return "evict"
	case ChangeFlush:
		return "flush"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// DefaultConfig returns the Config New uses for a zero Config.
func DefaultConfig() Config {
	return Config{Shards: DefaultShards, MaxItemBytes: DefaultMaxItemBytes, Policy: PolicyLRU, Clock: time.Now}
}

// Validate reports the first invalid field; zero fields are valid (they take
// defaults). Errors wrap ErrInvalidConfig and name the field.
func (c Config) Validate() error {
	switch {
	case c.Shards < 0 || c.Shards&(c.Shards-1) != 0:
		return fmt.Errorf("%w: Shards must be a power of two, got %d", ErrInvalidConfig, c.Shards)
	case c.Shards > 1<<16:
		return fmt.Errorf("%w: Shards must be at most 65536, got %d", ErrInvalidConfig, c.Shards)
	case c.MaxBytes < 0:
		return fmt.Errorf("%w: MaxBytes must not be negative, got %d", ErrInvalidConfig, c.MaxBytes)
	case c.MaxItemBytes < 0:
		return fmt.Errorf("%w: MaxItemBytes must not be negative, got %d", ErrInvalidConfig, c.MaxItemBytes)
	case c.Policy < PolicyLRU || c.Policy > PolicyNoEviction:
		return fmt.Errorf("%w: Policy %v is unknown", ErrInvalidConfig, c.Policy)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	if c.MaxItemBytes == 0 {
		c.MaxItemBytes = DefaultMaxItemBytes
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}
