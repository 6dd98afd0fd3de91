package cached

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node/rpcerr"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// cacheService implements cachedv1.CacheService. Every key is routed by the
// ring: served from the local store when this node owns it (or the call was
// forwarded to it), else forwarded once to the owner.
type cacheService struct {
	cachedv1.UnimplementedCacheServiceServer
	s *Server
}

// forward calls rpc on member m's CacheService with a forwarded context.
func forward[Req, Resp any](ctx context.Context, s *Server, m ring.Member, rpc func(cachedv1.CacheServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	var zero Resp
	c, err := s.cacheClient(m)
	if err != nil {
		return zero, err
	}
	s.metrics.forwarded.Add(1)
	fctx, cancel := s.forwardContext(ctx)
	defer cancel()
	return rpc(c, fctx, req)
}

// ownerErr wraps the failure of a forwarded write.
func ownerErr(ctx context.Context, m ring.Member, err error) error {
	if unreachable(ctx, err) {
		return rpcerr.WithMetadata(fmt.Errorf("%w: %s (%s): %v", ErrOwnerUnreachable, m.ID, m.Addr, err), rpcerr.KeyOwner, m.Addr)
	}
	return err
}

func (c *cacheService) Get(ctx context.Context, req *cachedv1.GetRequest) (*cachedv1.GetResponse, error) {
	if len(req.GetKey()) == 0 {
		return nil, toStatus(ErrEmptyKey)
	}
	resp, err := c.s.get(ctx, req.GetKey(), isForwarded(ctx))
	return resp, toStatus(err)
}

// get reads key locally (local, or this node owns it) or from its owner. An
// owner that does not answer is replaced by its replicas in ring order; when
// none answers the read is a miss, not an error (counted as unreachable).
func (s *Server) get(ctx context.Context, key []byte, local bool) (*cachedv1.GetResponse, error) {
	m, mine := s.owner(str(key))
	if local || mine {
		return s.getLocal(key)
	}
	resp, err := forward(ctx, s, m, cachedv1.CacheServiceClient.Get, &cachedv1.GetRequest{Key: key})
	if !unreachable(ctx, err) {
		return resp, err
	}
	return s.getFallback(ctx, key)
}

// getFallback reads key from its replicas after its owner failed to answer.
func (s *Server) getFallback(ctx context.Context, key []byte) (*cachedv1.GetResponse, error) {
	others, self := s.fallbacks(str(key))
	if self {
		return s.getLocal(key)
	}
	for _, r := range others {
		resp, err := forward(ctx, s, r, cachedv1.CacheServiceClient.Get, &cachedv1.GetRequest{Key: key})
		if err == nil {
			return resp, nil
		}
		if !unreachable(ctx, err) {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.metrics.unreachable.Add(1)
	return &cachedv1.GetResponse{}, nil
}

// getLocal reads key from the local store; a key that holds a hash is
// store.ErrWrongType (the API reads strings only).
func (s *Server) getLocal(key []byte) (*cachedv1.GetResponse, error) {
	s.gate.RLock()
	it, ok, err := s.store.Get(str(key))
	s.gate.RUnlock()
	if err != nil {
		return nil, err
	}
	if !ok {
		return &cachedv1.GetResponse{ServedBy: s.cfg.ID}, nil
	}
	return &cachedv1.GetResponse{Found: true, Item: s.itemProto(key, it), ServedBy: s.cfg.ID}, nil
}

func (s *Server) itemProto(key []byte, it store.Item) *cachedv1.Item {
	p := &cachedv1.Item{Key: key, Value: it.Value, Version: it.Version}
	if !it.ExpiresAt.IsZero() {
		p.Ttl = durationpb.New(max(time.Until(it.ExpiresAt), 0))
	}
	return p
}

// group is the keys of a multi-key request that one member owns.
type group struct {
	m    ring.Member
	idx  []int
	keys [][]byte
}

// groupKeys splits keys by owner. Keys this node serves (local, or owned)
// come back in mine; the others in groups, one per owner.
func (s *Server) groupKeys(keys [][]byte, local bool) (mine []int, groups []*group) {
	byID := map[string]*group{}
	for i, k := range keys {
		m, own := s.owner(str(k))
		if local || own {
			mine = append(mine, i)
			continue
		}
		g := byID[m.ID]
		if g == nil {
			g = &group{m: m}
			byID[m.ID] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
		g.keys = append(g.keys, k)
	}
	return mine, groups
}

func (c *cacheService) MGet(ctx context.Context, req *cachedv1.MGetRequest) (*cachedv1.MGetResponse, error) {
	for _, k := range req.GetKeys() {
		if len(k) == 0 {
			return nil, toStatus(ErrEmptyKey)
		}
	}
	items, err := c.s.mget(ctx, req.GetKeys(), isForwarded(ctx))
	if err != nil {
		return nil, toStatus(err)
	}
	return &cachedv1.MGetResponse{Items: items}, nil
}

// mget reads keys, grouped by owner, the groups of other owners in parallel.
// Owners that do not answer are replaced by replicas, key by key, or the keys
// are misses.
func (s *Server) mget(ctx context.Context, keys [][]byte, local bool) ([]*cachedv1.GetResponse, error) {
	out := make([]*cachedv1.GetResponse, len(keys))
	mine, groups := s.groupKeys(keys, local)
	var wg sync.WaitGroup
	errs := make([]error, len(groups))
	for gi, g := range groups {
		wg.Go(func() {
			resp, err := forward(ctx, s, g.m, cachedv1.CacheServiceClient.MGet, &cachedv1.MGetRequest{Keys: g.keys})
			if err == nil && len(resp.GetItems()) == len(g.keys) {
				for i, it := range resp.GetItems() {
					out[g.idx[i]] = it
				}
				return
			}
			if err == nil {
				err = fmt.Errorf("cached: %s answered %d items for %d keys", g.m.ID, len(resp.GetItems()), len(g.keys))
			}
			if !unreachable(ctx, err) {
				errs[gi] = err
				return
			}
			for i, k := range g.keys {
				r, err := s.getFallback(ctx, k)
				if err != nil {
					errs[gi] = err
					return
				}
				out[g.idx[i]] = r
			}
		})
	}
	var localErr error
	for _, i := range mine {
		if out[i], localErr = s.getLocal(keys[i]); localErr != nil {
			break
		}
	}
	wg.Wait()
	if localErr != nil {
		return nil, localErr
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *cacheService) Set(ctx context.Context, req *cachedv1.SetRequest) (*cachedv1.SetResponse, error) {
	if len(req.GetKey()) == 0 {
		return nil, toStatus(ErrEmptyKey)
	}
	s := c.s
	m, mine := s.owner(string(req.GetKey()))
	if isForwarded(ctx) || mine {
		resp, err := s.setLocal(ctx, req)
		return resp, toStatus(err)
	}
	resp, err := forward(ctx, s, m, cachedv1.CacheServiceClient.Set, req)
	return resp, toStatus(ownerErr(ctx, m, err))
}

// setLocal applies a Set to the local store and copies it to the replicas.
func (s *Server) setLocal(ctx context.Context, req *cachedv1.SetRequest) (*cachedv1.SetResponse, error) {
	o := store.SetOptions{KeepTTL: req.GetKeepTtl(), IfVersion: req.GetIfVersion()}
	if req.Ttl != nil {
		if err := req.Ttl.CheckValid(); err != nil {
			return nil, fmt.Errorf("%w: ttl: %v", ErrInvalidArgument, err)
		}
		o.TTL = req.Ttl.AsDuration()
		if o.TTL <= 0 {
			return nil, fmt.Errorf("%w: ttl %v must be positive", ErrInvalidArgument, o.TTL)
		}
	}
	switch req.GetMode() {
	case cachedv1.SetMode_SET_MODE_UNSPECIFIED:
	case cachedv1.SetMode_SET_MODE_IF_ABSENT:
		o.OnlyIfAbsent = true
	case cachedv1.SetMode_SET_MODE_IF_PRESENT:
		o.OnlyIfPresent = true
	default:
		return nil, fmt.Errorf("%w: unknown set mode %v", ErrInvalidArgument, req.GetMode())
	}
	key := string(req.GetKey())
	s.gate.RLock()
	ver, err := s.store.Set(key, req.GetValue(), o)
	s.gate.RUnlock()
	if err == store.ErrNotStored {
		return &cachedv1.SetResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	s.replicate(ctx, key)
	return &cachedv1.SetResponse{Stored: true, Version: ver}, nil
}

func (c *cacheService) Delete(ctx context.Context, req *cachedv1.DeleteRequest) (*cachedv1.DeleteResponse, error) {
	for _, k := range req.GetKeys() {
		if len(k) == 0 {
			return nil, toStatus(ErrEmptyKey)
		}
	}
	s := c.s
	mine, groups := s.groupKeys(req.GetKeys(), isForwarded(ctx))
	var total int64
	var mu sync.Mutex // protects total and firstErr
	var firstErr error
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() {
			resp, err := forward(ctx, s, g.m, cachedv1.CacheServiceClient.Delete, &cachedv1.DeleteRequest{Keys: g.keys})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = ownerErr(ctx, g.m, err)
				}
				return
			}
			total += resp.GetDeleted()
		})
	}
	if len(mine) > 0 {
		keys := make([]string, len(mine))
		for i, idx := range mine {
			keys[i] = string(req.GetKeys()[idx])
		}
		s.gate.RLock()
		n := s.store.Delete(keys...)
		s.gate.RUnlock()
		s.replicate(ctx, keys...)
		mu.Lock()
		total += int64(n)
		mu.Unlock()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, toStatus(firstErr)
	}
	return &cachedv1.DeleteResponse{Deleted: total}, nil
}

func (c *cacheService) Touch(ctx context.Context, req *cachedv1.TouchRequest) (*cachedv1.TouchResponse, error) {
	if len(req.GetKey()) == 0 {
		return nil, toStatus(ErrEmptyKey)
	}
	var ttl time.Duration
	if req.Ttl != nil {
		if err := req.Ttl.CheckValid(); err != nil {
			return nil, toStatus(fmt.Errorf("%w: ttl: %v", ErrInvalidArgument, err))
		}
		if ttl = req.Ttl.AsDuration(); ttl < 0 {
			return nil, toStatus(fmt.Errorf("%w: ttl %v must not be negative", ErrInvalidArgument, ttl))
		}
	}
	s := c.s
	key := string(req.GetKey())
	m, mine := s.owner(key)
	if !isForwarded(ctx) && !mine {
		resp, err := forward(ctx, s, m, cachedv1.CacheServiceClient.Touch, req)
		return resp, toStatus(ownerErr(ctx, m, err))
	}
	var found bool
	s.gate.RLock()
	if ttl == 0 {
		_, found, _ = s.store.TTL(key)
		s.store.Persist(key)
	} else {
		found = s.store.Expire(key, ttl)
	}
	s.gate.RUnlock()
	if found {
		s.replicate(ctx, key)
	}
	return &cachedv1.TouchResponse{Found: found}, nil
}

func (c *cacheService) IncrBy(ctx context.Context, req *cachedv1.IncrByRequest) (*cachedv1.IncrByResponse, error) {
	if len(req.GetKey()) == 0 {
		return nil, toStatus(ErrEmptyKey)
	}
	s := c.s
	key := string(req.GetKey())
	m, mine := s.owner(key)
	if !isForwarded(ctx) && !mine {
		resp, err := forward(ctx, s, m, cachedv1.CacheServiceClient.IncrBy, req)
		return resp, toStatus(ownerErr(ctx, m, err))
	}
	s.gate.RLock()
	n, err := s.store.IncrBy(key, req.GetDelta())
	s.gate.RUnlock()
	if err != nil {
		return nil, toStatus(err)
	}
	s.replicate(ctx, key)
	return &cachedv1.IncrByResponse{Value: n}, nil
}

func (c *cacheService) Stats(context.Context, *cachedv1.StatsRequest) (*cachedv1.StatsResponse, error) {
	return c.s.stats(), nil
}

// stats reports this node's counters. Misses include reads answered as
// misses because the owner was unreachable.
func (s *Server) stats() *cachedv1.StatsResponse {
	st := s.store.Stats()
	return &cachedv1.StatsResponse{
		NodeId:      s.cfg.ID,
		Hits:        st.Hits,
		Misses:      st.Misses + s.metrics.unreachable.Load(),
		Evictions:   st.Evictions,
		Expirations: st.Expirations,
		Items:       st.Items,
		Bytes:       st.Bytes,
		MaxBytes:    s.cfg.MaxMemory,
		Forwarded:   s.metrics.forwarded.Load(),
	}
}
