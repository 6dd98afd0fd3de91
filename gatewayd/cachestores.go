package gatewayd

import (
	"context"
	"fmt"
	"time"

	"cairn.dev/cairn/gatewayd/ratelimit"
	"cairn.dev/cairn/gatewayd/respcache"
)

// The limiter and the response cache are built in New, but the cached
// client connects in the background (cached may start later or be down):
// these stores act on the client once it exists and report the store
// unavailable until then, so global limits use their local share and the
// response cache its local tier.

// rateStore is the limiter's GlobalStore, or nil without cached.
func (s *Server) rateStore() ratelimit.GlobalStore {
	if s.cfg.CacheEndpoints == "" {
		return nil
	}
	return lazyRateStore{s}
}

type lazyRateStore struct{ s *Server }

func (l lazyRateStore) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	c := l.s.cache.Load()
	if c == nil {
		return nil, 0, false, fmt.Errorf("%w: cached not connected yet", ratelimit.ErrUnavailable)
	}
	return ratelimit.CachedStore{Client: c}.Get(ctx, key)
}

func (l lazyRateStore) CompareAndSet(ctx context.Context, key string, version uint64, val []byte, ttl time.Duration) error {
	c := l.s.cache.Load()
	if c == nil {
		return fmt.Errorf("%w: cached not connected yet", ratelimit.ErrUnavailable)
	}
	return ratelimit.CachedStore{Client: c}.CompareAndSet(ctx, key, version, val, ttl)
}

// responseStore is the response cache's shared tier, or nil without cached.
func (s *Server) responseStore() respcache.Store {
	if s.cfg.CacheEndpoints == "" {
		return nil
	}
	return lazyResponseStore{s}
}

type lazyResponseStore struct{ s *Server }

// errNoCache: the cached client is not connected yet (a miss).
var errNoCache = fmt.Errorf("gatewayd: cached not connected yet")

func (l lazyResponseStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	st := l.s.sharedResponses.Load()
	if st == nil {
		return nil, false, errNoCache
	}
	return st.Get(ctx, key)
}

func (l lazyResponseStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	st := l.s.sharedResponses.Load()
	if st == nil {
		return errNoCache
	}
	return st.Set(ctx, key, val, ttl)
}
