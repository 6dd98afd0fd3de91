package group

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// JoinRequest asks to join a group, or to join it again.
type JoinRequest struct {
	Group string
	// MemberID is empty on a first join: the result names the new member.
	// A MemberID the group does not know gets ErrUnknownMember.
	MemberID string
	// ClientID is a label for humans; it prefixes a new member's id.
	ClientID string
	// Topics the member consumes: at least one; duplicates are ignored.
	Topics []string
	// SessionTimeout: the member is removed when neither Heartbeat, Join
	// nor CheckCommit comes within it. 0 means DefaultSessionTimeout.
	SessionTimeout time.Duration
	// RebalanceTimeout: how long a rebalance waits for the member to join
	// again; 0 means the session timeout.
	RebalanceTimeout time.Duration
	// Assignor must be the group's (that of its other members).
	Assignor Assignor
}

// JoinResult is a member's view of a completed rebalance.
type JoinResult struct {
	MemberID   string
	Generation int64
	// Assignment is the member's partitions, sorted; the caller owns it.
	Assignment []TopicPartition
	// Members is the number of members in the generation.
	Members int
}

// Join adds a member to a group, or re-joins one, and returns once the
// group's rebalance completes, with the member's generation and partitions.
//
// A new member (empty MemberID), a member whose topics or assignor changed,
// starts a rebalance if none is in progress. A member of a Stable group that
// joins again with the same topics and assignor gets its current generation
// and assignment back at once. Otherwise Join waits until every member has a
// Join waiting or the rebalance timeout passes (see Tick). When ctx ends
// first, Join returns ctx.Err() and its member stops counting as waiting; it
// stays in the group until its session ends or the rebalance times out.
// Join returns ErrUnknownMember when the member was removed meanwhile (it
// left, or a Join by the same member gave up and the timeout removed it),
// and ErrClosed when the Coordinator closes.
func (c *Coordinator) Join(ctx context.Context, req JoinRequest) (JoinResult, error) {
	if err := ctx.Err(); err != nil {
		return JoinResult{}, err
	}
	topics, err := c.validateJoin(&req)
	if err != nil {
		return JoinResult{}, err
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return JoinResult{}, ErrClosed
	}
	now := c.opts.Now()
	g := c.groups[req.Group]
	var m *member
	if req.MemberID == "" {
		switch {
		case g == nil && len(c.groups) >= c.opts.MaxGroups:
			c.mu.Unlock()
			return JoinResult{}, fmt.Errorf("%w: %d groups have members, the limit (max_groups) is %d",
				ErrLimit, len(c.groups), c.opts.MaxGroups)
		case g != nil && len(g.members) >= c.opts.MaxMembersPerGroup:
			c.mu.Unlock()
			return JoinResult{}, fmt.Errorf("%w: group %q has %d members, the limit (max_members_per_group) is %d",
				ErrLimit, req.Group, len(g.members), c.opts.MaxMembersPerGroup)
		case g != nil && g.assignor != req.Assignor:
			c.mu.Unlock()
			return JoinResult{}, fmt.Errorf("%w: group %q uses %v, the join asked for %v",
				ErrAssignorMismatch, req.Group, g.assignor, req.Assignor)
		}
		if g == nil {
			g = &group{name: req.Group, generation: c.genFloor, assignor: req.Assignor, members: map[string]*member{}}
			c.groups[req.Group] = g
		}
		c.seq++
		m = &member{id: c.memberID(req.ClientID)}
		g.members[m.id] = m
		m.update(&req, topics, now)
		c.prepare(g, now, "member joined", "member", m.id)
	} else {
		if g != nil {
			m = g.members[req.MemberID]
		}
		if m == nil {
			c.mu.Unlock()
			return JoinResult{}, fmt.Errorf("%w: group %q has no member %q: join with an empty member id",
				ErrUnknownMember, req.Group, req.MemberID)
		}
		assignorChanged := g.assignor != req.Assignor
		if assignorChanged && len(g.members) > 1 {
			c.mu.Unlock()
			return JoinResult{}, fmt.Errorf("%w: group %q uses %v, the join asked for %v",
				ErrAssignorMismatch, req.Group, g.assignor, req.Assignor)
		}
		g.assignor = req.Assignor
		topicsChanged := !slices.Equal(m.topics, topics)
		m.update(&req, topics, now)
		switch {
		case topicsChanged || assignorChanged:
			c.prepare(g, now, "member changed its topics or assignor", "member", m.id)
		case g.state == StateStable:
			res := g.result(m)
			res.Assignment = slices.Clone(res.Assignment)
			c.mu.Unlock()
			return res, nil
		}
	}
	r := g.round
	m.waiting++
	c.stats.JoinsWaited++
	c.maybeComplete(g, now)
	c.mu.Unlock()

	select {
	case <-r.done:
	case <-c.done:
		return JoinResult{}, ErrClosed
	case <-ctx.Done():
		c.mu.Lock()
		if !r.completed {
			if cur := g.members[m.id]; cur == m && g.round == r && m.waiting > 0 {
				m.waiting--
			}
			c.mu.Unlock()
			return JoinResult{}, ctx.Err()
		}
		c.mu.Unlock()
	}
	res, ok := r.results[m.id]
	if !ok {
		return JoinResult{}, fmt.Errorf("%w: member %q was removed from group %q during the rebalance",
			ErrUnknownMember, m.id, req.Group)
	}
	res.Assignment = slices.Clone(res.Assignment)
	return res, nil
}

// validateJoin checks req, normalises its assignor and timeouts, and returns
// its topics sorted and unique.
func (c *Coordinator) validateJoin(req *JoinRequest) ([]string, error) {
	switch {
	case req.Group == "":
		return nil, fmt.Errorf("%w: group must be set", ErrInvalidArgument)
	case len(req.Topics) == 0:
		return nil, fmt.Errorf("%w: topics must name at least one topic", ErrInvalidArgument)
	case req.SessionTimeout < 0:
		return nil, fmt.Errorf("%w: session_timeout is %v, must not be negative", ErrInvalidArgument, req.SessionTimeout)
	case req.RebalanceTimeout < 0:
		return nil, fmt.Errorf("%w: rebalance_timeout is %v, must not be negative", ErrInvalidArgument, req.RebalanceTimeout)
	}
	a, ok := req.Assignor.normalize()
	if !ok {
		return nil, fmt.Errorf("%w: assignor %d is not one of range, round-robin, sticky", ErrInvalidArgument, int(req.Assignor))
	}
	req.Assignor = a
	if req.SessionTimeout == 0 {
		req.SessionTimeout = DefaultSessionTimeout
	}
	if req.RebalanceTimeout == 0 {
		req.RebalanceTimeout = req.SessionTimeout
	}
	topics := slices.Clone(req.Topics)
	slices.Sort(topics)
	topics = slices.Compact(topics)
	if topics[0] == "" {
		return nil, fmt.Errorf("%w: topics must not hold an empty name", ErrInvalidArgument)
	}
	if len(topics) > c.opts.MaxTopicsPerMember {
		return nil, fmt.Errorf("%w: topics names %d topics, the limit (max_topics_per_member) is %d",
			ErrLimit, len(topics), c.opts.MaxTopicsPerMember)
	}
	return topics, nil
}

// memberID returns a new member id: the client id (at most 64 bytes of it,
// "member" when empty), the Coordinator's nonce and a counter. Called with
// c.mu held after c.seq++.
func (c *Coordinator) memberID(clientID string) string {
	if clientID == "" {
		clientID = "member"
	}
	if len(clientID) > 64 {
		clientID = clientID[:64]
	}
	return fmt.Sprintf("%s-%s-%d", clientID, c.nonce, c.seq)
}

func (m *member) update(req *JoinRequest, topics []string, now time.Time) {
	m.clientID = req.ClientID
	m.topics = topics
	m.sessionTimeout = req.SessionTimeout
	m.rebalanceTimeout = req.RebalanceTimeout
	m.lastSeen = now
}

// Heartbeat keeps a member's session alive. It returns ErrUnknownMember for
// a member the group does not have, ErrRebalanceInProgress while the group
// rebalances (the member should commit and join again; the session is
// refreshed all the same) and ErrIllegalGeneration when generation is not
// the group's current one.
func (c *Coordinator) Heartbeat(groupName, memberID string, generation int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, m, err := c.lookup(groupName, memberID)
	if err != nil {
		return err
	}
	m.lastSeen = c.opts.Now()
	if g.state == StatePreparingRebalance {
		return fmt.Errorf("%w: group %q: join again", ErrRebalanceInProgress, groupName)
	}
	if generation != g.generation {
		return fmt.Errorf("%w: group %q is at generation %d, not %d: join again",
			ErrIllegalGeneration, groupName, g.generation, generation)
	}
	return nil
}

// Leave removes a member at once; the group rebalances (or is forgotten
// when it was the last member). A Join of the member still waiting returns
// ErrUnknownMember.
func (c *Coordinator) Leave(groupName, memberID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, _, err := c.lookup(groupName, memberID)
	if err != nil {
		return err
	}
	delete(g.members, memberID)
	c.stats.Left++
	c.log.Info("group: member left", "group", groupName, "member", memberID)
	c.membersGone(g, c.opts.Now(), "member left")
	return nil
}

// CheckCommit says whether a member may commit offsets of the partitions
// tps. With memberID "" the group must have no members (a standalone
// consumer), else ErrUnknownMember. Otherwise the member must be in the
// group (ErrUnknownMember), at its current generation — generation equal to
// the group's, whether Stable or rebalancing, and the member having
// completed it (ErrIllegalGeneration) — and own every partition
// (ErrNotAssigned). A check by a member refreshes its session.
func (c *Coordinator) CheckCommit(groupName, memberID string, generation int64, tps []TopicPartition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if memberID == "" {
		if g := c.groups[groupName]; g != nil {
			return fmt.Errorf("%w: group %q has %d members; a commit must name one",
				ErrUnknownMember, groupName, len(g.members))
		}
		return nil
	}
	g, m, err := c.lookup(groupName, memberID)
	if err != nil {
		return err
	}
	m.lastSeen = c.opts.Now()
	if generation != g.generation || m.generation != g.generation {
		return fmt.Errorf("%w: group %q is at generation %d, member %q at %d, the commit names %d",
			ErrIllegalGeneration, groupName, g.generation, memberID, m.generation, generation)
	}
	for _, tp := range tps {
		if !slices.Contains(m.assignment, tp) {
			return fmt.Errorf("%w: %v in group %q generation %d", ErrNotAssigned, tp, groupName, generation)
		}
	}
	return nil
}

// lookup finds a member. Called with c.mu held.
func (c *Coordinator) lookup(groupName, memberID string) (*group, *member, error) {
	if c.closed {
		return nil, nil, ErrClosed
	}
	g := c.groups[groupName]
	if g != nil {
		if m := g.members[memberID]; m != nil {
			return g, m, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: group %q has no member %q", ErrUnknownMember, groupName, memberID)
}

// The transitions below are called with c.mu held.

// prepare moves g to PreparingRebalance unless it is there already.
func (c *Coordinator) prepare(g *group, now time.Time, reason string, attrs ...any) {
	if g.state == StatePreparingRebalance {
		return
	}
	g.state = StatePreparingRebalance
	g.round = &round{done: make(chan struct{})}
	g.rebalanceStart = now
	c.log.Info("group: rebalance started", append([]any{"group", g.name, "reason", reason,
		"generation", g.generation, "members", len(g.members)}, attrs...)...)
}

// membersGone follows the removal of members from g: a group left without
// members is forgotten; otherwise it rebalances, completing at once if
// every remaining member is waiting.
func (c *Coordinator) membersGone(g *group, now time.Time, reason string) {
	if len(g.members) == 0 {
		c.forget(g)
		return
	}
	c.prepare(g, now, reason)
	c.maybeComplete(g, now)
}

// maybeComplete completes g's rebalance when every member has a Join
// waiting.
func (c *Coordinator) maybeComplete(g *group, now time.Time) {
	if g.state != StatePreparingRebalance || len(g.members) == 0 {
		return
	}
	for _, m := range g.members {
		if m.waiting == 0 {
			return
		}
	}
	c.complete(g, now)
}

// complete ends g's rebalance: the next generation, a new assignment over
// the current members, every waiting Join released.
func (c *Coordinator) complete(g *group, now time.Time) {
	g.generation++
	g.completedOnce = true
	g.counts = g.partitionCounts(c.opts.Partitions)
	subs := make([]Subscription, 0, len(g.members))
	for _, m := range g.members {
		subs = append(subs, Subscription{MemberID: m.id, Topics: m.topics, Previous: m.assignment})
	}
	assignment := Assign(g.assignor, subs, g.counts)
	r := g.round
	r.results = make(map[string]JoinResult, len(g.members))
	for id, m := range g.members {
		m.assignment = assignment[id]
		m.generation = g.generation
		m.lastSeen = now
		m.waiting = 0
		r.results[id] = g.result(m)
	}
	r.completed = true
	close(r.done)
	g.round = nil
	g.state = StateStable
	c.stats.Rebalances++
	c.log.Info("group: rebalance completed", "group", g.name, "generation", g.generation,
		"members", len(g.members), "assignor", g.assignor)
}

// forget drops a group without members, releasing any Join still waiting
// (with ErrUnknownMember), and raises genFloor to its generation.
func (c *Coordinator) forget(g *group) {
	if r := g.round; r != nil && !r.completed {
		r.completed = true
		close(r.done)
	}
	c.genFloor = max(c.genFloor, g.generation)
	delete(c.groups, g.name)
	c.log.Info("group: group empty", "group", g.name, "generation", g.generation)
}

// result is m's JoinResult in g's current generation; its Assignment is
// shared with m.
func (g *group) result(m *member) JoinResult {
	return JoinResult{MemberID: m.id, Generation: g.generation, Assignment: m.assignment, Members: len(g.members)}
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// partitionCounts returns the partition count of every topic of g's members.
func (g *group) partitionCounts(partitions func(string) int) map[string]int {
	counts := map[string]int{}
	for _, m := range g.members {
		for _, t := range m.topics {
			if _, ok := counts[t]; !ok {
				counts[t] = max(partitions(t), 0)
			}
		}
	}
	return counts
}
