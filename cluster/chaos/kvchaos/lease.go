package kvchaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Lease roles, in the Value of lease-grant operations.
const (
	roleKeeper   = "keeper"
	roleExpiring = "expiring"
)

// Leases is the lease workload. A keeper grants a lease of KeeperTTL seconds,
// attaches a key to it and keeps it alive for the whole run while polling its
// TimeToLive and reading the key. Expirers repeatedly grant a lease of ShortTTL
// seconds, attach a key, let it lapse, poll TimeToLive until the lease is
// gone, and then read the key (linearizably) twice.
type Leases struct {
	// Prefix is put before every key; default "lease/".
	Prefix string
	// KeeperTTL is the kept-alive lease's TTL in seconds; default 15. It must be
	// longer than any fault that leaves the keeper without a quorum.
	KeeperTTL int64
	// ShortTTL is the expiring leases' TTL in seconds; default 2.
	ShortTTL int64
	// Expirers is the number of expiring-lease loops; default 2.
	Expirers int
	// Client is the first client number in the history; default 950.
	Client int
	// Poll is the interval between TimeToLive polls; default 300ms.
	Poll time.Duration
}

// Name implements chaos.Workload.
func (w *Leases) Name() string { return "leases" }

// Kinds implements chaos.Workload.
func (w *Leases) Kinds() chaos.Kinds { return kinds }

func (w *Leases) withDefaults() Leases {
	out := *w
	if out.Prefix == "" {
		out.Prefix = "lease/"
	}
	if out.KeeperTTL <= 0 {
		out.KeeperTTL = 15
	}
	if out.ShortTTL <= 0 {
		out.ShortTTL = 2
	}
	if out.Expirers <= 0 {
		out.Expirers = 2
	}
	if out.Client == 0 {
		out.Client = 950
	}
	if out.Poll <= 0 {
		out.Poll = 300 * time.Millisecond
	}
	return out
}

// Run implements chaos.Workload.
func (w *Leases) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	var wg sync.WaitGroup
	for i := range 1 + cfg.Expirers {
		cl, err := NewClient(env, 3*time.Second)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer cl.Close()
			if i == 0 {
				cfg.keeper(ctx, env, cl, cfg.Client)
			} else {
				cfg.expirer(ctx, env, cl, cfg.Client+i)
			}
		})
	}
	wg.Wait()
	return nil
}

// grant grants a lease of ttl seconds until it succeeds or ctx ends.
func (w Leases) grant(ctx context.Context, env *chaos.Env, cl *client.Client, id int, ttl int64, role string) (int64, bool) {
	h := env.History
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		op := h.Invoke(chaos.Op{Client: id, Kind: KindLeaseGrant, Value: role, Rev: ttl})
		resp, err := cl.Grant(rctx, ttl)
		cancel()
		h.Complete(op, WriteOutcome(err), err, func(o *chaos.Op) { o.Lease = resp.GetId() })
		if err == nil {
			return resp.GetId(), true
		}
		chaos.Hold(ctx, w.Poll)
	}
	return 0, false
}

// ttl records one TimeToLive of lease; it returns whether the lease is known
// to be gone.
func (w Leases) ttl(ctx context.Context, env *chaos.Env, cl *client.Client, id int, lease int64) bool {
	h := env.History
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: id, Kind: KindLeaseTTL, Lease: lease})
	resp, err := cl.TimeToLive(rctx, lease, false)
	switch {
	case errors.Is(err, client.ErrLeaseNotFound):
		h.Complete(op, chaos.OK, err, func(o *chaos.Op) { o.Found = false })
		return true
	case err != nil:
		h.Complete(op, chaos.Fail, err, nil)
	default:
		h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Found, o.Rev = resp.GetTtl() >= 0, resp.GetTtl() })
		return resp.GetTtl() < 0
	}
	return false
}

// get records a linearizable read of a lease's key.
func (w Leases) get(ctx context.Context, env *chaos.Env, cl *client.Client, id int, lease int64, key string) {
	h := env.History
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: id, Kind: KindLeaseGet, Lease: lease, Key: key})
	resp, err := cl.Get(rctx, key)
	if err != nil {
		h.Complete(op, chaos.Fail, err, nil)
		return
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
		o.Found = len(resp.GetKvs()) > 0
		if o.Found {
			o.Value, o.Rev = string(resp.GetKvs()[0].GetValue()), resp.GetKvs()[0].GetModRevision()
		}
	})
}

// put attaches key to lease, recording the write.
func (w Leases) put(ctx context.Context, env *chaos.Env, cl *client.Client, id int, lease int64, key string) error {
	h := env.History
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: id, Kind: KindLeasePut, Lease: lease, Key: key, Value: "v"})
	resp, err := cl.Put(rctx, key, "v", client.WithLease(lease))
	h.Complete(op, WriteOutcome(err), err, func(o *chaos.Op) { o.Rev = resp.GetHeader().GetRevision() })
	return err
}

// keeper keeps one lease alive for the whole run.
func (w Leases) keeper(ctx context.Context, env *chaos.Env, cl *client.Client, id int) {
	lease, ok := w.grant(ctx, env, cl, id, w.KeeperTTL, roleKeeper)
	if !ok {
		return
	}
	key := fmt.Sprintf("%skeep/%x", w.Prefix, lease)
	for ctx.Err() == nil && w.put(ctx, env, cl, id, lease, key) != nil {
		chaos.Hold(ctx, w.Poll)
	}
	var ka <-chan *raftkvv1.LeaseKeepAliveResponse
	for ctx.Err() == nil {
		if ka == nil {
			var err error
			if ka, err = cl.KeepAlive(ctx, lease); err != nil {
				env.Logger.Warn("lease keeper: keep-alive", "lease", lease, "err", err)
				ka = nil
			}
		}
	drain:
		for ka != nil {
			select {
			case _, open := <-ka:
				if !open {
					if ctx.Err() == nil {
						env.History.Event(chaos.Op{Client: id, Kind: KindLeaseEnd, Lease: lease, Outcome: chaos.Fail,
							Err: "keep-alive channel closed while the keeper was running"})
					}
					ka = nil
				}
			default:
				break drain
			}
		}
		w.ttl(ctx, env, cl, id, lease)
		w.get(ctx, env, cl, id, lease, key)
		chaos.Hold(ctx, w.Poll)
	}
}

// expirer grants short leases and lets them lapse, one at a time.
func (w Leases) expirer(ctx context.Context, env *chaos.Env, cl *client.Client, id int) {
	for ctx.Err() == nil {
		lease, ok := w.grant(ctx, env, cl, id, w.ShortTTL, roleExpiring)
		if !ok {
			return
		}
		key := fmt.Sprintf("%sexp/%x", w.Prefix, lease)
		_ = w.put(ctx, env, cl, id, lease, key)
		deadline := time.Now().Add(time.Duration(w.ShortTTL)*time.Second + 30*time.Second)
		gone := false
		for !gone && ctx.Err() == nil && time.Now().Before(deadline) {
			chaos.Hold(ctx, w.Poll)
			gone = w.ttl(ctx, env, cl, id, lease)
		}
		if gone {
			w.get(ctx, env, cl, id, lease, key)
			chaos.Hold(ctx, w.Poll)
			w.get(ctx, env, cl, id, lease, key)
		}
	}
}

// LeaseChecker checks the Leases workload: a kept-alive lease is never reported
// gone and its key is never missing; the key of an expiring lease is never
// read after a TimeToLive reported the lease gone.
type LeaseChecker struct{}

// Name implements chaos.Checker.
func (c *LeaseChecker) Name() string { return "leases" }

// Check implements chaos.Checker.
func (c *LeaseChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return checkLeases(env.History.Ops())
}

func checkLeases(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "leases"}
	role := map[int64]string{}
	for _, op := range ops {
		if op.Kind == KindLeaseGrant && op.Outcome == chaos.OK {
			role[op.Lease] = op.Value
		}
	}
	gone := map[int64]time.Duration{} // expiring lease -> when its expiry was first observed
	keeperPolls, keeperEnds := 0, 0
	for _, op := range ops {
		if op.Kind == KindLeaseTTL && op.Outcome == chaos.OK && !op.Found {
			if t, ok := gone[op.Lease]; !ok || op.Return < t {
				gone[op.Lease] = op.Return
			}
		}
	}
	expiredReads := 0
	for _, op := range ops {
		switch role[op.Lease] {
		case roleKeeper:
			switch {
			case op.Kind == KindLeaseTTL && op.Outcome == chaos.OK:
				keeperPolls++
				if !op.Found {
					v.Violate("kept-alive lease %x reported gone at %v (op %d)", op.Lease, op.Return, op.ID)
				}
			case op.Kind == KindLeaseGet && op.Outcome == chaos.OK && !op.Found:
				v.Violate("key %s of kept-alive lease %x missing at %v (op %d)", op.Key, op.Lease, op.Return, op.ID)
			case op.Kind == KindLeaseEnd:
				keeperEnds++
			}
		case roleExpiring:
			t, expired := gone[op.Lease]
			if op.Kind != KindLeaseGet || op.Outcome != chaos.OK || !expired || op.Call < t {
				continue
			}
			expiredReads++
			if op.Found {
				v.Violate("key %s of lease %x read (rev %d) at %v, after its expiry was observed at %v (op %d)",
					op.Key, op.Lease, op.Rev, op.Call, t, op.ID)
			}
		}
	}
	expiring := 0
	for _, r := range role {
		if r == roleExpiring {
			expiring++
		}
	}
	v.Summary = fmt.Sprintf("kept-alive lease polled %d times (%d keep-alive restarts); %d expiring leases, %d seen expire, %d reads after expiry",
		keeperPolls, keeperEnds, expiring, len(gone), expiredReads)
	return v
}
