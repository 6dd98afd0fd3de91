package client

import (
	"context"
	"errors"
	"time"
)

// WithLock is the whole lock life cycle in one call, the safe counterpart of a
// Redis `SET name owner NX EX ttl` lock: it creates a session with the TTL
// (kept alive in the background), acquires lock name (waiting until ctx ends),
// runs fn with the fencing token, releases the lock only if the session still
// holds it, and closes the session.
//
// The context given to fn is cancelled if the session is lost (keep-alives
// failed for a TTL): fn must stop, and any write it makes elsewhere must carry
// the token so that the resource can refuse it (see ValidateToken). fn's error
// is returned; otherwise the error of the first step that failed.
func (c *Client) WithLock(ctx context.Context, name string, owner []byte, ttl time.Duration, fn func(ctx context.Context, token uint64) error) error {
	if err := ValidateName("name", name); err != nil {
		return err // before the session: a bad name has no side effect
	}
	s, err := c.NewSession(ctx, ttl)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.conn.Config().RequestTimeout)
		defer cancel()
		_ = s.Close(cctx) // releases anything still held, e.g. after a failed acquire
	}()
	l, err := s.Acquire(ctx, name, owner)
	if err != nil {
		return err
	}
	// fn's context ends when the session is lost.
	fctx, cancel := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-s.Done():
			cancel(s.Err())
		case <-fctx.Done():
		}
	}()
	ferr := fn(fctx, l.Token)
	cancel(nil)
	<-watched
	if s.Err() == nil {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), c.conn.Config().RequestTimeout)
		rerr := s.Release(rctx, name)
		rcancel()
		if ferr == nil && rerr != nil && !errors.Is(rerr, ErrNotHolder) && !errors.Is(rerr, ErrNotHeld) {
			ferr = rerr
		}
	}
	if ferr == nil && s.Err() != nil && !errors.Is(s.Err(), ErrClosed) {
		ferr = s.Err()
	}
	return ferr
}
