package cached

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Registry membership.
//
// With Config.Registry set, the node keeps an entry <RegistryPrefix><ID> in
// raftkv whose value is registryEntry as JSON, attached to a lease of
// RegistryTTL that it keeps alive; when the lease is lost (raftkv unreachable
// for a TTL) it registers again. Independently it reads every entry under the
// prefix and watches the prefix from the revision it read at, installing a
// new ring after every change, with the raftkv revision of the change as the
// ring's epoch. A node that dies stops renewing, raftkv deletes its entry
// when the lease expires and every node drops it within about RegistryTTL; a
// node that stops gracefully revokes its lease and leaves at once; a new node
// appears as soon as it has registered. The node is ready once the member
// list it read includes itself.

// registryEntry is the value of a member's registry key.
type registryEntry struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`
	RESPAddr string `json:"resp_addr,omitempty"`
}

// Retry pacing of the registry loops.
const (
	registryRetryMin = 100 * time.Millisecond
	registryRetryMax = 2 * time.Second
)

// registry is the node's registration and member watch, run by Serve.
type registry struct {
	s      *Server
	client *kvclient.Client
	key    string
	value  string
	ttl    int64 // seconds

	ctx    context.Context // cancelled by leave
	cancel context.CancelFunc

	synced   chan struct{} // closed once the member list includes this node
	syncOnce sync.Once

	mu    sync.Mutex // protects lease
	lease int64
}

func newRegistry(s *Server) (*registry, error) {
	eps, _ := parseEndpoints(s.cfg.Registry) // validated
	kc := kvclient.Config{Endpoints: eps, RequestTimeout: 5 * time.Second}
	if s.cfg.Server.TLS.Enabled() {
		// The node's own certificate is its client certificate for raftkv.
		tc, err := node.ClientTLSConfig(s.cfg.Server.TLS, "")
		if err != nil {
			return nil, fmt.Errorf("cached: registry tls: %w", err)
		}
		kc.TLS = tc
	}
	c, err := kvclient.New(kc)
	if err != nil {
		return nil, err
	}
	self := ownEntry(s.self, s.listedSelf())
	b, err := json.Marshal(registryEntry{ID: self.ID, Addr: self.Addr, RESPAddr: self.RESPAddr})
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &registry{
		s:      s,
		client: c,
		key:    s.cfg.RegistryPrefix + s.cfg.ID,
		value:  string(b),
		ttl:    int64((s.cfg.RegistryTTL + time.Second - 1) / time.Second),
		ctx:    ctx,
		cancel: cancel,
		synced: make(chan struct{}),
	}, nil
}

// listedSelf returns this node's entry in the static peers, if listed.
func (s *Server) listedSelf() ring.Member {
	s.members.mu.Lock()
	defer s.members.mu.Unlock()
	for _, m := range s.members.static {
		if m.ID == s.cfg.ID {
			return m
		}
	}
	return ring.Member{ID: s.cfg.ID}
}

// run keeps the registration and the member watch going until leave.
func (r *registry) run() {
	var wg sync.WaitGroup
	wg.Go(r.register)
	r.watch()
	wg.Wait()
}

// leave stops both loops and, unless this is a simulated crash, revokes the
// lease so the other nodes drop this one at once.
func (r *registry) leave() {
	r.cancel()
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	if lease != 0 && !r.s.cfg.crashOnStop {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := r.client.Revoke(ctx, lease); err != nil {
			r.s.logger.Warn("registry: revoke lease", "err", err)
		}
		cancel()
	}
	_ = r.client.Close()
}

// sleep waits d or until leave; it reports whether to go on.
func (r *registry) sleep(d *time.Duration) bool {
	t := time.NewTimer(*d)
	defer t.Stop()
	*d = min(2**d, registryRetryMax)
	select {
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// register grants a lease, puts the entry under it and keeps it alive,
// starting over whenever the lease is lost.
func (r *registry) register() {
	wait := registryRetryMin
	for r.ctx.Err() == nil {
		lease, err := r.client.Grant(r.ctx, r.ttl)
		if err != nil {
			r.s.logger.Warn("registry: grant lease", "err", err)
			if !r.sleep(&wait) {
				return
			}
			continue
		}
		if _, err := r.client.Put(r.ctx, r.key, r.value, kvclient.WithLease(lease.GetId())); err != nil {
			r.s.logger.Warn("registry: register", "err", err)
			if !r.sleep(&wait) {
				return
			}
			continue
		}
		r.mu.Lock()
		r.lease = lease.GetId()
		r.mu.Unlock()
		ch, err := r.client.KeepAlive(r.ctx, lease.GetId())
		if err != nil {
			r.s.logger.Warn("registry: keep alive", "err", err)
			if !r.sleep(&wait) {
				return
			}
			continue
		}
		r.s.logger.Info("registered", "key", r.key, "lease", lease.GetId(), "ttl_s", r.ttl)
		wait = registryRetryMin
		for range ch {
		}
		if r.ctx.Err() == nil {
			r.s.logger.Warn("registry: lease lost; registering again", "lease", lease.GetId())
		}
	}
}

// watch reads the member list and follows changes, starting over (with a
// fresh read) when the watch ends.
func (r *registry) watch() {
	wait := registryRetryMin
	prefix := r.s.cfg.RegistryPrefix
	for r.ctx.Err() == nil {
		resp, err := r.client.Get(r.ctx, prefix, kvclient.WithPrefix())
		if err != nil {
			if r.ctx.Err() == nil {
				r.s.logger.Warn("registry: read members", "err", err)
			}
			if !r.sleep(&wait) {
				return
			}
			continue
		}
		members := map[string]ring.Member{}
		for _, kv := range resp.GetKvs() {
			if m, ok := r.parse(kv); ok {
				members[m.ID] = m
			}
		}
		rev := resp.GetHeader().GetRevision()
		r.apply(members, rev)
		for wr := range r.client.Watch(r.ctx, prefix, kvclient.WithPrefix(), kvclient.WithRev(rev+1)) {
			if err := wr.Err(); err != nil {
				r.s.logger.Warn("registry: watch ended", "err", err)
				break
			}
			changed := false
			for _, ev := range wr.GetEvents() {
				id := strings.TrimPrefix(string(ev.GetKv().GetKey()), prefix)
				switch ev.GetType() {
				case raftkvv1.Event_EVENT_TYPE_PUT:
					if m, ok := r.parse(ev.GetKv()); ok {
						members[m.ID], changed = m, true
					}
				case raftkvv1.Event_EVENT_TYPE_DELETE:
					delete(members, id)
					changed = true
				}
				rev = max(rev, ev.GetKv().GetModRevision())
			}
			if changed {
				r.apply(members, rev)
			}
		}
		wait = registryRetryMin
		if !r.sleep(&wait) {
			return
		}
	}
}

func (r *registry) apply(members map[string]ring.Member, rev int64) {
	r.s.setRegistryMembers(maps.Clone(members), uint64(rev))
	if _, ok := members[r.s.cfg.ID]; ok {
		r.syncOnce.Do(func() { close(r.synced) })
	}
}

// parse decodes a registry entry; a malformed one is logged and skipped.
func (r *registry) parse(kv *raftkvv1.KeyValue) (ring.Member, bool) {
	var e registryEntry
	if err := json.Unmarshal(kv.GetValue(), &e); err != nil || e.ID == "" || e.Addr == "" ||
		e.ID != strings.TrimPrefix(string(kv.GetKey()), r.s.cfg.RegistryPrefix) {
		r.s.logger.Warn("registry: skipping malformed entry", "key", string(kv.GetKey()), "err", err)
		return ring.Member{}, false
	}
	return ring.Member{ID: e.ID, Addr: e.Addr, RESPAddr: e.RESPAddr}, true
}
