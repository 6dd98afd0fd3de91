package purge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// revokeTimeout bounds the revocation of the lease when Run returns.
const revokeTimeout = 2 * time.Second

// nodeValue is the value of nodes/<node>.
type nodeValue struct {
	Node  string    `json:"node"`
	Since time.Time `json:"since"`
}

// registration keeps nodes/<node> alive under a lease for one Run: it
// registers, drains the keep-alive, and registers again whenever the lease
// is lost, until its context ends.
type registration struct {
	s *Subscriber

	mu    sync.Mutex // protects lease
	lease int64      // current lease, 0 when none
}

func (r *registration) run(ctx context.Context) {
	var b clusterconn.Backoff
	for ctx.Err() == nil {
		keep, err := r.register(ctx)
		if err != nil {
			if errors.Is(err, kvclient.ErrClosed) {
				return
			}
			if ctx.Err() == nil {
				r.s.logger.Warn("purge: registering the node failed; retrying", "err", err)
			}
			if !b.Wait(ctx) {
				return
			}
			continue
		}
		b.Reset()
		for range keep {
		}
		if ctx.Err() == nil {
			r.s.logger.Warn("purge: node lease lost; registering again")
			if !b.Wait(ctx) {
				return
			}
		}
	}
}

// register grants a lease, writes nodes/<node> under it and starts its
// keep-alive, which ends with ctx.
func (r *registration) register(ctx context.Context) (<-chan *raftkvv1.LeaseKeepAliveResponse, error) {
	s := r.s
	grant, err := s.o.KV.Grant(ctx, s.ttl)
	if err != nil {
		return nil, err
	}
	id := grant.GetId()
	r.setLease(id)
	val, err := json.Marshal(nodeValue{Node: s.o.Node, Since: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	if _, err := s.o.KV.Put(ctx, s.l.node(s.o.Node), string(val), kvclient.WithLease(id)); err != nil {
		r.revoke()
		return nil, err
	}
	keep, err := s.o.KV.KeepAlive(ctx, id)
	if err != nil {
		r.revoke()
		return nil, err
	}
	s.logger.Info("purge: node registered", "lease", id, "ttl_s", s.ttl)
	return keep, nil
}

func (r *registration) setLease(id int64) {
	r.mu.Lock()
	r.lease = id
	r.mu.Unlock()
}

// revoke ends the current lease, which deletes nodes/<node> at once; a
// failure is logged (the lease then expires on its own).
func (r *registration) revoke() {
	r.mu.Lock()
	id := r.lease
	r.lease = 0
	r.mu.Unlock()
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if _, err := r.s.o.KV.Revoke(ctx, id); err != nil && !errors.Is(err, kvclient.ErrLeaseNotFound) {
		r.s.logger.Info("purge: revoking the node lease failed; it will expire", "lease", id, "err", err)
	}
}
