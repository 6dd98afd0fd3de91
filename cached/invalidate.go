package cached

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// Invalidation streams.
//
// A client subscribes to any one node. That node serves the changes of its
// own store (from the store's change hook, through the hub) and merges the
// changes of every other member: for each one it opens a forwarded Subscribe
// with the same filter, which the peer answers from its own store only. The
// node follows the ring, opening streams to members that join and closing
// those of members that leave. Whenever invalidations may have been missed it
// sends INVALIDATION_KIND_RESET: when a peer stream breaks and is reopened,
// when a member joins (its keys moved), when the subscriber fell more than
// subscriberBuffer events behind, and when a store was flushed.
//
// The response header (grpc.Header) is sent once the streams to the members
// present at subscription time are open, or after subscribeSetup if some
// are not: a client that waits for the header before writing sees every
// later change. With replicas, a replica reports its copies' changes too, so
// a key may be invalidated twice.

// Tuning of the invalidation streams.
const (
	subscriberBuffer = 4096
	subscribeSetup   = 2 * time.Second
	peerRetryMin     = 50 * time.Millisecond
	peerRetryMax     = 2 * time.Second
)

// subscribedHeader is the response header key listing the nodes whose
// streams were open when the header was sent.
const subscribedHeader = "cairn-cached-subscribed"

// subscriber is one Subscribe stream's filter and queue.
type subscriber struct {
	keys     map[string]struct{}
	prefixes []string
	ch       chan *cachedv1.SubscribeResponse
	lagged   atomic.Bool
	wake     chan struct{} // signalled (cap 1) when lagged is set
}

func newSubscriber(req *cachedv1.SubscribeRequest) *subscriber {
	sub := &subscriber{
		keys: make(map[string]struct{}, len(req.GetKeys())),
		ch:   make(chan *cachedv1.SubscribeResponse, subscriberBuffer),
		wake: make(chan struct{}, 1),
	}
	for _, k := range req.GetKeys() {
		sub.keys[string(k)] = struct{}{}
	}
	for _, p := range req.GetPrefixes() {
		sub.prefixes = append(sub.prefixes, string(p))
	}
	return sub
}

// matches reports whether key passes the filter; an empty filter matches all.
func (sub *subscriber) matches(key string) bool {
	if len(sub.keys) == 0 && len(sub.prefixes) == 0 {
		return true
	}
	if _, ok := sub.keys[key]; ok {
		return true
	}
	for _, p := range sub.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// push queues ev without blocking; when the queue is full the event is
// dropped and the subscriber will get a RESET.
func (sub *subscriber) push(ev *cachedv1.SubscribeResponse) {
	select {
	case sub.ch <- ev:
	default:
		sub.lag()
	}
}

func (sub *subscriber) lag() {
	sub.lagged.Store(true)
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// hub fans the local store's changes out to subscribers.
type hub struct {
	n      atomic.Int32 // len(subs), read without the lock by onChange
	mu     sync.RWMutex // protects subs; taken inside store shard locks (lock order: shard, hub)
	subs   map[*subscriber]struct{}
	done   chan struct{}
	doneMu sync.Once
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
}

func (h *hub) add(sub *subscriber) {
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

func (h *hub) remove(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

// close ends every Subscribe stream.
func (h *hub) close() { h.doneMu.Do(func() { close(h.done) }) }

var kinds = [...]cachedv1.SubscribeResponse_InvalidationKind{
	store.ChangeSet:    cachedv1.SubscribeResponse_INVALIDATION_KIND_SET,
	store.ChangeDelete: cachedv1.SubscribeResponse_INVALIDATION_KIND_DELETE,
	store.ChangeExpire: cachedv1.SubscribeResponse_INVALIDATION_KIND_EXPIRE,
	store.ChangeEvict:  cachedv1.SubscribeResponse_INVALIDATION_KIND_EVICT,
	store.ChangeFlush:  cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET,
}

// onChange returns the store's change hook. It runs under a shard lock: it
// only filters and queues, never blocks. With no subscriber it costs one
// atomic load.
func (h *hub) onChange(nodeID string) func(store.ChangeKind, string, uint64) {
	return func(kind store.ChangeKind, key string, version uint64) {
		if h.n.Load() == 0 {
			return
		}
		h.mu.RLock()
		defer h.mu.RUnlock()
		for sub := range h.subs {
			if kind == store.ChangeFlush || sub.matches(key) {
				sub.push(&cachedv1.SubscribeResponse{Kind: kinds[kind], Key: []byte(key), Version: version, NodeId: nodeID})
			}
		}
	}
}

func (c *cacheService) Subscribe(req *cachedv1.SubscribeRequest, stream grpc.ServerStreamingServer[cachedv1.SubscribeResponse]) error {
	s := c.s
	ctx := stream.Context()
	sub := newSubscriber(req)
	s.hub.add(sub)
	defer s.hub.remove(sub)

	var wg sync.WaitGroup // the peer streams, owned by this handler
	pctx, cancel := context.WithCancel(ctx)
	defer wg.Wait()
	defer cancel()
	if isForwarded(ctx) {
		// A peer's merge stream: this node's own changes only.
		if err := stream.SendHeader(metadata.Pairs(subscribedHeader, s.cfg.ID)); err != nil {
			return err
		}
	} else {
		m := &merger{s: s, sub: sub, req: req, ctx: pctx, wg: &wg, peers: map[string]*peerStream{}}
		opened := m.follow(s.currentView())
		setup := time.NewTimer(subscribeSetup)
		for _, ps := range opened {
			select {
			case <-ps.opened:
			case <-setup.C:
			case <-ctx.Done():
			}
		}
		setup.Stop()
		if err := stream.SendHeader(metadata.Pairs(subscribedHeader, m.openIDs())); err != nil {
			return err
		}
		wg.Go(m.run)
	}
	reset := &cachedv1.SubscribeResponse{Kind: cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET, NodeId: s.cfg.ID}
	for {
		select {
		case ev := <-sub.ch:
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-sub.wake:
			if sub.lagged.Swap(false) {
				// Deliver what is queued first: the RESET covers what was dropped after it.
				for drained := false; !drained; {
					select {
					case ev := <-sub.ch:
						if err := stream.Send(ev); err != nil {
							return err
						}
					default:
						drained = true
					}
				}
				if err := stream.Send(reset); err != nil {
					return err
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-s.hub.done:
			return toStatus(ErrShuttingDown)
		}
	}
}

// merger keeps one forwarded Subscribe stream open to every other member of
// the ring for one subscriber.
type merger struct {
	s   *Server
	sub *subscriber
	req *cachedv1.SubscribeRequest
	ctx context.Context
	wg  *sync.WaitGroup

	mu    sync.Mutex // protects peers
	peers map[string]*peerStream
	view  *view
}

// peerStream is the merge stream to one member.
type peerStream struct {
	m      ring.Member
	cancel context.CancelFunc
	opened chan struct{} // closed once the first stream is open
	isOpen atomic.Bool
}

// follow starts streams to the members of v not yet followed and stops those
// of members no longer in v. It returns the streams it started.
func (m *merger) follow(v *view) []*peerStream {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.view = v
	if v == nil {
		return nil
	}
	var started []*peerStream
	live := map[string]bool{}
	for _, mem := range v.ring.Members() {
		if mem.ID == m.s.cfg.ID {
			continue
		}
		live[mem.ID] = true
		if ps, ok := m.peers[mem.ID]; ok && ps.m.Addr == mem.Addr {
			continue
		} else if ok {
			ps.cancel()
		}
		ctx, cancel := context.WithCancel(m.ctx)
		ps := &peerStream{m: mem, cancel: cancel, opened: make(chan struct{})}
		m.peers[mem.ID] = ps
		started = append(started, ps)
		m.wg.Go(func() { m.stream(ctx, ps) })
	}
	for id, ps := range m.peers {
		if !live[id] {
			ps.cancel()
			delete(m.peers, id)
		}
	}
	return started
}

func (m *merger) openIDs() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := []string{m.s.cfg.ID}
	for id, ps := range m.peers {
		if ps.isOpen.Load() {
			ids = append(ids, id)
		}
	}
	return strings.Join(ids, ",")
}

// run follows ring changes until the subscription ends. A member that joins
// makes keys move to it, so the subscriber is told to RESET.
func (m *merger) run() {
	for {
		m.mu.Lock()
		v := m.view
		m.mu.Unlock()
		var next chan struct{}
		if v != nil {
			next = v.next
		}
		select {
		case <-m.ctx.Done():
			return
		case <-next:
		}
		if started := m.follow(m.s.currentView()); len(started) > 0 {
			m.sub.lag()
		}
	}
}

// stream keeps the forwarded stream to ps.m open, reopening it with backoff
// when it breaks; every reopening makes the subscriber RESET.
func (m *merger) stream(ctx context.Context, ps *peerStream) {
	wait := peerRetryMin
	first := true
	for ctx.Err() == nil {
		err := m.streamOnce(ctx, ps, &first)
		if ctx.Err() != nil {
			return
		}
		m.s.logger.Debug("invalidation stream broke", "peer", ps.m.ID, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, peerRetryMax)
	}
}

func (m *merger) streamOnce(ctx context.Context, ps *peerStream, first *bool) error {
	c, err := m.s.cacheClient(ps.m)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctx, forwardedKey, m.s.cfg.ID))
	defer cancel()
	st, err := c.Subscribe(sctx, m.req)
	if err != nil {
		return err
	}
	if _, err := st.Header(); err != nil {
		return err
	}
	ps.isOpen.Store(true)
	defer ps.isOpen.Store(false)
	if *first {
		*first = false
		close(ps.opened)
	} else {
		m.sub.lag() // changes between the streams may have been missed
	}
	for {
		ev, err := st.Recv()
		if err != nil {
			return err
		}
		m.sub.push(ev)
	}
}
