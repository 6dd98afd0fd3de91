package ratelimit

import (
	"context"
	"errors"
	"time"
)

// ttlMargin is added to a shared bucket's time to live: the key may expire
// only once its bucket is full again (then absent and full are the same).
const ttlMargin = time.Second

// lease is a Limiter's share of one global bucket.
type lease struct {
	r         rate  // the policy's rate when last leased (for give-backs)
	tokens    int64 // leased tokens not spent yet
	expires   int64 // unix ns after which tokens may no longer be spent
	giveBack  int64 // expired tokens to return with the next lease
	denyUntil int64 // the shared bucket was empty: deny locally until then
	remaining int64 // tokens the shared bucket held after the last lease
	tat       int64 // the shared bucket's TAT after the last lease
	fetching  chan struct{}
	// fetching is non-nil while one caller leases for this key; it is
	// closed when that caller is done.
}

func (le *lease) idle(now int64) bool {
	return le.tokens == 0 && le.giveBack == 0 && le.fetching == nil && le.denyUntil <= now
}

// leaseStep is what allowGlobal does after looking at the lease.
type leaseStep struct {
	d        Decision
	done     bool          // d is the answer
	wait     chan struct{} // another caller is leasing: wait for it
	fetch    chan struct{} // this caller leases; close it when done
	giveBack int64         // tokens this caller returns with its lease
}

// step spends a token of le at now if it can, else says whether to wait for
// another caller's lease or to lease (then le is marked as fetching and its
// expired tokens go with the caller).
func (le *lease) step(now int64) leaseStep {
	if le.tokens > 0 && now >= le.expires {
		le.giveBack += le.tokens
		le.tokens = 0
	}
	switch {
	case le.tokens > 0:
		le.tokens--
		return leaseStep{done: true, d: Decision{Allowed: true, Remaining: le.remaining + le.tokens, Reset: le.r.reset(le.tat, now)}}
	case now < le.denyUntil:
		return leaseStep{done: true, d: Decision{Reset: le.r.reset(le.tat, now), RetryAfter: time.Duration(le.denyUntil - now)}}
	case le.fetching != nil:
		return leaseStep{wait: le.fetching}
	}
	le.fetching = make(chan struct{})
	st := leaseStep{fetch: le.fetching, giveBack: le.giveBack}
	le.giveBack = 0
	return st
}

// settle records the outcome of a caller's lease (g, or err) in le. Tokens
// the caller meant to give back return to le when nothing was written.
func (le *lease) settle(r rate, now, life, giveBack int64, g grant, err error) {
	le.fetching = nil
	le.r = r
	if err != nil {
		if errors.Is(err, ErrConflict) || errors.Is(err, errNotAsked) {
			le.giveBack += giveBack
		}
		return
	}
	le.tokens, le.expires = g.n, now+life
	le.remaining, le.tat = g.remaining, g.tat
	if g.n == 0 {
		le.denyUntil = now + int64(g.retry)
	}
}

// errNotAsked means a lease was given up before the store was asked.
var errNotAsked = errors.New("ratelimit: lease not attempted")

// allowGlobal decides a global policy: from the lease when it has tokens,
// else by leasing from the store (one caller per key at a time; the others
// wait for its result), all within LeaseTimeout.
func (l *Limiter) allowGlobal(ctx context.Context, p Policy, key string, now int64) Decision {
	r, ok := rateOf(p, 1)
	if !ok {
		return Decision{Limit: p.Limit, Window: p.Per}
	}
	k := tableKey{policy: p.ID, key: key, kind: kindLease}
	idle := func(le *lease) bool { return le.idle(now) }
	step := func(le *lease) leaseStep { return le.step(now) }
	var lctx context.Context
	for {
		st := with(l.leases, k, idle, step)
		if st.done {
			st.d.Limit, st.d.Window = p.Limit, p.Per
			return st.d
		}
		if lctx == nil {
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, l.cfg.LeaseTimeout)
			defer cancel()
		}
		if st.wait != nil {
			select {
			case <-st.wait:
				if now < l.downUntil.Load() {
					return l.allowLocal(p, key, kindFallback, l.nodes(), now)
				}
				continue
			case <-lctx.Done():
				return l.timedOut(ctx, p, key, r, now)
			}
		}
		var g grant
		err := errNotAsked
		if lctx.Err() == nil {
			g, err = l.lease(lctx, r, storeKey(p.ID, key), now, st.giveBack)
		}
		failed := err != nil && !errors.Is(err, errNotAsked) && !errors.Is(err, ErrConflict) && ctx.Err() == nil
		if failed {
			l.storeFailed(now, err) // before waking the waiters: they fall back too
		}
		with(l.leases, k, nil, func(le *lease) struct{} {
			le.settle(r, now, int64(l.cfg.LeaseLife), st.giveBack, g, err)
			return struct{}{}
		})
		close(st.fetch)
		switch {
		case err == nil:
			continue // spend from the new lease
		case failed:
			return l.allowLocal(p, key, kindFallback, l.nodes(), now)
		case errors.Is(err, errNotAsked):
			return l.timedOut(ctx, p, key, r, now)
		default:
			// Lost every race until the deadline, or the caller gave up.
			return Decision{Limit: p.Limit, Window: p.Per, RetryAfter: time.Duration(r.interval)}
		}
	}
}

// timedOut answers a request whose lease did not arrive within LeaseTimeout:
// denied if the caller gave up, else decided by the fallback share.
func (l *Limiter) timedOut(ctx context.Context, p Policy, key string, r rate, now int64) Decision {
	if ctx.Err() != nil {
		return Decision{Limit: p.Limit, Window: p.Per, RetryAfter: time.Duration(r.interval)}
	}
	return l.allowLocal(p, key, kindFallback, l.nodes(), now)
}

// grant is the result of one lease.
type grant struct {
	n         int64         // tokens leased; 0 when the bucket was empty
	remaining int64         // tokens left in the shared bucket
	tat       int64         // the shared bucket's TAT afterwards
	retry     time.Duration // when n is 0: until the bucket holds a token
}

// leaseSize is how many tokens one lease takes from a bucket holding avail:
// max(1, min(burst/4, avail/(2·nodes))), never more than avail.
func leaseSize(burst, avail, nodes int64) int64 {
	if avail < 1 {
		return 0
	}
	n := max(1, min(burst/4, avail/(2*max(1, nodes))))
	return min(n, avail)
}

// lease takes a batch of tokens from the shared bucket skey by
// compare-and-set, returning giveBack unspent tokens in the same write. It
// retries lost races until ctx ends (the error is then ErrConflict). Any
// other error means the store did not answer, and the give-back may or may
// not have been applied: it is not retried (a lost give-back only
// under-admits).
func (l *Limiter) lease(ctx context.Context, r rate, skey string, now, giveBack int64) (grant, error) {
	nodes := l.nodes()
	for {
		val, version, found, err := l.cfg.Store.Get(ctx, skey)
		if err != nil {
			return grant{}, err
		}
		tat := int64(0) // absent: a full bucket
		if found {
			if tat, err = decodeState(val); err != nil {
				tat = now + r.tolerance // unreadable: assume empty, then overwrite
			}
		} else {
			version = 0
		}
		if giveBack > 0 {
			tat = r.giveBack(tat, now, giveBack)
		}
		avail := r.available(tat, now)
		n := leaseSize(r.burst, avail, nodes)
		if n == 0 && giveBack == 0 {
			return grant{tat: tat, retry: r.retryAfter(tat, now)}, nil
		}
		next := tat
		if n > 0 {
			next, _ = r.take(tat, now, n)
		}
		err = l.cfg.Store.CompareAndSet(ctx, skey, version, encodeState(next), time.Duration(max(0, next-now))+ttlMargin)
		if errors.Is(err, ErrConflict) {
			if ctx.Err() != nil {
				return grant{}, err
			}
			continue
		}
		if err != nil {
			return grant{}, err
		}
		g := grant{n: n, remaining: avail - n, tat: next}
		if n == 0 {
			g.retry = r.retryAfter(next, now)
		}
		return g, nil
	}
}

// returnLeases gives the unspent and expired tokens of every lease back to
// the store and forgets them.
func (l *Limiter) returnLeases(ctx context.Context) error {
	type back struct {
		k tableKey
		r rate
		n int64
	}
	var backs []back
	l.leases.each(func(k tableKey, le *lease) {
		if n := le.tokens + le.giveBack; n > 0 && le.r.interval > 0 {
			backs = append(backs, back{k: k, r: le.r, n: n})
		}
		le.tokens, le.giveBack = 0, 0
	})
	if l.cfg.Store == nil {
		return nil
	}
	now := l.cfg.Now().UnixNano()
	var errs []error
	for _, b := range backs {
		if err := l.giveBackTo(ctx, b.r, storeKey(b.k.policy, b.k.key), now, b.n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// giveBackTo returns n tokens to the shared bucket skey. An absent bucket is
// full: nothing to do.
func (l *Limiter) giveBackTo(ctx context.Context, r rate, skey string, now, n int64) error {
	for {
		val, version, found, err := l.cfg.Store.Get(ctx, skey)
		if err != nil || !found {
			return err
		}
		tat, err := decodeState(val)
		if err != nil {
			return err
		}
		next := r.giveBack(tat, now, n)
		err = l.cfg.Store.CompareAndSet(ctx, skey, version, encodeState(next), time.Duration(max(0, next-now))+ttlMargin)
		if errors.Is(err, ErrConflict) && ctx.Err() == nil {
			continue
		}
		return err
	}
}
