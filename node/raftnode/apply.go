package raftnode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// Apply commits cmd through the log and returns the state machine's result for it.
// On a follower the command is forwarded to the leader. Apply returns only after
// the entry is committed and applied on the leader, or fails with:
//   - ErrNoLeader: this member found no leader it could reach within
//     Config.LeaderWait (or before the deadline); cmd was not applied.
//   - ErrNoQuorum: this member leads but heard from no quorum within
//     Config.LeaderWait; cmd was not applied.
//   - ErrUnknownOutcome: cmd was proposed (or sent to the leader) but its commit
//     was not confirmed; it may or may not be applied.
//   - ErrShutdown: the node is closing; cmd was not applied.
//
// A member only proposes while a quorum has answered it lately, and only
// forwards to a leader it has heard from lately, so a member cut off from the
// majority fails with a definite error rather than an unknown outcome, except
// for commands that arrive within moments of the cut.
//
// A command is never acknowledged unless it was committed by a quorum.
func (n *Node) Apply(ctx context.Context, cmd []byte) ([]byte, error) {
	ctx, cancel := n.bounded(ctx)
	defer cancel()
	until := time.Now().Add(n.cfg.LeaderWait)
	for {
		if err := n.checkOpen(); err != nil {
			return nil, err
		}
		if err := n.awaitRoute(ctx, until); err != nil {
			return nil, err
		}
		if n.IsLeader() {
			res, err := n.applyLocal(ctx, cmd)
			if !errors.Is(err, ErrNotLeader) {
				return res, err
			}
		} else {
			res, err := n.forwardApply(ctx, cmd)
			if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
				return res, err
			}
		}
		// Not applied: wait for a (new) leader and try again.
		if err := n.pauseForLeader(ctx); err != nil {
			return nil, err
		}
	}
}

// contactWindow is how recently a peer must have answered for a member to count
// on it: the leader proposes only while a quorum answered within it, and a
// follower forwards only while the leader's last message is that recent. An
// idle leader sends every follower an append every CommitTimeout to
// 2*CommitTimeout, so on a healthy group contact is never older than that plus
// a round trip.
func (n *Node) contactWindow() time.Duration {
	return max(4*n.cfg.CommitTimeout, 20*time.Millisecond)
}

// quorumContact reports whether, counting itself, a quorum of the voters
// answered this node's appends within the contact window.
func (n *Node) quorumContact() bool {
	return time.Since(n.quorumContactAt()) <= n.contactWindow()
}

// quorumContactAt is when, counting this node as answering now, a quorum of
// the voters had last answered its appends: the quorum-th most recent answer.
// It is the zero time when the configuration cannot be read or has no voters.
func (n *Node) quorumContactAt() time.Time {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return time.Time{}
	}
	var contacts []time.Time
	for _, s := range f.Configuration().Servers {
		switch {
		case s.Suffrage != raft.Voter:
		case string(s.ID) == n.cfg.ID:
			contacts = append(contacts, time.Now())
		default:
			contacts = append(contacts, n.transport.LastContact(s.Address))
		}
	}
	if len(contacts) == 0 {
		return time.Time{}
	}
	slices.SortFunc(contacts, func(a, b time.Time) int { return b.Compare(a) })
	return contacts[len(contacts)/2]
}

// leaderContact reports whether this follower knows a leader and heard from it
// within the contact window.
func (n *Node) leaderContact() bool {
	if id, _ := n.Leader(); id == "" || id == n.cfg.ID {
		return false
	}
	return time.Since(n.raft.LastContact()) <= n.contactWindow()
}

// cutOffAfter is how long a member may be out of touch (see routeLostAt)
// before it refuses at once instead of waiting out LeaderWait: longer than an
// ordinary election takes — one and a half heartbeat timeouts (a follower
// notices a dead leader within 1 to 1.25) or an election timeout, whichever
// is longer — and at least minCutOff, so that a member slowed down by a loaded
// machine (or run with test timeouts) is not taken for a cut-off one. A
// command that arrives during an ordinary election waits for the new leader
// here, and goes on as soon as there is one, instead of failing and making
// its client back off.
func (n *Node) cutOffAfter() time.Duration {
	return max(n.cfg.ElectionTimeout, 3*n.cfg.HeartbeatTimeout/2, minCutOff)
}

// minCutOff is the least time out of touch that counts as cut off.
const minCutOff = time.Second

// knowsLeader reports whether this member knows of a leader other than itself.
func (n *Node) knowsLeader() bool {
	id, _ := n.Leader()
	return id != "" && id != n.cfg.ID
}

// routeLostAt is when this member last had a route for commands: as leader,
// the time by which a quorum of voters (counting itself) had last answered its
// appends; otherwise when it last heard from a leader. It is never earlier
// than the node's start, so a member that has just started waits for its
// first leader (up to LeaderWait) instead of failing at once.
func (n *Node) routeLostAt() time.Time {
	at := n.raft.LastContact()
	if n.IsLeader() {
		at = n.quorumContactAt()
	}
	if started := time.Unix(0, n.startedAt.Load()); at.Before(started) {
		at = started
	}
	return at
}

// awaitRoute waits until this node may act on a command: as a leader that a
// quorum answered lately, or as a follower in touch with its leader. It fails
// with a definite error when until (or ctx) passes first: ErrNoQuorum on a
// leader, ErrNoLeader otherwise.
func (n *Node) awaitRoute(ctx context.Context, until time.Time) error {
	var tick *time.Ticker
	for {
		leader := n.IsLeader()
		if leader && n.quorumContact() || !leader && n.leaderContact() {
			return nil
		}
		var cause error
		switch {
		case time.Now().After(until):
			cause = fmt.Errorf("none within %v (leader_wait)", n.cfg.LeaderWait)
		case ctx.Err() != nil:
			cause = ctx.Err()
		default:
			// Cut off for longer than an election takes, knowing no leader to
			// wait for (or, as leader, with no quorum answering): the rest of
			// the group has moved on without this member (or has no quorum
			// either), and waiting here would only hold the client back from
			// a member that can answer. Fail now; the error is definite.
			if lost := time.Since(n.routeLostAt()); lost > n.cutOffAfter() && (leader || !n.knowsLeader()) {
				cause = fmt.Errorf("cut off for %v (longer than %v)", lost.Round(time.Millisecond), n.cutOffAfter())
			}
		}
		if cause != nil {
			if leader {
				return fmt.Errorf("%w: no answer from a quorum of voters in the last %v: %w", ErrNoQuorum, n.contactWindow(), cause)
			}
			if id, _ := n.Leader(); id != "" {
				return fmt.Errorf("%w: leader %s not heard from since %v: %w", ErrNoLeader, id, n.raft.LastContact().Format(time.RFC3339Nano), cause)
			}
			return fmt.Errorf("%w: %w", ErrNoLeader, cause)
		}
		if tick == nil {
			tick = time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
		case <-n.stop:
			return ErrShutdown
		case <-tick.C:
		}
	}
}

// ApplyAll commits cmds in order and returns a result and an error for each,
// as Apply does for one command. On the leader they are proposed together, so
// they are usually written with one fsync and sent in one message; use it to
// let commands that need not go first ride with one that must go now. A command
// the leader refused because it stopped leading before proposing it, and every
// command on a follower, goes through Apply one by one, in order.
func (n *Node) ApplyAll(ctx context.Context, cmds [][]byte) ([][]byte, []error) {
	res := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	for i := range errs {
		errs[i] = ErrNotLeader
	}
	if n.IsLeader() && n.checkOpen() == nil {
		bctx, cancel := n.bounded(ctx)
		res, errs = n.applyAllLocal(bctx, cmds)
		cancel()
	}
	for i, cmd := range cmds {
		if errors.Is(errs[i], ErrNotLeader) {
			res[i], errs[i] = n.Apply(ctx, cmd)
		}
	}
	return res, errs
}

// ApplyAsLeader commits cmd only if this node leads; it never forwards. Use it for
// commands computed from leader-only state (lease and session deadlines): a
// deposed leader must not hand its stale view to its successor. It fails with
// ErrNotLeader on a follower.
func (n *Node) ApplyAsLeader(ctx context.Context, cmd []byte) ([]byte, error) {
	ctx, cancel := n.bounded(ctx)
	defer cancel()
	if !n.IsLeader() {
		return nil, n.notLeader()
	}
	return n.applyLocal(ctx, cmd)
}

// bounded limits an operation to Config.ApplyTimeout and ends it a little before
// the caller's own deadline, so that the caller receives this node's verdict (no
// leader, or outcome unknown) rather than its own DeadlineExceeded.
func (n *Node) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	d := n.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		margin := min(max(left/10, 20*time.Millisecond), 500*time.Millisecond)
		if left-margin < d {
			d = left - margin
		}
	}
	return context.WithTimeout(ctx, max(d, time.Millisecond))
}

// pauseForLeader waits a moment for leadership to settle, failing with ErrNoLeader
// when ctx ends first.
func (n *Node) pauseForLeader(ctx context.Context) error {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
	case <-n.stop:
		return ErrShutdown
	case <-t.C:
		return nil
	}
}

func (n *Node) checkOpen() error {
	select {
	case <-n.stop:
		return ErrShutdown
	default:
		return nil
	}
}

// applyTimeout is the enqueue timeout for raft: the earlier of ctx's deadline and
// Config.ApplyTimeout.
func (n *Node) applyTimeout(ctx context.Context) time.Duration {
	d := n.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d = left
		}
	}
	if d <= 0 {
		d = time.Millisecond
	}
	return d
}

// applyLocal proposes cmd on the leader once a quorum has answered lately (see
// awaitQuorum) and waits for its result.
func (n *Node) applyLocal(ctx context.Context, cmd []byte) ([]byte, error) {
	if err := n.awaitQuorum(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := n.futureResult(n.raft.Apply(cmd, n.applyTimeout(ctx)))
	if err == nil {
		observe(n.metrics.proposeDuration, start)
	}
	return res, err
}

// awaitQuorum confirms, before anything is proposed, that a quorum still
// follows this leader. It returns nil at once when a quorum (counting this
// node) answered its appends within the quorum lease (see quorumLease), which
// on a healthy group is always the case: an idle leader sends every follower
// an append every CommitTimeout to 2*CommitTimeout. Otherwise it waits for a
// quorum to answer an append sent after the call began (through a shared
// VerifyLeader round), and fails with ErrNoQuorum (wrapping the cause; nothing
// proposed) when that does not happen within Config.LeaderWait and ctx.
//
// A leader cut off from the majority keeps leading until its Raft lease runs
// out, and whatever it proposed meanwhile ends with an unknown outcome;
// confirming first makes its answer definite, except for commands that arrive
// within the quorum lease after the cut.
func (n *Node) awaitQuorum(ctx context.Context) error {
	if time.Since(n.quorumContactAt()) <= n.quorumLease() {
		return nil
	}
	vctx, cancel := context.WithTimeout(ctx, n.cfg.LeaderWait)
	defer cancel()
	if err := n.verifier.verify(vctx); err != nil {
		if errors.Is(err, ErrShutdown) {
			return err
		}
		return fmt.Errorf("%w: leadership not confirmed by a quorum: %w", ErrNoQuorum, err)
	}
	return nil
}

// quorumLease is how recent a quorum's answers must be for the leader to
// propose without asking again: the contact window (20 ms by default).
//
// Why this is safe. What the pre-proposal check promises is only that a
// leader cut off from the majority refuses with a definite NO_QUORUM instead
// of proposing a command whose outcome it can then never learn; that an
// acknowledged command is committed (and linearizable) is Raft's commit rule,
// which the check does not touch: nothing is acknowledged before a quorum has
// appended it, whatever the check said. With the lease, a leader cut off at
// time t still proposes the commands that arrive before t + quorumLease (and
// they end with an unknown outcome, as they would have without any check);
// every later one is refused, definitely, with nothing proposed. A follower
// that stopped or crashed closes its connection, and a peer whose connection
// is not ready counts as silent at once (Transport.LastContact), so for those
// the window closes as soon as the leader sees the connection drop; the 20 ms
// are for a cut that drops packets silently. Without the
// lease the same exposure exists for the commands that arrived up to one
// round trip before the cut (their confirmation round was answered just
// before it), so the lease widens that window from a round trip to 20 ms —
// far below the election timeout (1 s) after which the rest of the group
// elects a new leader — and saves a lone writer one heartbeat round trip per
// write.
func (n *Node) quorumLease() time.Duration { return n.contactWindow() }

// InQuorumLease reports whether this node, as leader, would propose a command
// arriving now without a confirmation round: a quorum answered its appends
// within the quorum lease. Once it is false on a leader cut off from the
// majority, every command is refused with a definite ErrNoQuorum.
func (n *Node) InQuorumLease() bool {
	return n.IsLeader() && time.Since(n.quorumContactAt()) <= n.quorumLease()
}

// mapRaftError turns hashicorp/raft errors into this package's sentinels.
func mapRaftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrNoLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		// The command may have been appended and sent before the shutdown.
		return fmt.Errorf("%w: %w: %w", ErrUnknownOutcome, ErrShutdown, err)
	default:
		return err
	}
}

func (n *Node) leaderClient() (raftv1.RaftNodeServiceClient, error) {
	conn, err := n.LeaderConn()
	if err != nil {
		return nil, err
	}
	return raftv1.NewRaftNodeServiceClient(conn), nil
}

func (n *Node) forwardApply(ctx context.Context, cmd []byte) ([]byte, error) {
	return n.forwarder.apply(ctx, cmd)
}

// LeaderConn returns a client connection to the current leader, for daemons that
// forward a whole RPC (such as a stream) rather than a command. It fails with
// ErrNoLeader when no leader is known, and with ErrNotLeader when this node is
// named leader (callers serve locally when IsLeader is true).
func (n *Node) LeaderConn() (*grpc.ClientConn, error) {
	id, addr := n.Leader()
	if id == "" || addr == "" {
		return nil, ErrNoLeader
	}
	if id == n.cfg.ID {
		return nil, ErrNotLeader
	}
	conn, err := n.peers.get(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial leader %s: %w", ErrNoLeader, addr, err)
	}
	return conn, nil
}
