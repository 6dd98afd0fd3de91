package client

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the system of record behind the cache (a database), as used by
// WriteThrough and WriteBehind. Implementations must be safe for concurrent
// use. RaftKVStore adapts raftkv.
type Store interface {
	// Load returns key's value and whether it exists.
	Load(ctx context.Context, key string) ([]byte, bool, error)
	// Save writes key's value.
	Save(ctx context.Context, key string, val []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// errNotInStore is what the load of WriteThrough.Get returns for a key the
// store does not have; it never leaves the package.
var errNotInStore = errors.New("cached client: not in store")

// WriteThrough keeps a cache in front of a Store: writes go to the store and
// then to the cache, reads come from the cache and, on a miss, from the store
// (GetOrLoad: concurrent misses of a key load it once). Its methods may be
// called concurrently.
//
// Ordering and failures: Set saves to the store first, so the store is never
// behind an acknowledged write. If the save fails nothing else happens and
// the error is returned. If the save succeeds but the cache write fails,
// Set deletes the key from the cache (best effort) and returns an error
// matching the cache's; the store has the new value and, if the delete
// failed too, readers may see the old cached value until its TTL runs out,
// which is what bounds staleness here. Two concurrent Sets of one key may
// reach the store and the cache in different orders, leaving the cache with
// the older value until the TTL: when that matters, serialise writers per
// key, or use versioned keys.
type WriteThrough struct {
	Cache *Client
	Store Store
	// TTL of the cached copies; 0 means no expiry (then only writes through
	// this WriteThrough, or Delete, refresh them).
	TTL time.Duration
}

// Get returns key's value from the cache, or loads it from the store and
// caches it. A key missing from the store is reported as (nil, false, nil)
// and not cached.
func (w *WriteThrough) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, err := w.Cache.GetOrLoad(ctx, key, w.TTL, func(ctx context.Context) ([]byte, error) {
		val, ok, err := w.Store.Load(ctx, key)
		if err == nil && !ok {
			return nil, errNotInStore
		}
		return val, err
	})
	if errors.Is(err, errNotInStore) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return val, true, nil
}

// Set saves val to the store, then writes it to the cache with TTL. See the
// type's documentation for what a failure leaves behind.
func (w *WriteThrough) Set(ctx context.Context, key string, val []byte) error {
	if err := w.Store.Save(ctx, key, val); err != nil {
		return fmt.Errorf("cached client: write-through save %q: %w", key, err)
	}
	if _, err := w.Cache.Set(ctx, key, val, WithTTL(w.TTL)); err != nil {
		_, _ = w.Cache.Delete(ctx, key)
		return fmt.Errorf("cached client: write-through %q saved to the store, not cached: %w", key, err)
	}
	return nil
}

// Delete removes key from the store, then from the cache. If the cache delete
// fails the key is gone from the store but readers may see the cached value
// until its TTL; the error says so.
func (w *WriteThrough) Delete(ctx context.Context, key string) error {
	if err := w.Store.Delete(ctx, key); err != nil {
		return fmt.Errorf("cached client: write-through delete %q: %w", key, err)
	}
	if _, err := w.Cache.Delete(ctx, key); err != nil {
		return fmt.Errorf("cached client: write-through %q deleted from the store, still cached: %w", key, err)
	}
	return nil
}
