package client

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/clusterconn"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// DefaultNearCacheMaxItems is NearCacheConfig.MaxItems when left zero.
const DefaultNearCacheMaxItems = 10000

// NearCacheConfig configures a NearCache.
type NearCacheConfig struct {
	// MaxItems bounds the local copies; the least recently used is dropped
	// first. Default 10000.
	MaxItems int
	// Prefixes selects the keys kept locally: keys with one of these prefixes.
	// Empty means every key. Other keys go straight to the cluster.
	Prefixes []string
	// Logger receives stream failures; nil discards them.
	Logger *slog.Logger
}

// NearCache is a small local LRU in front of a Client, for hot keys read far
// more often than written. It stays coherent through a Subscribe stream
// carrying the invalidations of the selected keys: a local copy is dropped when its key is set, deleted, expires or is evicted
// on its owner. Its methods may be called concurrently.
//
// The near cache holds one Subscribe stream, to any member; the node it
// reaches merges the invalidations of every member into it (see package
// cached) and sends INVALIDATION_KIND_RESET whenever some may have been lost.
//
// Staleness: after a write is acknowledged by the owner, a near cache in
// another process may return the old value until the invalidation reaches it
// (one stream message: typically well under a millisecond on a LAN, longer
// under load). The bound is the invalidation delivery latency, not a TTL.
// Nothing stale survives a lost invalidation: a value is only kept while the
// stream of its key's owner is up and no invalidation for it arrived during
// the fetch, and the whole near cache is dropped when a stream breaks, when a
// node reports INVALIDATION_KIND_RESET (it lagged or restarted) and when the
// ring changes. Readers that cannot accept even that window should use
// versioned keys ("user:123:v7", with the version held in a strongly
// consistent store such as raftkv): a versioned key's value never changes,
// so any copy of it is correct.
//
// Values returned by Get are shared with the near cache and must not be
// modified.
type NearCache struct {
	c   *Client
	cfg NearCacheConfig

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the supervisor and the streams

	hits, misses, invalidations atomic.Int64

	mu    sync.Mutex // protects the fields below
	lru   *lru
	fills map[string][]*nearFill // fetches in flight, by key
	live  map[string]bool        // member ID -> its stream is established
}

// nearFill is one fetch in flight; invalidated is set (under mu) if its key
// may have changed since the fetch began.
type nearFill struct{ invalidated bool }

// NewNearCache returns a near cache over c and starts its streams. The caller
// must Close it before closing c.
func NewNearCache(c *Client, cfg NearCacheConfig) (*NearCache, error) {
	if cfg.MaxItems == 0 {
		cfg.MaxItems = DefaultNearCacheMaxItems
	}
	if cfg.MaxItems < 0 {
		return nil, fmt.Errorf("cached client: NearCacheConfig.MaxItems must not be negative, got %d", cfg.MaxItems)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &NearCache{c: c, cfg: cfg, lru: newLRU(cfg.MaxItems), fills: map[string][]*nearFill{}, live: map[string]bool{}}
	n.ctx, n.cancel = context.WithCancel(c.ctx)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.supervise()
	}()
	return n, nil
}

// Close stops the streams, waits for their goroutines and drops the local
// copies. The Client stays open.
func (n *NearCache) Close() error {
	n.cancel()
	n.wg.Wait()
	n.reset()
	return nil
}

func (n *NearCache) selected(key string) bool {
	if len(n.cfg.Prefixes) == 0 {
		return true
	}
	for _, p := range n.cfg.Prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Get returns key's value from the local copy or, failing that, from the
// cluster (see Client.Get), keeping a copy if it is safe to.
func (n *NearCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if !n.selected(key) {
		return n.c.Get(ctx, key)
	}
	n.mu.Lock()
	if val, ok := n.lru.get(key); ok {
		n.mu.Unlock()
		n.hits.Add(1)
		return val, true, nil
	}
	owner, _ := n.c.Owner(key)
	canFill := n.live[owner.ID]
	f := &nearFill{}
	n.fills[key] = append(n.fills[key], f)
	n.mu.Unlock()
	n.misses.Add(1)

	val, ok, err := n.c.Get(ctx, key)

	n.mu.Lock()
	defer n.mu.Unlock()
	fs := n.fills[key]
	for i, x := range fs {
		if x == f {
			fs = append(fs[:i], fs[i+1:]...)
			break
		}
	}
	if len(fs) == 0 {
		delete(n.fills, key)
	} else {
		n.fills[key] = fs
	}
	if err == nil && ok && canFill && !f.invalidated && n.ctx.Err() == nil {
		n.lru.add(key, val)
	}
	return val, ok, err
}

// Set writes through to the cluster (see Client.Set) and drops the local copy.
func (n *NearCache) Set(ctx context.Context, key string, val []byte, opts ...SetOption) (uint64, error) {
	defer n.invalidate(key)
	return n.c.Set(ctx, key, val, opts...)
}

// Delete deletes through to the cluster (see Client.Delete) and drops the
// local copies.
func (n *NearCache) Delete(ctx context.Context, keys ...string) (int64, error) {
	defer func() {
		for _, k := range keys {
			n.invalidate(k)
		}
	}()
	return n.c.Delete(ctx, keys...)
}

// NearCacheStats counts a near cache's activity.
type NearCacheStats struct {
	Hits, Misses, Invalidations int64
	Items                       int
}

// Stats returns the near cache's counters.
func (n *NearCache) Stats() NearCacheStats {
	n.mu.Lock()
	items := n.lru.len()
	n.mu.Unlock()
	return NearCacheStats{Hits: n.hits.Load(), Misses: n.misses.Load(), Invalidations: n.invalidations.Load(), Items: items}
}

// invalidate drops key's copy and spoils the fetches of key in flight.
func (n *NearCache) invalidate(key string) {
	n.invalidations.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lru.remove(key)
	for _, f := range n.fills[key] {
		f.invalidated = true
	}
}

// reset drops every copy and spoils every fetch in flight.
func (n *NearCache) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lru.clear()
	for _, fs := range n.fills {
		for _, f := range fs {
			f.invalidated = true
		}
	}
}

// subscribedHeader is the response header in which a node lists the members
// whose changes its Subscribe stream carries from the header on.
const subscribedHeader = "cairn-cached-subscribed"

// supervise keeps one Subscribe stream open, to any member, until Close. The
// node merges the changes of every member into it. The near cache is dropped
// whenever the stream breaks or the ring changes.
func (n *NearCache) supervise() {
	req := &cachedv1.SubscribeRequest{}
	for _, p := range n.cfg.Prefixes {
		req.Prefixes = append(req.Prefixes, []byte(p))
	}
	if len(req.Prefixes) == 0 {
		req.Prefixes = [][]byte{{}} // the empty prefix: every key
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.followRing()
	}()
	var b clusterconn.Backoff
	for try := 0; n.ctx.Err() == nil; try++ {
		members := n.c.view.Load().ring.Members()
		m := members[try%len(members)]
		err := n.subscribeOnce(n.ctx, m, req, &b)
		n.setLive(nil)
		n.reset()
		if n.ctx.Err() != nil {
			return
		}
		n.cfg.Logger.Debug("cached client: near-cache stream broke", "member", m.ID, "err", err)
		if !b.Wait(n.ctx) {
			return
		}
	}
}

// followRing drops the near cache whenever the client's ring changes: keys
// may have moved to an owner whose changes the stream does not carry yet.
func (n *NearCache) followRing() {
	for {
		v := n.c.view.Load()
		select {
		case <-v.changed:
			n.reset()
		case <-n.ctx.Done():
			return
		}
	}
}

// setLive records the members whose changes the stream carries.
func (n *NearCache) setLive(ids []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.live)
	for _, id := range ids {
		n.live[id] = true
	}
}

// subscribeOnce runs one Subscribe stream to m until it fails. Keys count as
// covered from the stream's response header on, which the node sends once its
// streams from the other members are open; the header names those members
// (all of the ring if it does not say).
func (n *NearCache) subscribeOnce(ctx context.Context, m ring.Member, req *cachedv1.SubscribeRequest, b *clusterconn.Backoff) error {
	cs, err := n.c.cache(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := cs.Subscribe(ctx, req)
	if err != nil {
		return err
	}
	md, err := st.Header()
	if err != nil {
		return err
	}
	var ids []string
	if vals := md.Get(subscribedHeader); len(vals) > 0 {
		for _, v := range vals {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids = append(ids, id)
				}
			}
		}
	} else {
		for _, mm := range n.c.view.Load().ring.Members() {
			ids = append(ids, mm.ID)
		}
	}
	n.setLive(ids)
	b.Reset()
	for {
		msg, err := st.Recv()
		if err != nil {
			return err
		}
		switch msg.GetKind() {
		case cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET:
			n.reset()
		default:
			n.invalidate(string(msg.GetKey()))
		}
	}
}
