package client

import (
	"context"
	"fmt"
	"time"
)

// GetOrLoad returns key's value from the cache or, on a miss, from load, and
// then caches what load returned with the given ttl (ttl <= 0: no expiry).
// This is the cache-aside pattern with request coalescing: while a load of key
// is in flight in this Client, other GetOrLoad calls for key wait for its
// result instead of calling load again, so N concurrent misses cause one load.
//
// load runs in a goroutine owned by the client, with a context that carries
// the first caller's values but not its deadline or cancellation; each caller
// waits as long as its own ctx allows, and load's context is canceled when
// every caller has given up or the client is closed. load should therefore
// bound itself (a database query timeout, say).
//
// The value is cached with IfAbsent, so a concurrent Set of a newer value is
// not overwritten by what load read earlier. Failing to cache it is not an
// error: the loaded value is returned anyway. An error from load is returned
// as is and nothing is cached (there is no negative caching).
func (c *Client) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if val, ok, err := c.Get(ctx, key); err != nil || ok {
		return val, err
	}
	val, _, err := c.loads.do(ctx, c.ctx, key, c.goFunc, ErrClosed, func(ctx context.Context) ([]byte, error) {
		val, err := load(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := c.Set(ctx, key, val, WithTTL(ttl), IfAbsent()); err != nil && ctx.Err() == nil {
			c.cfg.Logger.Debug("cached client: caching a loaded value failed", "key", key, "err", err)
		}
		return val, nil
	})
	if err != nil && ctx.Err() == nil && err != ErrClosed {
		return nil, fmt.Errorf("cached client: load %q: %w", key, err)
	}
	return val, err
}
