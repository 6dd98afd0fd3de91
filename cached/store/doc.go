// Package store is cached's in-memory key-value store: a sharded hash map of
// immutable byte values and hashes with per-key versions, TTLs, a memory
// limit and an eviction policy.
//
// # Concurrency
//
// A [Store] is safe for concurrent use. Keys are spread over Config.Shards
// shards by a 64-bit hash of the key (see hash.go); each shard has its own
// mutex, hash table (indexed by the same hash, see table.go), eviction
// structure and counters, so there is no global lock on the hot path. An operation on one key locks exactly one shard; multi-key
// operations ([Store.MGet], [Store.Delete], [Store.Exists]) lock the shards of
// their keys one at a time and are therefore not atomic across keys.
//
// # Values
//
// Stored values are immutable. [Store.Set] copies the caller's value (the
// caller may reuse its buffer); every Value returned in an [Item] shares the
// stored bytes and must not be modified. A write never changes bytes that a
// reader may hold: Set and IncrBy install a new slice, and Append either
// installs a new slice or writes only past the end of the old value, into
// spare capacity no returned slice can reach (returned slices have cap ==
// len). This lets the server write values to sockets without copying.
//
// # Kinds
//
// A key holds a string ([KindString]) or a hash ([KindHash]: fields to byte
// strings, in the order fields were first set, as Redis's small hashes). The
// entry has a kind byte (in what was padding: entries stay 96 bytes) and a
// hash's fields live in its shard's map from entry to fields, so the string
// path only adds a byte compare. Every operation that treats a value as a
// string finds its key through one helper, stringEntry, which answers
// [ErrWrongType] for a hash; hash operations ([Store.HSet], [Store.HDel],
// [Store.HUpdate], [Store.HRead]) answer it for a string. [Store.Set]
// replaces a value of any kind, as Redis's SET does. A hash is one item:
// versions, TTL, eviction and expiry apply to the key, and a hash left
// without fields is deleted. [Store.Rename], [Store.Type], [Store.Touch],
// [Store.Stamp] (WATCH) and [Store.Scan] (a cursor by shard and hash prefix
// that does not move when tables resize) work on any kind.
//
// # Versions
//
// Every successful write of a value (Set, IncrBy, Append) gives the key a new
// version from its shard's counter, which starts at 1 and only grows, also
// across Delete and FlushAll. A key's versions therefore strictly increase
// and a version is never reused for the same key, even after it is deleted
// and created again, so [SetOptions.IfVersion] is ABA-safe. Metadata changes
// (Expire, Persist) and reads do not change the version.
//
// # Memory limit
//
// With Config.MaxBytes > 0 every item is charged
// len(key) + len(value) + [ItemOverhead] bytes against one global counter; a
// hash is charged len(key) + ItemOverhead plus, per field, len(field) +
// len(value) + [HashFieldOverhead]. Config.MaxItemBytes bounds len(key) plus
// a string's length or the sum of a hash's fields and values.
// A write that grows usage first reserves its growth on that counter with a
// compare-and-swap that fails if the total would exceed MaxBytes, evicting
// (own shard first, then other shards, never the key being written) until it
// fits. The charged total therefore never exceeds MaxBytes, even under a
// concurrent write flood: the bound is MaxBytes itself, with no per-shard
// slack, and [Stats].Bytes reports that counter. Memory actually held can be
// higher by replaced values that readers still reference and by Go's heap
// overhead; ItemOverhead is calibrated by TestItemOverhead. An item larger
// than MaxBytes always fails with [ErrOutOfMemory]. Append over-allocates by
// up to 25% to amortise repeated appends; that slack is not charged.
//
// # Eviction
//
// PolicyLRU approximates least-recently-used with CLOCK (second chance, see
// clock.go): each shard keeps its entries in a ring swept by a hand, a use sets
// the entry's reference bit, and the hand evicts the first entry it finds
// whose bit is clear, clearing the bits it passes. A read writes nothing but
// its own entry. On a Zipf (s = 1.1) cache-aside workload it kept as many hits
// as the exact LRU list it replaced (0.789 against 0.783 at 4 MiB over
// 1,000,000 keys), and a Get of a key outside the hot set got about a quarter
// faster.
//
// PolicyLFU approximates least-frequently-used the way Redis does,
// in this package's own design: each entry has an 8-bit logarithmic access
// counter that starts at 5 and is incremented with probability
// 1/((c-5)*10+1), so it saturates only after about a million accesses; it
// decays by one per minute without access, using a coarse clock refreshed
// every 100 ms. Eviction samples 5 random entries of the shard and evicts the
// one with the lowest decayed counter. PolicyNoEviction makes writes that
// need memory fail with [ErrOutOfMemory].
//
// # Change hook
//
// Config.OnChange, when set, is called once for every key whose value or
// existence changes: [ChangeSet] with the new version, [ChangeDelete],
// [ChangeExpire] and [ChangeEvict] with the version the key had, and one
// [ChangeFlush] (key "") per FlushAll. Metadata changes (Expire with a
// positive ttl, Persist) are not reported. The hook runs synchronously while
// the key's shard is locked, so the changes of one key are reported in the
// order they happen; it must therefore be fast, must not block, and must not
// call the Store. The key string is the store's own immutable copy and may be
// retained. Typical use is to filter and hand the event to a buffered
// channel without waiting (cached's invalidation streams).
//
// # Expiry
//
// Expired keys are removed lazily, by any operation that finds them, and
// actively: a goroutine owned by the Store (stopped by [Store.Close]) walks
// each shard's set of keys with a TTL every 100 ms, 20 at a time, and keeps
// going in a shard while more than a quarter of a batch had expired, within a
// 25 ms budget per round. Expiry times come from Config.Clock. They are kept
// in Unix nanoseconds up to 2262 and in milliseconds beyond, up to Redis's
// limit of math.MaxInt64 ms (see deadline.go), so SetOptions.ExpireAt,
// ExpireAt and Expiry handle every time Redis accepts.
package store
