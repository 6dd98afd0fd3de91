package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// revokeTimeout bounds the lease revocation of a deregistration.
const revokeTimeout = 5 * time.Second

// Register advertises one instance of service in the registry: it writes
// <prefix><service>/<id> = Entry{address, weight} attached to a lease of ttl
// (rounded up to whole seconds, at least 1 s) and keeps the lease alive in
// the background. When the lease is lost anyway (raftkv unreachable for a
// whole TTL) it registers again, with backoff, until it succeeds.
//
// ctx bounds only the first registration: Register returns once the entry
// is written, or with its error and nothing left running. deregister stops
// the keep-alive and revokes the lease, which deletes the entry at once;
// it waits for the background goroutine and may be called more than once.
// If the instance dies instead, the entry disappears when the lease
// expires. Closing kv stops the keep-alive too (the entry then expires).
// prefix "" means DefaultPrefix; a missing trailing '/' is added. Weight 0
// means 1. Bad arguments are ErrInvalidEntry.
func Register(ctx context.Context, kv *kvclient.Client, prefix, service, id, address string, weight int, ttl time.Duration) (deregister func(), err error) {
	if err := checkName("service", service); err != nil {
		return nil, err
	}
	if err := checkName("id", id); err != nil {
		return nil, err
	}
	if err := checkAddress(address); err != nil {
		return nil, err
	}
	if err := checkWeight(weight); err != nil {
		return nil, err
	}
	value, err := json.Marshal(Entry{Address: address, Weight: max(weight, 1)})
	if err != nil {
		return nil, err
	}
	g := &registration{
		kv:    kv,
		key:   normPrefix(prefix) + service + "/" + id,
		value: string(value),
		ttl:   max(int64((ttl+time.Second-1)/time.Second), 1),
		done:  make(chan struct{}),
	}
	rctx, cancel := context.WithCancel(context.Background())
	keep, err := g.register(ctx, rctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(g.done)
		g.run(rctx, keep)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-g.done
			g.revoke()
		})
	}, nil
}

// registration is one Register's state. lease is written by Register before
// the goroutine starts, then only by the goroutine, and read by deregister
// after the goroutine ended.
type registration struct {
	kv    *kvclient.Client
	key   string
	value string
	ttl   int64 // seconds
	lease int64
	done  chan struct{}
}

// register grants a lease and writes the entry under it, both bounded by
// ctx, and starts the lease's keep-alive, which lives until keepCtx ends.
func (g *registration) register(ctx, keepCtx context.Context) (<-chan *raftkvv1.LeaseKeepAliveResponse, error) {
	grant, err := g.kv.Grant(ctx, g.ttl)
	if err != nil {
		return nil, fmt.Errorf("registry: register %s: %w", g.key, err)
	}
	g.lease = grant.GetId()
	if _, err := g.kv.Put(ctx, g.key, g.value, kvclient.WithLease(g.lease)); err != nil {
		g.revoke()
		return nil, fmt.Errorf("registry: register %s: %w", g.key, err)
	}
	keep, err := g.kv.KeepAlive(keepCtx, g.lease)
	if err != nil {
		g.revoke()
		return nil, fmt.Errorf("registry: register %s: %w", g.key, err)
	}
	return keep, nil
}

// run drains the keep-alive and registers again whenever the lease is lost,
// until ctx ends or the client is closed.
func (g *registration) run(ctx context.Context, keep <-chan *raftkvv1.LeaseKeepAliveResponse) {
	var b clusterconn.Backoff
	for {
		for keep != nil {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-keep:
				if !ok {
					keep = nil
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !b.Wait(ctx) {
			return
		}
		var err error
		keep, err = g.register(ctx, ctx)
		if errors.Is(err, kvclient.ErrClosed) {
			return
		}
		if err == nil {
			b.Reset()
		}
	}
}

// revoke ends the current lease, deleting the entry; errors are ignored
// (the lease then expires on its own).
func (g *registration) revoke() {
	if g.lease == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	_, _ = g.kv.Revoke(ctx, g.lease)
	g.lease = 0
}
