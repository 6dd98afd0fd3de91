package httpcache

import "io"

// Storage keeps the cache's objects: each a small metadata blob (the
// engine's encoding of one stored response: status, headers, Vary values,
// times, tags) and a body, under a string id (one id per variant). The
// engine decides what to store and when it is fresh; Storage decides where
// it lives (memory, disk) and what to evict when its byte limits are
// reached. Package cachestore implements it (memory and disk tiers, W-TinyLFU
// admission); tests may use a map.
//
// Every method is safe for concurrent use. A Body returned by Get stays
// readable after the object is replaced, deleted or evicted, until it is
// closed.
type Storage interface {
	// Get returns the object stored under id, and records an access to id
	// for the admission policy. ok is false when id is not stored.
	Get(id string) (meta []byte, body Body, ok bool)
	// Touch records an access to id without reading it (a miss: the
	// admission policy counts requests, not only hits).
	Touch(id string)
	// Create starts writing an object of the given size (-1: unknown, e.g. a
	// chunked origin response) under id. Nothing is visible until Commit;
	// Commit replaces any object stored under id atomically. The object may
	// be refused (ErrNotAdmitted: the admission policy preferred what is
	// stored; ErrTooLarge: over the limits), at Create or at Commit.
	Create(id string, meta []byte, size int64) (Writer, error)
	// SetMeta replaces the metadata of a stored object, keeping its body
	// (a 304 revalidation, a soft purge). It reports whether id was stored.
	SetMeta(id string, meta []byte) bool
	// Delete removes id; it reports whether it was stored.
	Delete(id string) bool
	// Range calls fn for every stored object until fn returns false (the
	// engine rebuilds its indexes from it when it starts over a disk tier
	// that survived a restart).
	Range(fn func(id string, meta []byte) bool)
	// Usage reports the stored objects and bytes per tier.
	Usage() Usage
}

// Body is a stored object's body: random access for Range requests. A Body
// held in memory may also offer Bytes() []byte, the whole body (never
// modified): the cache then writes it in one call instead of copying it
// through a buffer.
type Body interface {
	io.ReaderAt
	io.Closer
	// Size is the body's length in bytes.
	Size() int64
	// Tier is "memory" or "disk".
	Tier() string
}

// Writer receives an object's body. Exactly one of Commit or Abort ends it.
type Writer interface {
	io.Writer
	// Commit makes the object visible under its id, replacing the previous
	// one. It fails with ErrNotAdmitted or ErrTooLarge when the object is
	// refused, or when fewer or more bytes than a known size were written.
	Commit() error
	// Abort discards what was written.
	Abort()
}

// Usage is what a Storage holds.
type Usage struct {
	Objects     int64
	MemoryBytes int64
	DiskBytes   int64
	Evictions   int64
	// Rejected counts objects refused by the admission policy.
	Rejected int64
}
