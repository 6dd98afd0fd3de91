package searchd

// Liveness and placement. The metadata leader checks on every member each
// HeartbeatInterval (ClusterService.Status) and keeps when it last heard
// from each in memory, counted from when it became leader at the earliest.
// Then, for every shard: copies on nodes silent for over NodeTimeout become
// LOST; a LOST copy whose node answers again is removed (the node rebuilds
// a fresh copy if one is placed on it); while a shard has fewer than
// 1+replicas copies that are not LOST, a new INITIALIZING copy goes to the
// live node without one that holds the fewest copies; LOST copies are
// removed once the shard has 1+replicas STARTED copies.

import (
	"context"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/meta"
)

// liveness is the leader's memory of its members.
type liveness struct {
	mu sync.Mutex // protects the fields below
	// leader and since: whether this node leads, since when.
	leader bool
	since  time.Time
	// heard holds when each node last answered, and its HTTP address.
	heard map[string]heard
	kick  chan struct{}
}

type heard struct {
	at       time.Time
	httpAddr string
}

func newLiveness() *liveness {
	return &liveness{heard: map[string]heard{}, kick: make(chan struct{}, 1)}
}

func (s *Server) onLeadership(leader bool) {
	l := s.live
	if l == nil {
		return
	}
	l.mu.Lock()
	l.leader, l.since = leader, s.now()
	l.heard = map[string]heard{}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// alive says whether the leader counts node as alive, and when it last
// heard from it.
func (s *Server) alive(node string) (bool, time.Time) {
	if node == s.cfg.ID {
		return true, s.now()
	}
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.since
	if h, ok := l.heard[node]; ok && h.at.After(last) {
		last = h.at
	}
	return s.now().Sub(last) <= s.cfg.NodeTimeout, last
}

// leaderLoop runs the checks and placement on the leader until ctx ends.
func (s *Server) leaderLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.live.kick:
		}
		if !s.node.IsLeader() {
			continue
		}
		s.pollMembers(ctx)
		s.place(ctx)
	}
}

// pollMembers asks every other member for its status.
func (s *Server) pollMembers(ctx context.Context) {
	addrs := s.memberAddrs()
	var wg sync.WaitGroup
	for id, addr := range addrs {
		if id == s.cfg.ID {
			continue
		}
		wg.Go(func() {
			conn, err := s.peers.Conn(addr)
			if err != nil {
				return
			}
			cctx, cancel := context.WithTimeout(ctx, max(s.cfg.HeartbeatInterval, 500*time.Millisecond))
			defer cancel()
			resp, err := searchdv1.NewClusterServiceClient(conn).Status(cctx, &searchdv1.StatusRequest{})
			if err != nil {
				return
			}
			s.live.mu.Lock()
			s.live.heard[id] = heard{at: s.now(), httpAddr: resp.GetHttpAddr()}
			s.live.mu.Unlock()
		})
	}
	wg.Wait()
}

// place applies the placement rules to every shard of every index.
func (s *Server) place(ctx context.Context) {
	ixs, err := s.meta.Indexes()
	if err != nil {
		return
	}
	nodes := sortedKeys(s.memberAddrs())
	load := map[string]int{}
	for _, ix := range ixs {
		for _, cs := range ix.Copies {
			for _, c := range cs {
				load[c.Node]++
			}
		}
	}
	for _, ix := range ixs {
		for shard, cs := range ix.Copies {
			if ctx.Err() != nil {
				return
			}
			s.placeShard(ctx, ix, shard, cs, nodes, load)
		}
	}
}

func (s *Server) placeShard(ctx context.Context, ix *meta.Index, shard int, cs []meta.Copy, nodes []string, load map[string]int) {
	do := func(cmd *meta.Command, what string) bool {
		if _, err := s.proposeAsLeader(ctx, cmd); err != nil {
			s.logger.Info("placement: "+what, "index", ix.Name, "shard", shard, "node", cmd.Node, "err", err)
			return false
		}
		s.logger.Info("placement: "+what, "index", ix.Name, "shard", shard, "node", cmd.Node)
		return true
	}
	live, started := 0, 0
	for _, c := range cs {
		up, _ := s.alive(c.Node)
		switch {
		case c.State != meta.Lost && !up:
			do(meta.SetCopyState(ix.Name, ix.UUID, shard, c.Node, c.AllocID, meta.Lost), "copy lost")
			return // act on the new state next round
		case c.State == meta.Lost && up:
			do(meta.RemoveCopy(ix.Name, ix.UUID, shard, c.Node, c.AllocID), "lost copy back, removed")
			return
		case c.State != meta.Lost:
			live++
			if c.State == meta.Started {
				started++
			}
		}
	}
	want := 1 + ix.Replicas
	if live < want {
		var candidates []string
		for _, n := range nodes {
			if _, has := ix.CopyOn(shard, n); has {
				continue
			}
			if up, _ := s.alive(n); up {
				candidates = append(candidates, n)
			}
		}
		if len(candidates) == 0 {
			return
		}
		sort.SliceStable(candidates, func(i, j int) bool { return load[candidates[i]] < load[candidates[j]] })
		if do(meta.AddCopy(ix.Name, ix.UUID, shard, candidates[0]), "new copy") {
			load[candidates[0]]++
		}
		return
	}
	if started >= want {
		for _, c := range cs {
			if c.State == meta.Lost {
				do(meta.RemoveCopy(ix.Name, ix.UUID, shard, c.Node, c.AllocID), "replaced copy removed")
				return
			}
		}
	}
}

// nodeInfos lists the members with the leader's liveness (alive is only
// known on the leader; elsewhere every member counts as alive).
func (s *Server) nodeInfos() []*searchdv1.NodeInfo {
	addrs := s.memberAddrs()
	copies := map[string]int32{}
	if ixs, err := s.meta.Indexes(); err == nil {
		for _, ix := range ixs {
			for _, cs := range ix.Copies {
				for _, c := range cs {
					if c.State != meta.Lost {
						copies[c.Node]++
					}
				}
			}
		}
	}
	leader := s.node.IsLeader()
	var out []*searchdv1.NodeInfo
	for _, id := range sortedKeys(addrs) {
		ni := &searchdv1.NodeInfo{Id: id, Address: addrs[id], Alive: true, Copies: copies[id]}
		if id == s.cfg.ID {
			ni.HttpAddr = s.HTTPAddr()
		}
		if leader {
			up, last := s.alive(id)
			ni.Alive = up
			ni.LastHeartbeat = timestamppb.New(last)
			s.live.mu.Lock()
			if h, ok := s.live.heard[id]; ok && ni.HttpAddr == "" {
				ni.HttpAddr = h.httpAddr
			}
			s.live.mu.Unlock()
		}
		out = append(out, ni)
	}
	return out
}
