package kvchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/node/rpcerr"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/kvcheck"
)

// The operation kinds recorded by the raftkv workloads. Register operations
// (KindGet, KindPut, KindCAS) form the linearizability history.
const (
	KindGet        chaos.OpKind = "get"         // linearizable read of a register key
	KindPut        chaos.OpKind = "put"         // unconditional write of a register key
	KindCAS        chaos.OpKind = "cas"         // compare-and-swap of a register key (a Txn)
	KindPutUnique  chaos.OpKind = "put-unique"  // write of a key written exactly once (durability)
	KindWatchStart chaos.OpKind = "watch-start" // a watch opened at Rev
	KindWatchEvent chaos.OpKind = "watch-event" // one event delivered by a watch
	KindWatchEnd   chaos.OpKind = "watch-end"   // the watch caught up with store revision Rev
	KindLeaseGrant chaos.OpKind = "lease-grant" // a lease granted (Lease) with TTL Rev seconds
	KindLeasePut   chaos.OpKind = "lease-put"   // a key attached to Lease
	KindLeaseTTL   chaos.OpKind = "lease-ttl"   // TimeToLive of Lease: Rev is the TTL, Found false if gone
	KindLeaseGet   chaos.OpKind = "lease-get"   // linearizable read of a key attached to Lease
	KindLeaseEnd   chaos.OpKind = "lease-end"   // a KeepAlive channel closed although its context lived
)

// kinds classifies the raftkv kinds for the framework; the workloads' Kinds
// return it.
var kinds = chaos.Kinds{
	KindPut: chaos.ClassWrite, KindCAS: chaos.ClassWrite, KindPutUnique: chaos.ClassWrite,
	KindLeaseGrant: chaos.ClassWrite, KindLeasePut: chaos.ClassWrite,
	KindWatchStart: chaos.ClassEvent, KindWatchEvent: chaos.ClassEvent, KindWatchEnd: chaos.ClassEvent,
	KindLeaseEnd: chaos.ClassEvent,
}

// NewClient returns a raftkv client over endpoints (every node of the service
// under test when empty) with the given request timeout, and the cluster's
// TLS. The caller closes it.
func NewClient(env *chaos.Env, timeout time.Duration, endpoints ...string) (*client.Client, error) {
	if len(endpoints) == 0 {
		endpoints = env.Endpoints()
	}
	return client.New(client.Config{Endpoints: endpoints, RequestTimeout: timeout, DialTimeout: 2 * time.Second, TLS: env.TLS})
}

// KV is the register workload: Clients clients issue linearizable gets, puts and
// compare-and-swaps on Keys register keys (Prefix+"reg/<n>"), each value
// unique, and every UniqueEvery-th operation also writes a key of its own
// (Prefix+"ack/<client>/<n>") that is written exactly once, for the durability
// checker.
type KV struct {
	// Clients is the number of concurrent clients; default 8.
	Clients int
	// Keys is the number of register keys; default 4, plus one per 15 s of fault
	// phase so that long histories stay checkable.
	Keys int
	// Prefix is put before every key; default "kv/".
	Prefix string
	// UniqueEvery makes every n-th operation of a client also write a unique key;
	// default 3, negative disables.
	UniqueEvery int
	// Timeout bounds each request; default 2s.
	Timeout time.Duration
	// Pinned makes client i talk only to node i modulo the node count, through
	// env.Via (the client proxy in front of it, when the scenario has them).
	Pinned bool
	// ClientBase is added to the client numbers in the history, so that several
	// KV workloads of one run do not share numbers.
	ClientBase int
}

// Name implements chaos.Workload.
func (w *KV) Name() string { return "kv" }

// Kinds implements chaos.Workload.
func (w *KV) Kinds() chaos.Kinds { return kinds }

func (w *KV) withDefaults(env *chaos.Env) KV {
	out := *w
	if out.Clients <= 0 {
		out.Clients = 8
	}
	if out.Keys <= 0 {
		out.Keys = 4 + int(env.Phase/(15*time.Second))
	}
	if out.Prefix == "" {
		out.Prefix = "kv/"
	}
	if out.UniqueEvery == 0 {
		out.UniqueEvery = 3
	}
	if out.Timeout <= 0 {
		out.Timeout = 2 * time.Second
	}
	return out
}

// Run implements chaos.Workload.
func (w *KV) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults(env)
	nodes := env.Nodes()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		var via string
		var eps []string
		if cfg.Pinned {
			via = nodes[i%len(nodes)]
			eps = []string{env.Via(via)}
		}
		cl, err := NewClient(env, cfg.Timeout, eps...)
		if err != nil {
			return err
		}
		rng := env.Rand(chaos.Stream(w.Name(), cfg.ClientBase+i))
		wg.Go(func() {
			defer cl.Close()
			cfg.client(ctx, env, cfg.ClientBase+i, via, cl, rng)
		})
	}
	wg.Wait()
	return nil
}

// client is the loop of one client.
func (w KV) client(ctx context.Context, env *chaos.Env, id int, via string, cl *client.Client, rng *rand.Rand) {
	h := env.History
	last := map[string]kvcheck.Value{} // what this client last saw in each key
	for n := 0; ctx.Err() == nil; n++ {
		key := fmt.Sprintf("%sreg/%d", w.Prefix, rng.IntN(w.Keys))
		val := fmt.Sprintf("c%d-%d", id, n)
		// Requests are not tied to ctx: cancelling them at the end of the run
		// would only turn answers into unknown outcomes.
		rctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
		switch r := rng.IntN(10); {
		case r < 4:
			op := h.Invoke(chaos.Op{Client: id, Via: via, Kind: KindGet, Key: key})
			resp, err := cl.Get(rctx, key)
			if err != nil {
				h.Complete(op, chaos.Fail, err, nil)
				break
			}
			v := valueOf(resp.GetKvs())
			last[key] = v
			h.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
				o.Found, o.Value, o.Rev = v.Present, v.Data, resp.GetHeader().GetRevision()
			})
		case r < 7:
			op := h.Invoke(chaos.Op{Client: id, Via: via, Kind: KindPut, Key: key, Value: val})
			resp, err := cl.Put(rctx, key, val)
			h.Complete(op, WriteOutcome(err), err, func(o *chaos.Op) { o.Rev = resp.GetHeader().GetRevision() })
			if err == nil {
				last[key] = kvcheck.Present(val)
			}
		default:
			expect := last[key]
			op := h.Invoke(chaos.Op{Client: id, Via: via, Kind: KindCAS, Key: key, Value: val, Expect: (*chaos.Expected)(&expect)})
			cmp := client.Compare(client.Version(key), "=", 0)
			if expect.Present {
				cmp = client.Compare(client.Value(key), "=", expect.Data)
			}
			resp, err := cl.Txn(rctx).If(cmp).Then(client.OpPut(key, val)).Commit()
			h.Complete(op, WriteOutcome(err), err, func(o *chaos.Op) {
				o.Succeeded = resp.GetSucceeded()
				if o.Succeeded {
					o.Rev = resp.GetHeader().GetRevision()
				}
			})
			if err == nil && resp.GetSucceeded() {
				last[key] = kvcheck.Present(val)
			}
		}
		cancel()
		if w.UniqueEvery > 0 && n%w.UniqueEvery == 0 && ctx.Err() == nil {
			key := fmt.Sprintf("%sack/%d/%d", w.Prefix, id, n)
			rctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
			op := h.Invoke(chaos.Op{Client: id, Via: via, Kind: KindPutUnique, Key: key, Value: val})
			resp, err := cl.Put(rctx, key, val)
			h.Complete(op, WriteOutcome(err), err, func(o *chaos.Op) { o.Rev = resp.GetHeader().GetRevision() })
			cancel()
		}
	}
}

func valueOf(kvs []*raftkvv1.KeyValue) kvcheck.Value {
	if len(kvs) == 0 {
		return kvcheck.Absent()
	}
	return kvcheck.Present(string(kvs[0].GetValue()))
}

// WriteOutcome classifies the error of a raftkv write. Only errors that prove
// the write was rejected before it could apply are Fail; anything else
// (timeouts, broken connections, lost leadership, and codes whose meaning is
// not definite) leaves the outcome Unknown.
func WriteOutcome(err error) chaos.Outcome {
	if err == nil {
		return chaos.OK
	}
	if client.IsUnknownOutcome(err) {
		return chaos.Unknown
	}
	if errors.Is(err, client.ErrClosed) {
		return chaos.Fail
	}
	// Refused before anything was applied (no leader, no quorum, no member
	// reachable) or never sent: the error contract says the write did not
	// happen.
	if rpcerr.TryOther(err) || rpcerr.ReasonOf(err) == rpcerr.NotSent {
		return chaos.Fail
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented,
		codes.ResourceExhausted:
		return chaos.Fail
	}
	return chaos.Unknown
}
