package cachechaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	cacheclient "cairn.dev/cairn/cached/client"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds recorded by the cached workloads. Values written are
// unique per key ("c<client>-<n>"), so a read names the write it saw.
const (
	// KindCacheSet is a Set of Key to Value.
	KindCacheSet chaos.OpKind = "cache-set"
	// KindCacheGet is a Get (GetItem) of Key; Found and Value are what it read,
	// Via the node that served it.
	KindCacheGet chaos.OpKind = "cache-get"
	// KindNearGet is a Get of Key through a near cache.
	KindNearGet chaos.OpKind = "near-get"
	// KindCacheRing is one RingService.Ring answer of node Via: Value is the
	// sorted member IDs joined by ",", Rev the epoch; Fail if it did not answer.
	KindCacheRing chaos.OpKind = "cache-ring"
	// KindCacheReset is an INVALIDATION_KIND_RESET received on a raw Subscribe
	// stream from node Via.
	KindCacheReset chaos.OpKind = "cache-reset"
	// KindNearStats is the near cache's counters at the end of the run: Rev is
	// its hits, Index its invalidations.
	KindNearStats chaos.OpKind = "near-stats"
)

// kinds classifies the cached kinds for the framework; the workloads' Kinds
// return it. The kinds it does not list count as reads.
var kinds = chaos.Kinds{KindCacheSet: chaos.ClassWrite}

// cachedRequestTimeout bounds one attempt of a cached client call.
const cachedRequestTimeout = time.Second

// cachedRefresh is the ring refresh interval of the workloads' clients.
const cachedRefresh = 500 * time.Millisecond

// newCacheClient returns a cached client over every node of the service.
func newCacheClient(env *chaos.Env) (*cacheclient.Client, error) {
	return cacheclient.New(cacheclient.Config{
		Endpoints:       env.Endpoints(),
		RequestTimeout:  cachedRequestTimeout,
		RefreshInterval: cachedRefresh,
		DialTimeout:     10 * time.Second,
		TLS:             env.TLS,
	})
}

// CacheKV is the cache workload: Clients clients Set and Get (GetItem) keys
// Prefix+"<n>" of Keys, half and half, each with its own cached client, and a
// ring monitor asks every node for its ring every 100ms (KindCacheRing).
type CacheKV struct {
	// Clients is the number of clients; default 6.
	Clients int
	// Keys is the number of keys; default 64.
	Keys int
	// Prefix is put before every key; default "ck/".
	Prefix string
	// ClientBase is the first client number in the history; default 800.
	ClientBase int
}

// Name implements chaos.Workload.
func (w *CacheKV) Name() string { return "cache-kv" }

// Kinds implements chaos.Workload.
func (w *CacheKV) Kinds() chaos.Kinds { return kinds }

func (w *CacheKV) withDefaults() CacheKV {
	out := *w
	if out.Clients <= 0 {
		out.Clients = 6
	}
	if out.Keys <= 0 {
		out.Keys = 64
	}
	if out.Prefix == "" {
		out.Prefix = "ck/"
	}
	if out.ClientBase == 0 {
		out.ClientBase = 800
	}
	return out
}

// Run implements chaos.Workload.
func (w *CacheKV) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	var wg sync.WaitGroup
	wg.Go(func() { monitorRings(ctx, env, cfg.ClientBase+99) })
	for i := range cfg.Clients {
		id := cfg.ClientBase + i
		cl, err := newCacheClient(env)
		if err != nil {
			return err
		}
		rng := env.Rand(chaos.Stream(w.Name(), id))
		wg.Go(func() {
			defer cl.Close()
			h := env.History
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("%s%d", cfg.Prefix, rng.IntN(cfg.Keys))
				// Requests are not tied to ctx: cancelling them at the end of
				// the run would only turn answers into unknown outcomes.
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if rng.IntN(2) == 0 {
					val := fmt.Sprintf("c%d-%d", id, n)
					op := h.Invoke(chaos.Op{Client: id, Kind: KindCacheSet, Key: key, Value: val})
					_, err := cl.Set(rctx, key, []byte(val))
					out := chaos.OK
					if err != nil {
						out = chaos.Unknown // writes are never retried; the outcome is unknown
					}
					h.Complete(op, out, err, nil)
				} else {
					op := h.Invoke(chaos.Op{Client: id, Kind: KindCacheGet, Key: key})
					it, ok, err := cl.GetItem(rctx, key)
					if err != nil {
						h.Complete(op, chaos.Fail, err, nil)
					} else {
						h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Found, o.Value, o.Via = ok, string(it.Value), it.ServedBy })
					}
				}
				cancel()
				chaos.Hold(ctx, time.Millisecond) // keep the race-enabled clients from saturating two CPUs
			}
		})
	}
	wg.Wait()
	return nil
}

// probeDialOptions are for the monitors' connections to single nodes: they
// reconnect within a fraction of a second after a node restarts. With gRPC's
// default backoff (up to minutes) a node killed for a few seconds would stay
// unobserved for seconds after it is back, and a rejoin could not be judged.
func probeDialOptions(env *chaos.Env) []grpc.DialOption {
	bc := backoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = 50*time.Millisecond, 250*time.Millisecond
	return []grpc.DialOption{
		grpc.WithTransportCredentials(env.TransportCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: time.Second}),
	}
}

// monitorRings records every node's ring every 100ms until ctx ends.
func monitorRings(ctx context.Context, env *chaos.Env, id int) {
	conns := map[string]cachedv1.RingServiceClient{}
	for _, name := range env.Nodes() {
		n, ok := env.Node(name)
		if !ok {
			continue
		}
		cc, err := grpc.NewClient(n.GRPCAddr, probeDialOptions(env)...)
		if err != nil {
			env.Logger.Error("cached ring monitor: dial", "node", name, "err", err)
			continue
		}
		defer cc.Close()
		conns[name] = cachedv1.NewRingServiceClient(cc)
	}
	h := env.History
	for ctx.Err() == nil {
		for _, name := range env.Nodes() {
			rc, ok := conns[name]
			if !ok {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			op := h.Invoke(chaos.Op{Client: id, Kind: KindCacheRing, Via: name})
			resp, err := rc.Ring(rctx, &cachedv1.RingRequest{})
			cancel()
			if err != nil {
				h.Complete(op, chaos.Fail, err, nil)
				continue
			}
			ids := make([]string, 0, len(resp.GetMembers()))
			for _, m := range resp.GetMembers() {
				ids = append(ids, m.GetId())
			}
			sort.Strings(ids)
			h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Value, o.Rev = strings.Join(ids, ","), int64(resp.GetEpoch()) })
		}
		chaos.Hold(ctx, 100*time.Millisecond)
	}
}

// NearStale is the near-cache workload: one writer overwrites Keys keys
// (Prefix+"<n>") with values "w-<n>" through a plain client (KindCacheSet),
// Readers goroutines read them through one NearCache of a second client
// (KindNearGet), and a raw Subscribe stream per node records RESETs
// (KindCacheReset).
type NearStale struct {
	// Keys is the number of keys; default 8.
	Keys int
	// Readers is the number of near-cache readers; default 3.
	Readers int
	// Prefix is put before every key; default "near/".
	Prefix string
	// WriteEvery is the pause between two writes; default 20ms.
	WriteEvery time.Duration
	// ClientBase is the first client number in the history; default 900.
	ClientBase int
}

// Name implements chaos.Workload.
func (w *NearStale) Name() string { return "near-stale" }

// Kinds implements chaos.Workload.
func (w *NearStale) Kinds() chaos.Kinds { return kinds }

func (w *NearStale) withDefaults() NearStale {
	out := *w
	if out.Keys <= 0 {
		out.Keys = 8
	}
	if out.Readers <= 0 {
		out.Readers = 3
	}
	if out.Prefix == "" {
		out.Prefix = "near/"
	}
	if out.WriteEvery <= 0 {
		out.WriteEvery = 20 * time.Millisecond
	}
	if out.ClientBase == 0 {
		out.ClientBase = 900
	}
	return out
}

// Run implements chaos.Workload.
func (w *NearStale) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	writer, err := newCacheClient(env)
	if err != nil {
		return err
	}
	defer writer.Close()
	reader, err := newCacheClient(env)
	if err != nil {
		return err
	}
	defer reader.Close()
	near, err := cacheclient.NewNearCache(reader, cacheclient.NearCacheConfig{Prefixes: []string{cfg.Prefix}, Logger: env.Logger})
	if err != nil {
		return err
	}
	defer func() {
		st := near.Stats()
		env.History.Event(chaos.Op{Client: cfg.ClientBase + 98, Kind: KindNearStats, Rev: st.Hits, Index: uint64(st.Invalidations)})
		near.Close()
	}()

	var wg sync.WaitGroup
	for _, name := range env.Nodes() {
		wg.Go(func() { watchResets(ctx, env, cfg.ClientBase+97, name) })
	}
	wg.Go(func() {
		h := env.History
		id := cfg.ClientBase
		rng := env.Rand(chaos.Stream(w.Name(), id))
		for n := 0; ctx.Err() == nil; n++ {
			key := fmt.Sprintf("%s%d", cfg.Prefix, rng.IntN(cfg.Keys))
			val := fmt.Sprintf("w-%d", n)
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			op := h.Invoke(chaos.Op{Client: id, Kind: KindCacheSet, Key: key, Value: val})
			_, err := writer.Set(rctx, key, []byte(val))
			cancel()
			out := chaos.OK
			if err != nil {
				out = chaos.Unknown
			}
			h.Complete(op, out, err, nil)
			chaos.Hold(ctx, cfg.WriteEvery)
		}
	})
	for i := range cfg.Readers {
		id := cfg.ClientBase + 1 + i
		rng := env.Rand(chaos.Stream(w.Name(), id))
		wg.Go(func() {
			h := env.History
			for ctx.Err() == nil {
				key := fmt.Sprintf("%s%d", cfg.Prefix, rng.IntN(cfg.Keys))
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				op := h.Invoke(chaos.Op{Client: id, Kind: KindNearGet, Key: key})
				val, ok, err := near.Get(rctx, key)
				cancel()
				if err != nil {
					h.Complete(op, chaos.Fail, err, nil)
				} else {
					h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Found, o.Value = ok, string(val) })
				}
				chaos.Hold(ctx, time.Millisecond)
			}
		})
	}
	wg.Wait()
	return nil
}

// watchResets keeps a raw Subscribe stream open to node name and records every
// RESET it carries, until ctx ends.
func watchResets(ctx context.Context, env *chaos.Env, id int, name string) {
	n, ok := env.Node(name)
	if !ok {
		return
	}
	cc, err := grpc.NewClient(n.GRPCAddr, probeDialOptions(env)...)
	if err != nil {
		env.Logger.Error("cached reset watcher: dial", "node", name, "err", err)
		return
	}
	defer cc.Close()
	cs := cachedv1.NewCacheServiceClient(cc)
	for ctx.Err() == nil {
		st, err := cs.Subscribe(ctx, &cachedv1.SubscribeRequest{Prefixes: [][]byte{{}}})
		if err == nil {
			for {
				msg, err := st.Recv()
				if err != nil {
					break
				}
				if msg.GetKind() == cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET {
					env.History.Event(chaos.Op{Client: id, Kind: KindCacheReset, Via: name})
				}
			}
		}
		chaos.Hold(ctx, 200*time.Millisecond) // the node is down: try again
	}
}
