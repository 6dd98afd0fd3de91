package ratelimit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	cachedclient "cairn.dev/cairn/cached/client"
)

// StoreKeyPrefix starts the key of every global bucket in the store:
// "gw:rl:<policy id>:<key>".
const StoreKeyPrefix = "gw:rl:"

// storeKey returns the store key of p's bucket for key.
func storeKey(policyID, key string) string {
	return StoreKeyPrefix + policyID + ":" + key
}

// GlobalStore holds the shared buckets of global policies as small values
// with versions. The Limiter changes a value only with CompareAndSet, so any
// store offering per-key versions works; CachedStore is the production one.
// Implementations must be safe for concurrent use.
type GlobalStore interface {
	// Get returns key's value and version; found is false when the key is
	// absent. An error means the store did not answer (wrap ErrUnavailable).
	// A store that cannot tell absent from unreachable may report absent: the
	// following CompareAndSet then fails with ErrUnavailable.
	Get(ctx context.Context, key string) (val []byte, version uint64, found bool, err error)
	// CompareAndSet writes val with a time to live of ttl if key's version is
	// still version, version 0 meaning the key must be absent. It returns
	// ErrConflict (nothing written) when the condition fails; any other error
	// means the outcome is unknown.
	CompareAndSet(ctx context.Context, key string, version uint64, val []byte, ttl time.Duration) error
}

// CachedStore is a GlobalStore over cached: Get is GetItem and CompareAndSet
// is Set with IfVersion (IfAbsent for version 0) and WithTTL. The client is
// the caller's to close.
type CachedStore struct {
	Client *cachedclient.Client
}

// Get implements GlobalStore. cached reports an unreachable owner as a miss;
// the CompareAndSet that follows reports it.
func (s CachedStore) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	it, ok, err := s.Client.GetItem(ctx, key)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return nil, 0, false, nil
	}
	return it.Value, it.Version, true, nil
}

// CompareAndSet implements GlobalStore.
func (s CachedStore) CompareAndSet(ctx context.Context, key string, version uint64, val []byte, ttl time.Duration) error {
	cond := cachedclient.IfAbsent()
	if version != 0 {
		cond = cachedclient.IfVersion(version)
	}
	_, err := s.Client.Set(ctx, key, val, cond, cachedclient.WithTTL(ttl))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cachedclient.ErrNotStored):
		return ErrConflict
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// stateVersion is the first byte of an encoded bucket state.
const stateVersion = 1

// encodeState encodes a shared bucket: a format byte and the TAT as a
// big-endian unix-nanosecond int64.
func encodeState(tat int64) []byte {
	b := make([]byte, 9)
	b[0] = stateVersion
	binary.BigEndian.PutUint64(b[1:], uint64(tat))
	return b
}

// decodeState is the inverse of encodeState.
func decodeState(b []byte) (int64, error) {
	if len(b) != 9 || b[0] != stateVersion {
		return 0, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	return int64(binary.BigEndian.Uint64(b[1:])), nil
}
