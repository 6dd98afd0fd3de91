package streamd

import (
	"context"
	"fmt"
	"sync"
	"time"

	streamdpeerv1 "cairn.dev/cairn/proto/cairn/streamd/peer/v1"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	"cairn.dev/cairn/streamd/group"
	"cairn.dev/cairn/streamd/meta"
)

// controller is the part of a node that acts only while it is the Raft
// leader of the controller group: it tracks the nodes' heartbeats, fences
// the silent ones (moving their partitions' leadership) and unfences the
// returning ones, moves leadership back to preferred replicas, and runs the
// consumer-group coordinator.
type controller struct {
	s *Server

	mu sync.Mutex
	// leader and since: whether this node is the Raft leader, since when.
	leader bool
	since  time.Time
	// heard is when each node last heartbeated (and whether it was ready).
	heard map[string]heartbeat
	// groups is the coordinator while this node leads, nil otherwise.
	groups *group.Coordinator
	// kick wakes the loop (leadership gained, a fenced node came back).
	kick chan struct{}
}

type heartbeat struct {
	at    time.Time
	ready bool
	addr  string
}

func newController(s *Server) *controller {
	return &controller{s: s, heard: map[string]heartbeat{}, kick: make(chan struct{}, 1)}
}

// onLeadership starts or stops the controller's duties. A new controller
// gives every node a full session to report before fencing it, and starts
// a fresh group coordinator (members join again).
func (c *controller) onLeadership(leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader = leader
	c.heard = map[string]heartbeat{}
	if c.groups != nil {
		c.groups.Close()
		c.groups = nil
	}
	if leader {
		c.since = c.s.now()
		groups, err := group.New(c.s.groupOptions())
		if err != nil {
			c.s.logger.Error("controller: group coordinator", "err", err)
		}
		c.groups = groups
		c.s.logger.Info("controller: leading")
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// coordinator returns the group coordinator, or ErrNotController.
func (c *controller) coordinator() (*group.Coordinator, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil {
		return nil, c.s.notController()
	}
	return c.groups, nil
}

// heartbeat records a node's report. A node not registered yet, at another
// address or in another incarnation (it restarted) is registered first —
// which fences a restarted node in the same entry. It returns the node's
// record after that.
func (c *controller) heartbeat(id, addr string, incarnation int64, ready bool) (*streamdraftv1.NodeRecord, error) {
	c.mu.Lock()
	if !c.leader {
		c.mu.Unlock()
		return nil, c.s.notController()
	}
	c.heard[id] = heartbeat{at: c.s.now(), ready: ready, addr: addr}
	c.mu.Unlock()
	n, err := c.s.meta.Node(id)
	if err != nil || n == nil || n.GetAddr() != addr || n.GetIncarnation() != incarnation {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.s.propose(ctx, meta.RegisterIncarnation(id, addr, incarnation)); err != nil {
			return nil, err
		}
		if n, err = c.s.meta.Node(id); err != nil {
			return nil, err
		}
		if n.GetFenced() {
			c.s.logger.Info("controller: a node (re)started; fenced until it is ready", "node", id, "incarnation", incarnation)
		}
	}
	if n.GetFenced() && ready {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// run is the controller loop: every heartbeat interval (or when kicked) it
// fences nodes silent for a session and unfences nodes heard again; it
// also runs preferred-leader elections and group session expiry.
func (c *controller) run(ctx context.Context) {
	s := c.s
	lastPreferred := s.now()
	for {
		if !s.sleep(ctx, c.kick, s.cfg.HeartbeatInterval) {
			return
		}
		c.mu.Lock()
		leader, since, groups := c.leader, c.since, c.groups
		heard := make(map[string]heartbeat, len(c.heard))
		for k, v := range c.heard {
			heard[k] = v
		}
		c.mu.Unlock()
		if !leader {
			continue
		}
		now := s.now()
		if groups != nil {
			groups.Tick(now)
		}
		c.checkNodes(ctx, now, since, heard)
		if iv := s.cfg.PreferredLeaderInterval; iv > 0 && now.Sub(lastPreferred) >= iv {
			lastPreferred = now
			c.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_ElectPreferredLeader{ElectPreferredLeader: &streamdraftv1.ElectPreferredLeaderOp{}}})
		}
	}
}

// checkNodes fences and unfences nodes by their heartbeats.
func (c *controller) checkNodes(ctx context.Context, now, since time.Time, heard map[string]heartbeat) {
	s := c.s
	nodes, err := s.meta.Nodes()
	if err != nil {
		return
	}
	for _, n := range nodes {
		h, ok := heard[n.GetId()]
		last := since
		if ok {
			last = h.at
		}
		silent := now.Sub(last) > s.cfg.SessionTimeout
		switch {
		case !n.GetFenced() && silent:
			s.logger.Warn("controller: fencing a silent node", "node", n.GetId(), "silent_for", now.Sub(last).Round(time.Millisecond))
			c.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_FenceNode{FenceNode: &streamdraftv1.FenceNodeOp{Id: n.GetId()}}})
		case n.GetFenced() && ok && !silent && h.ready:
			s.logger.Info("controller: unfencing a node heard again", "node", n.GetId())
			c.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_UnfenceNode{UnfenceNode: &streamdraftv1.UnfenceNodeOp{Id: n.GetId()}}})
		}
	}
}

// propose commits a controller command, logging a failure (the loop
// retries on its next round).
func (c *controller) propose(ctx context.Context, cmd *streamdraftv1.Command) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.s.propose(pctx, cmd); err != nil {
		c.s.logger.Warn("controller: proposal failed", "op", fmt.Sprintf("%T", cmd.GetOp()), "err", err)
	}
}

// controllerService receives the nodes' heartbeats.
type controllerService struct {
	streamdpeerv1.UnimplementedControllerServiceServer
	s *Server
}

func (cs *controllerService) NodeHeartbeat(ctx context.Context, req *streamdpeerv1.NodeHeartbeatRequest) (*streamdpeerv1.NodeHeartbeatResponse, error) {
	if req.GetNodeId() == "" || req.GetAddr() == "" {
		return nil, toStatus(invalid("node_id", "node_id and addr must be set"))
	}
	n, err := cs.s.ctrl.heartbeat(req.GetNodeId(), req.GetAddr(), req.GetIncarnation(), req.GetReady())
	if err != nil {
		return nil, toStatus(err)
	}
	return &streamdpeerv1.NodeHeartbeatResponse{Fenced: n.GetFenced(), RegisteredIncarnation: n.GetIncarnation()}, nil
}

// heartbeatLoop reports this node to the controller every heartbeat
// interval.
func (s *Server) heartbeatLoop(ctx context.Context) {
	addr := s.cfg.Settings.Advertise
	if addr == "" {
		addr = s.Addr()
	}
	for {
		s.sendHeartbeat(ctx, addr)
		if !s.sleep(ctx, nil, s.cfg.HeartbeatInterval) {
			return
		}
	}
}

func (s *Server) sendHeartbeat(ctx context.Context, addr string) {
	ready := s.ready.Load()
	var registered int64
	if s.node.IsLeader() {
		n, err := s.ctrl.heartbeat(s.cfg.ID, addr, s.incarnation, ready)
		if err != nil {
			s.logger.Debug("heartbeat to self", "err", err)
			return
		}
		registered = n.GetIncarnation()
	} else {
		conn, err := s.node.LeaderConn()
		if err != nil {
			return
		}
		hctx, cancel := context.WithTimeout(ctx, s.cfg.SessionTimeout)
		defer cancel()
		resp, err := streamdpeerv1.NewControllerServiceClient(conn).NodeHeartbeat(hctx, &streamdpeerv1.NodeHeartbeatRequest{NodeId: s.cfg.ID, Addr: addr, Ready: ready, Incarnation: s.incarnation})
		if err != nil {
			s.logger.Debug("heartbeat to the controller", "err", err)
			return
		}
		registered = resp.GetRegisteredIncarnation()
	}
	if registered == s.incarnation && !s.registered.Load() {
		s.registered.Store(true)
		select {
		case s.registeredKick <- struct{}{}:
		default:
		}
	}
}

// notController says who the controller is.
func (s *Server) notController() error {
	id, addr := s.node.Leader()
	return notControllerErr(id, addr)
}
