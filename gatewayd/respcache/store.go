package respcache

import (
	"context"
	"time"

	cachedclient "cairn.dev/cairn/cached/client"
)

// Store is the shared tier, common to every gateway node. Implementations
// must be safe for concurrent use. A Get error is treated as a miss.
type Store interface {
	// Get returns the value under key, and false when there is none.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores val under key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

// DefaultPrefix is the prefix of CachedStore's keys in cached.
const DefaultPrefix = "gw:rc:"

// CachedStore is a Store in cached. It does not own the client.
type CachedStore struct {
	c      *cachedclient.Client
	prefix string
}

// NewCachedStore returns a Store keeping entries in cached under
// prefix+key; prefix "" means DefaultPrefix.
func NewCachedStore(c *cachedclient.Client, prefix string) *CachedStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &CachedStore{c: c, prefix: prefix}
}

// Get implements Store.
func (s *CachedStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.c.Get(ctx, s.prefix+key)
}

// Set implements Store.
func (s *CachedStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	_, err := s.c.Set(ctx, s.prefix+key, val, cachedclient.WithTTL(ttl))
	return err
}
