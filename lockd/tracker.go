package lockd

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
)

// tracker keeps session deadlines on the leader and proposes, through the log,
// the expiry of sessions whose deadline passed and the end of lock delays whose
// time came. Only the leader's clock decides: the entries carry the leader's
// wall clock, so every replica applies the same expiry at the same index.
//
// Deadlines live only in the leader's memory. When a node becomes leader it gives
// every session a full TTL from that moment: a leader change can extend a
// session's life, never shorten it. Keep-alives reach the leader (followers relay
// them) and push a deadline a full TTL forward.
type tracker struct {
	m      *machine
	logger *slog.Logger
	now    func() time.Time
	wakeup chan struct{} // a lock delay was set: look at delays soon
	// raftLeader reports whether Raft still names this node leader; checked right
	// before proposing, so a deposed leader that has not been told yet does not
	// propose expiries from its stale deadlines (and proposals go through
	// ApplyAsLeader, which never forwards).
	raftLeader func() bool

	mu       sync.Mutex // protects the fields below; taken after machine.mu
	leader   bool
	deadline map[uint64]time.Time
	ttl      map[uint64]time.Duration
}

func newTracker(m *machine, logger *slog.Logger, now func() time.Time) *tracker {
	t := &tracker{m: m, logger: logger, now: now, wakeup: make(chan struct{}, 1),
		deadline: map[uint64]time.Time{}, ttl: map[uint64]time.Duration{}}
	m.tracker = t
	return t
}

// setLeader is called (from raftnode's leadership goroutine) when this node gains
// or loses leadership.
func (t *tracker) setLeader(leader bool) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.leader = leader
	t.deadline = map[uint64]time.Time{}
	t.ttl = map[uint64]time.Duration{}
	if leader {
		t.loadLocked(t.m.st)
	}
}

// reloadLocked re-reads the sessions after a restore; machine.mu is held.
func (t *tracker) reloadLocked(st *state) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.leader {
		t.loadLocked(st)
	}
}

func (t *tracker) loadLocked(st *state) {
	now := t.now()
	for id := range t.deadline {
		if st.Sessions[id] == nil {
			delete(t.deadline, id)
			delete(t.ttl, id)
		}
	}
	for id, s := range st.Sessions {
		ttl := time.Duration(s.TTLms) * time.Millisecond
		t.ttl[id] = ttl
		if _, ok := t.deadline[id]; !ok {
			t.deadline[id] = now.Add(ttl)
		}
	}
}

// observeLocked learns of created and ended sessions; machine.mu is held.
func (t *tracker) observeLocked(fx *effects) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range fx.removed {
		delete(t.deadline, id)
		delete(t.ttl, id)
	}
	if !t.leader {
		return
	}
	now := t.now()
	for _, s := range fx.created {
		ttl := time.Duration(s.TTLms) * time.Millisecond
		t.ttl[s.ID] = ttl
		t.deadline[s.ID] = now.Add(ttl)
	}
}

// kick asks the run loop to look at lock delays soon.
func (t *tracker) kick() {
	select {
	case t.wakeup <- struct{}{}:
	default:
	}
}

// renew pushes a session's deadline a full TTL forward and returns the TTL. ok is
// false when this node does not lead; err is ErrSessionNotFound for an unknown
// session.
func (t *tracker) renew(id uint64) (ttl time.Duration, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.leader {
		return 0, false, nil
	}
	ttl, found := t.ttl[id]
	if !found {
		return 0, true, ErrSessionNotFound
	}
	t.deadline[id] = t.now().Add(ttl)
	return ttl, true, nil
}

// remaining reports a session's time left and TTL; ok is false on a follower.
func (t *tracker) remaining(id uint64) (left, ttl time.Duration, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.leader {
		return 0, 0, false, nil
	}
	d, found := t.deadline[id]
	if !found {
		return 0, 0, true, ErrSessionNotFound
	}
	return max(d.Sub(t.now()), 0), t.ttl[id], true, nil
}

// expired returns up to max sessions whose deadline has passed, oldest id first.
func (t *tracker) expired(max int) []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.leader {
		return nil
	}
	now := t.now()
	var ids []uint64
	for id, d := range t.deadline {
		if now.After(d) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > max {
		ids = ids[:max]
	}
	return ids
}

func (t *tracker) isLeader() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leader
}

// proposer commits a command; Server.propose.
type proposer func(context.Context, *lockdraftv1.Command) (*lockdraftv1.CommandResult, error)

// run proposes session expiries and lock-delay ends every tick until ctx ends.
func (t *tracker) run(ctx context.Context, tick time.Duration, propose proposer) {
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-t.wakeup:
		}
		if !t.isLeader() || (t.raftLeader != nil && !t.raftLeader()) {
			continue
		}
		if ids := t.expired(1000); len(ids) > 0 {
			t.proposeOnce(ctx, propose, &lockdraftv1.Command{Op: &lockdraftv1.Command_ExpireSessions{ExpireSessions: &lockdraftv1.ExpireSessionsOp{SessionIds: ids}}}, "session expiry", len(ids))
		}
		var due []string
		now := t.now().UnixNano()
		t.m.view(func(st *state) { due = st.dueDelays(now, 1000) })
		if len(due) > 0 {
			t.proposeOnce(ctx, propose, &lockdraftv1.Command{Op: &lockdraftv1.Command_EndLockDelay{EndLockDelay: &lockdraftv1.EndLockDelayOp{Names: due}}}, "lock delay end", len(due))
		}
	}
}

func (t *tracker) proposeOnce(ctx context.Context, propose proposer, cmd *lockdraftv1.Command, what string, n int) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := propose(pctx, cmd); err != nil {
		t.logger.Warn("proposing "+what+" failed; will retry", "count", n, "err", err)
		return
	}
	t.logger.Debug(what+" committed", "count", n)
}
