package cached

import (
	"slices"
	"sync"

	"cairn.dev/cairn/cached/ring"
)

// view is one immutable ring with the facts derived from it. The current view
// is Server.view; next is closed when a newer view replaces it, so goroutines
// that follow membership (Subscribe) wait on it.
type view struct {
	ring  *ring.Ring
	epoch uint64
	next  chan struct{}
}

// members is the membership state behind the views.
type members struct {
	mu       sync.Mutex // protects the fields below; held while a view is installed
	static   []ring.Member
	registry map[string]ring.Member // nil until the registry's list has been read
	epoch    uint64
}

// currentView returns the ring in use; nil before the first one is installed.
func (s *Server) currentView() *view { return s.view.Load() }

// SetPeers replaces the static membership (as Config.Peers would give it) and
// installs the new ring unless a registry supplies the members. The node
// itself is always a member. Safe for concurrent use.
func (s *Server) SetPeers(peers []ring.Member) {
	s.members.mu.Lock()
	defer s.members.mu.Unlock()
	s.members.static = slices.Clone(peers)
	if s.members.registry == nil {
		s.installLocked(s.members.static, 0)
	}
}

// installStatic installs the ring of the static peers, unless the registry's
// members are known.
func (s *Server) installStatic() {
	s.members.mu.Lock()
	defer s.members.mu.Unlock()
	if s.members.registry == nil {
		s.installLocked(s.members.static, 0)
	}
}

// setRegistryMembers replaces the membership read from the registry at raftkv
// revision rev and installs the new ring.
func (s *Server) setRegistryMembers(ms map[string]ring.Member, rev uint64) {
	s.members.mu.Lock()
	defer s.members.mu.Unlock()
	s.members.registry = ms
	list := make([]ring.Member, 0, len(ms))
	for _, m := range ms {
		list = append(list, m)
	}
	s.installLocked(list, rev)
}

// installLocked builds the ring of ms plus this node and installs it if the
// member set changed. The epoch becomes max(previous+1, rev): in registry mode
// it is the raftkv revision of the change, the same on every node. The
// caller holds s.members.mu.
func (s *Server) installLocked(ms []ring.Member, rev uint64) {
	all := make([]ring.Member, 0, len(ms)+1)
	self := false
	for _, m := range ms {
		if m.ID == s.self.ID {
			self = true
			m = ownEntry(s.self, m)
		}
		all = append(all, m)
	}
	if !self {
		all = append(all, s.self)
	}
	r := ring.New(all, s.cfg.VNodes)
	old := s.view.Load()
	if old != nil && slices.Equal(old.ring.Members(), r.Members()) {
		if rev > s.members.epoch {
			// The registry confirms the set the static peers gave (a restarted
			// node): adopt its revision so that every node reports one epoch.
			s.members.epoch = rev
			s.view.Store(&view{ring: old.ring, epoch: rev, next: old.next})
		}
		return
	}
	s.members.epoch = max(s.members.epoch+1, rev)
	v := &view{ring: r, epoch: s.members.epoch, next: make(chan struct{})}
	s.view.Store(v)
	if old != nil {
		close(old.next)
	}
	members := r.Members()
	s.peers.Retain(func(addr string) bool {
		return slices.ContainsFunc(members, func(m ring.Member) bool { return m.Addr == addr })
	})
	ids := make([]string, 0, r.Len())
	for _, m := range r.Members() {
		ids = append(ids, m.ID)
	}
	s.logger.Info("ring changed", "epoch", v.epoch, "members", ids)
	s.metrics.members.Set(float64(r.Len()))
}

// ownEntry returns the node's own member entry: the addresses others list
// for it (which may differ from the bound ones, e.g. behind a proxy), else the
// bound ones.
func ownEntry(self, listed ring.Member) ring.Member {
	if listed.Addr == "" {
		listed.Addr = self.Addr
	}
	if listed.RESPAddr == "" {
		listed.RESPAddr = self.RESPAddr
	}
	return listed
}
