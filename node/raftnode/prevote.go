package raftnode

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// watchContact runs raft's heartbeat check on a follower at its last contact
// with the leader plus HeartbeatTimeout plus a jitter drawn uniformly from
// [0, HeartbeatTimeout/4) for every new last contact, instead of leaving it to
// raft's timer alone, which fires every HeartbeatTimeout to
// 2*HeartbeatTimeout: with the timer a dead leader was noticed one to three
// timeouts after its last message, with the watch within 1 to 1.25. The
// jitter keeps the followers from campaigning at the same instant (which
// would split the vote); the pre-vote check (preVoteCheck) brings the second
// follower in right after the first. Safe for the same reason as that check:
// it runs raft's own test, which passes only after a whole heartbeat timeout
// without contact. It returns when the node stops.
func (n *Node) watchContact() {
	hb := n.cfg.HeartbeatTimeout
	tick := time.NewTicker(max(hb/50, 5*time.Millisecond))
	defer tick.Stop()
	var armedFor, due time.Time // the last contact the jitter was drawn for, and when to check
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
		}
		if n.raft.State() != raft.Follower || !n.knowsLeader() {
			armedFor = time.Time{}
			continue
		}
		lc := n.raft.LastContact()
		if !lc.Equal(armedFor) {
			armedFor = lc
			due = lc.Add(hb + rand.N(hb/4+1))
		}
		if time.Now().After(due) {
			n.pokeHeartbeatTimer()
			due = time.Now().Add(hb) // raft campaigns now, or heard from the leader meanwhile
		}
	}
}

// preVoteCheck makes a follower that refused a pre-vote because it knows a
// leader check its own contact with that leader as soon as the contact could
// be a heartbeat timeout old, instead of at its next heartbeat tick.
//
// Why. hashicorp/raft refuses a pre-vote (and a vote) while it knows a leader,
// and a follower forgets its leader only when its heartbeat timer fires and
// finds no contact for HeartbeatTimeout; the timer fires every
// HeartbeatTimeout to 2*HeartbeatTimeout. When the leader dies, the first
// follower to notice asks the other for a pre-vote and is refused until the
// other's own timer fires, up to two heartbeat timeouts later, and then waits
// out its election timer before asking again; elections after a leader kill
// took 1.4 to 2.7 s. With the check, the other follower runs raft's own test
// (no contact for HeartbeatTimeout) at the moment it can first succeed, then
// campaigns itself, and the first candidate grants it the pre-vote: the group
// has a new leader a round trip after the second follower's contact ran out.
//
// The check runs only after the refusal was sent. Had it run before, the
// follower could become a candidate first and grant the pre-vote, and both
// candidates, each with a pre-vote quorum, would vote for themselves in the
// same term: a split vote, and an election timeout more (seen in the failover
// scenario). After a refusal the first candidate waits for its election
// timer, and grants the second one's pre-vote and vote meanwhile.
//
// Why it is safe. The check is raft's heartbeat check, run earlier than its
// randomized timer would run it; it passes only when this follower, too, has
// not heard from the leader for a whole heartbeat timeout, exactly as when
// the timer fires. A candidate cut off from a healthy leader therefore still
// cannot disturb it: the asked follower hears from the leader and the check
// does nothing. Raft's safety does not depend on timers at all.
type preVoteCheck struct {
	n *Node

	mu    sync.Mutex  // protects timer and due
	timer *time.Timer // the pending check, if any
	due   time.Time
}

// asked is called (on the gRPC handler's goroutine) when raft has refused a
// pre-vote request.
func (c *preVoteCheck) asked() {
	n := c.n
	if !n.running.Load() || n.raft.State() != raft.Follower || !n.knowsLeader() {
		return // raft answers on the merits of the request
	}
	due := n.raft.LastContact().Add(n.cfg.HeartbeatTimeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil && !c.due.After(due) {
		return // an earlier check is pending
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.due = due
	c.timer = time.AfterFunc(max(time.Until(due), 0)+time.Millisecond, func() { n.goFunc(c.check) })
}

// check runs raft's heartbeat check now, if this member is still a follower
// that has not heard from its leader for a heartbeat timeout.
func (c *preVoteCheck) check() {
	c.mu.Lock()
	c.timer = nil
	c.mu.Unlock()
	n := c.n
	if n.checkOpen() != nil || n.raft.State() != raft.Follower ||
		time.Since(n.raft.LastContact()) < n.cfg.HeartbeatTimeout {
		return
	}
	n.pokeHeartbeatTimer()
}

// pokeHeartbeatTimer makes a follower's raft run its heartbeat check at once.
// hashicorp/raft offers no call for it; lowering the heartbeat timeout through
// ReloadConfig does it (a follower then re-arms its timer to fire now), so the
// timeout is lowered by a nanosecond and put back. Both values pass raft's
// validation because Validate keeps LeaderLeaseTimeout below
// HeartbeatTimeout.
func (n *Node) pokeHeartbeatTimer() {
	n.reloadMu.Lock()
	defer n.reloadMu.Unlock()
	rc := n.raft.ReloadableConfig()
	orig := rc
	rc.HeartbeatTimeout--
	if err := n.raft.ReloadConfig(rc); err != nil {
		n.logger.Warn("pre-vote check: reload config", "err", err)
		return
	}
	if err := n.raft.ReloadConfig(orig); err != nil {
		n.logger.Error("pre-vote check: restore config", "err", err)
	}
}

// stop cancels a pending check.
func (c *preVoteCheck) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
