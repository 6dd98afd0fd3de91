package jwt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Limits of JWKS fetching.
const (
	// RefetchInterval is the shortest time between two early refetches of a
	// key set asked for by tokens with an unknown kid.
	RefetchInterval = 10 * time.Second
	maxJWKSBytes    = 1 << 20
	fetchTimeout    = 10 * time.Second
	maxRetry        = time.Minute
)

// remoteSet is a provider's key set fetched from a JWKS URL. Its goroutine
// (run) is the only writer of keys; Verify reads them without locks.
type remoteSet struct {
	provider string
	url      string
	refresh  time.Duration
	keys     atomic.Pointer[[]*key]
	kick     chan struct{} // capacity 1: an early refetch is wanted
	lastKick atomic.Int64  // unix nanoseconds of the last accepted early refetch
}

// askRefetch wakes the fetcher for an early refetch, at most once per
// RefetchInterval. It never blocks.
func (r *remoteSet) askRefetch(now time.Time) {
	last := r.lastKick.Load()
	if last != 0 && now.UnixNano()-last < int64(RefetchInterval) {
		return
	}
	if !r.lastKick.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run fetches the set now, then every refresh; after a failure it retries
// with a backoff from retryBase doubling up to a minute (never more than
// refresh). The keys of the last good fetch stay in use meanwhile. It
// returns when ctx is done.
func (r *remoteSet) run(ctx context.Context, client *http.Client, retryBase time.Duration, log *slog.Logger) {
	backoff := retryBase
	for {
		wait := r.refresh
		if err := r.fetch(ctx, client); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("jwks fetch failed", "provider", r.provider, "url", r.url, "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, maxRetry, r.refresh)
		} else {
			backoff = retryBase
			log.Debug("jwks fetched", "provider", r.provider, "url", r.url, "keys", len(*r.keys.Load()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// fetch gets and parses the key set and installs it.
func (r *remoteSet) fetch(ctx context.Context, client *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("key set larger than %d bytes", maxJWKSBytes)
	}
	keys, err := parseJWKS(body, false)
	if err != nil {
		return err
	}
	r.keys.Store(&keys)
	return nil
}
