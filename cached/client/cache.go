package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/cached/ring"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// Item is a key's value with its metadata.
type Item struct {
	Key   string
	Value []byte
	// Version increases on every write of the key on its owner.
	Version uint64
	// TTL is the remaining time to live when the item was read; 0 means none.
	TTL time.Duration
	// ServedBy is the ID of the node that answered.
	ServedBy string
}

func itemFrom(key string, r *cachedv1.GetResponse) Item {
	it := Item{Key: key, Value: r.GetItem().GetValue(), Version: r.GetItem().GetVersion(), ServedBy: r.GetServedBy()}
	if d := r.GetItem().GetTtl(); d != nil {
		it.TTL = d.AsDuration()
	}
	if it.Value == nil {
		it.Value = []byte{}
	}
	return it
}

// Get returns the value of key and whether it was found. It asks the key's
// owner and, if the owner is unreachable, the next replicas in ring order;
// when none answers it reports a miss (nil, false, nil) and asks for a ring
// refresh: for a cache, a miss is always safe. It returns an error only when
// ctx ends, the client is closed or a node rejects the request (an invalid
// key, say).
func (c *Client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	it, ok, err := c.GetItem(ctx, key)
	return it.Value, ok, err
}

// GetItem is Get returning the value with its version and remaining TTL.
func (c *Client) GetItem(ctx context.Context, key string) (Item, bool, error) {
	v, err := c.current()
	if err != nil {
		return Item{}, false, err
	}
	for _, m := range v.ring.Owners(key, v.replicas) {
		resp, err := c.getFrom(ctx, m, key)
		if err == nil {
			if !resp.GetFound() {
				return Item{}, false, nil
			}
			return itemFrom(key, resp), true, nil
		}
		if !unreachable(ctx, err) {
			return Item{}, false, c.callError(ctx, "get", m, err)
		}
		c.requestRefresh()
	}
	return Item{}, false, nil
}

func (c *Client) getFrom(ctx context.Context, m ring.Member, key string) (*cachedv1.GetResponse, error) {
	cs, err := c.cache(m)
	if err != nil {
		return nil, err
	}
	actx, cancel := c.withTimeout(ctx)
	defer cancel()
	return cs.Get(actx, &cachedv1.GetRequest{Key: []byte(key)})
}

// MGet returns the values of the keys that were found. Keys are grouped by
// owner and each group is fetched with one MGet call, the groups in parallel.
// A group whose owner is unreachable is read from the next replicas key by
// key, and its keys are otherwise reported missing, as for Get.
func (c *Client) MGet(ctx context.Context, keys ...string) (map[string][]byte, error) {
	v, err := c.current()
	if err != nil {
		return nil, err
	}
	groups := map[string][]string{} // owner ID -> keys
	owners := map[string]ring.Member{}
	for _, k := range keys {
		m, ok := v.ring.Owner(k)
		if !ok {
			return map[string][]byte{}, nil
		}
		if _, dup := owners[m.ID]; !dup {
			owners[m.ID] = m
		}
		if !containsKey(groups[m.ID], k) {
			groups[m.ID] = append(groups[m.ID], k)
		}
	}
	var (
		mu       sync.Mutex // protects out and firstErr
		out      = make(map[string][]byte, len(keys))
		firstErr error
		wg       sync.WaitGroup
	)
	for id, ks := range groups {
		m := owners[id]
		wg.Go(func() {
			found, err := c.mgetFrom(ctx, v, m, ks)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			for k, val := range found {
				out[k] = val
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func containsKey(ks []string, k string) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// mgetFrom reads keys, all owned by m, from m, falling back key by key to the
// replicas if m is unreachable.
func (c *Client) mgetFrom(ctx context.Context, v *view, m ring.Member, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	cs, err := c.cache(m)
	if err != nil {
		return nil, err
	}
	req := &cachedv1.MGetRequest{Keys: make([][]byte, len(keys))}
	for i, k := range keys {
		req.Keys[i] = []byte(k)
	}
	actx, cancel := c.withTimeout(ctx)
	resp, err := cs.MGet(actx, req)
	cancel()
	if err == nil {
		for i, r := range resp.GetItems() {
			if i < len(keys) && r.GetFound() {
				out[keys[i]] = itemFrom(keys[i], r).Value
			}
		}
		return out, nil
	}
	if !unreachable(ctx, err) {
		return nil, c.callError(ctx, "mget", m, err)
	}
	c.requestRefresh()
	if v.replicas < 2 {
		return out, nil
	}
	for _, k := range keys {
		for _, r := range v.ring.Owners(k, v.replicas)[1:] {
			resp, err := c.getFrom(ctx, r, k)
			if err == nil {
				if resp.GetFound() {
					out[k] = itemFrom(k, resp).Value
				}
				break
			}
			if !unreachable(ctx, err) {
				return nil, c.callError(ctx, "get", r, err)
			}
		}
	}
	return out, nil
}

// Set writes val to key on its owner and returns the key's new version.
// Options: WithTTL, KeepTTL, IfAbsent, IfPresent, IfVersion; when their
// condition fails nothing is written and the error matches ErrNotStored.
// Set is not retried: if the owner is unreachable the error matches
// ErrUnavailable (the write may or may not have been applied) and a ring
// refresh is requested, so a retry by the caller goes to the new owner.
func (c *Client) Set(ctx context.Context, key string, val []byte, opts ...SetOption) (uint64, error) {
	req := &cachedv1.SetRequest{Key: []byte(key), Value: val}
	for _, o := range opts {
		o(req)
	}
	var resp *cachedv1.SetResponse
	err := c.onOwner(ctx, "set", key, func(ctx context.Context, cs cachedv1.CacheServiceClient) (err error) {
		resp, err = cs.Set(ctx, req)
		return err
	})
	if err != nil {
		return 0, err
	}
	if !resp.GetStored() {
		return 0, ErrNotStored
	}
	return resp.GetVersion(), nil
}

// Delete removes keys and returns how many existed. Keys are grouped by owner,
// one call per owner, in parallel. If an owner is unreachable the error
// matches ErrUnavailable and the count covers the other owners.
func (c *Client) Delete(ctx context.Context, keys ...string) (int64, error) {
	v, err := c.current()
	if err != nil {
		return 0, err
	}
	groups := map[string]*cachedv1.DeleteRequest{}
	owners := map[string]ring.Member{}
	for _, k := range keys {
		m, ok := v.ring.Owner(k)
		if !ok {
			return 0, ErrNoRing
		}
		owners[m.ID] = m
		if groups[m.ID] == nil {
			groups[m.ID] = &cachedv1.DeleteRequest{}
		}
		groups[m.ID].Keys = append(groups[m.ID].Keys, []byte(k))
	}
	var (
		mu      sync.Mutex // protects deleted and errs
		deleted int64
		errs    []error
		wg      sync.WaitGroup
	)
	for id, req := range groups {
		m := owners[id]
		wg.Go(func() {
			var resp *cachedv1.DeleteResponse
			err := c.onMember(ctx, "delete", m, func(ctx context.Context, cs cachedv1.CacheServiceClient) (err error) {
				resp, err = cs.Delete(ctx, req)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			deleted += resp.GetDeleted()
		})
	}
	wg.Wait()
	return deleted, errors.Join(errs...)
}

// Touch sets key's time to live to ttl (ttl <= 0 removes it: the key no
// longer expires) and reports whether the key exists. It is a write: see Set.
func (c *Client) Touch(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	req := &cachedv1.TouchRequest{Key: []byte(key)}
	if ttl > 0 {
		req.Ttl = durationpb.New(ttl)
	}
	var resp *cachedv1.TouchResponse
	err := c.onOwner(ctx, "touch", key, func(ctx context.Context, cs cachedv1.CacheServiceClient) (err error) {
		resp, err = cs.Touch(ctx, req)
		return err
	})
	return resp.GetFound(), err
}

// IncrBy adds delta to the integer stored at key (a missing key counts as 0)
// and returns the new value. It is a write and is never retried: after an
// error matching ErrUnavailable the increment may or may not have happened.
func (c *Client) IncrBy(ctx context.Context, key string, delta int64) (int64, error) {
	var resp *cachedv1.IncrByResponse
	err := c.onOwner(ctx, "incrby", key, func(ctx context.Context, cs cachedv1.CacheServiceClient) (err error) {
		resp, err = cs.IncrBy(ctx, &cachedv1.IncrByRequest{Key: []byte(key), Delta: delta})
		return err
	})
	return resp.GetValue(), err
}

// onOwner runs rpc once against key's owner.
func (c *Client) onOwner(ctx context.Context, op, key string, rpc func(context.Context, cachedv1.CacheServiceClient) error) error {
	v, err := c.current()
	if err != nil {
		return err
	}
	m, ok := v.ring.Owner(key)
	if !ok {
		return ErrNoRing
	}
	return c.onMember(ctx, op, m, rpc)
}

// onMember runs rpc once against m, bounded by RequestTimeout, and wraps its
// error; an unreachable m also triggers a ring refresh.
func (c *Client) onMember(ctx context.Context, op string, m ring.Member, rpc func(context.Context, cachedv1.CacheServiceClient) error) error {
	cs, err := c.cache(m)
	if err != nil {
		return err
	}
	actx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := rpc(actx, cs); err != nil {
		return c.callError(ctx, op, m, err)
	}
	return nil
}

// callError wraps err, the failure of op on m, adding ErrUnavailable when m
// did not answer. The gRPC status stays visible to status.Code.
func (c *Client) callError(ctx context.Context, op string, m ring.Member, err error) error {
	if unreachable(ctx, err) {
		c.requestRefresh()
		return fmt.Errorf("cached client: %s on %s (%s): %w: %w", op, m.ID, m.Addr, ErrUnavailable, err)
	}
	return fmt.Errorf("cached client: %s on %s (%s): %w", op, m.ID, m.Addr, err)
}

// NodeStats is one node's answer to Stats.
type NodeStats struct {
	Member ring.Member
	// Stats is the node's counters; nil if Err is set.
	Stats *cachedv1.StatsResponse
	// Err is why the node did not answer.
	Err error
}

// Stats asks every member of the ring for its counters, in parallel, and
// returns their answers sorted by member ID. A node that fails has Err set;
// Stats itself fails only when the client is closed.
func (c *Client) Stats(ctx context.Context) ([]NodeStats, error) {
	v, err := c.current()
	if err != nil {
		return nil, err
	}
	members := v.ring.Members()
	out := make([]NodeStats, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			out[i].Member = m
			out[i].Err = c.onMember(ctx, "stats", m, func(ctx context.Context, cs cachedv1.CacheServiceClient) (err error) {
				out[i].Stats, err = cs.Stats(ctx, &cachedv1.StatsRequest{})
				return err
			})
		})
	}
	wg.Wait()
	return out, nil
}

// RingInfo describes the ring the client routes by.
type RingInfo struct {
	Members  []MemberInfo `json:"members"`
	VNodes   int          `json:"vnodes"`
	Replicas int          `json:"replicas"`
	Epoch    uint64       `json:"epoch"`
}

// MemberInfo is one member of the ring.
type MemberInfo struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`
	RESPAddr string `json:"resp_addr"`
	// Share is the fraction of the hash space the member owns.
	Share float64 `json:"share"`
}

// Ring fetches the ring from the cluster now, installs it if it is newer than
// the client's, and describes the client's ring. The error matches ErrNoRing
// if no node answered.
func (c *Client) Ring(ctx context.Context) (RingInfo, error) {
	if c.isClosed() {
		return RingInfo{}, ErrClosed
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.refresh(ctx); err != nil {
		return RingInfo{}, err
	}
	v := c.view.Load()
	info := RingInfo{VNodes: v.ring.VNodes(), Replicas: v.replicas, Epoch: v.epoch}
	for _, m := range v.ring.Members() {
		info.Members = append(info.Members, MemberInfo{ID: m.ID, Addr: m.Addr, RESPAddr: m.RESPAddr, Share: v.shares[m.ID]})
	}
	return info, nil
}

// Owner returns the member that owns key on the client's current ring.
func (c *Client) Owner(key string) (ring.Member, bool) {
	v := c.view.Load()
	if v == nil {
		return ring.Member{}, false
	}
	return v.ring.Owner(key)
}
