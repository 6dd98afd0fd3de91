package raftkv

import (
	"context"
	"log/slog"
	"sync"
	"time"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

// lessor tracks lease deadlines on the leader and proposes the revocation of expired
// leases through the log, so that every replica deletes the same keys at the same
// revision. Deadlines live only in the leader's memory: when a node becomes leader
// it gives every lease a full TTL from that moment (a leader change extends leases,
// never shortens them). Keep-alives reach the leader and push a deadline forward.
type lessor struct {
	store  *mvcc.Store
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex // protects the fields below
	leader   bool
	deadline map[int64]time.Time
	ttl      map[int64]int64
}

func newLessor(store *mvcc.Store, logger *slog.Logger) *lessor {
	return &lessor{store: store, logger: logger, now: time.Now, deadline: map[int64]time.Time{}, ttl: map[int64]int64{}}
}

// setLeader is called when this node gains or loses leadership.
func (l *lessor) setLeader(leader bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader = leader
	l.deadline = map[int64]time.Time{}
	l.ttl = map[int64]int64{}
	if leader {
		l.loadLocked()
	}
}

// reload re-reads the leases after the store was replaced by a snapshot.
func (l *lessor) reload() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leader {
		l.loadLocked()
	}
}

func (l *lessor) loadLocked() {
	now := l.now()
	seen := map[int64]bool{}
	for _, rec := range l.store.Leases() {
		seen[rec.GetId()] = true
		l.ttl[rec.GetId()] = rec.GetTtl()
		if _, ok := l.deadline[rec.GetId()]; !ok {
			l.deadline[rec.GetId()] = now.Add(time.Duration(rec.GetTtl()) * time.Second)
		}
	}
	for id := range l.deadline {
		if !seen[id] {
			delete(l.deadline, id)
			delete(l.ttl, id)
		}
	}
}

// observe is called by the state machine for every applied command and its result.
func (l *lessor) observe(cmd *raftkvraftv1.Command, res *raftkvraftv1.CommandResult) {
	if res.GetError() != "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch op := cmd.GetOp().(type) {
	case *raftkvraftv1.Command_LeaseGrant:
		if l.leader {
			id := res.GetLeaseGrant().GetId()
			l.ttl[id] = op.LeaseGrant.GetTtl()
			l.deadline[id] = l.now().Add(time.Duration(op.LeaseGrant.GetTtl()) * time.Second)
		}
	case *raftkvraftv1.Command_LeaseRevoke:
		delete(l.deadline, op.LeaseRevoke.GetId())
		delete(l.ttl, op.LeaseRevoke.GetId())
	case *raftkvraftv1.Command_LeaseExpire:
		for _, id := range op.LeaseExpire.GetIds() {
			delete(l.deadline, id)
			delete(l.ttl, id)
		}
	}
}

// renew pushes a lease's deadline a full TTL forward. It returns the TTL, or
// mvcc.ErrLeaseNotFound; ok is false when this node does not lead.
func (l *lessor) renew(id int64) (ttl int64, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leader {
		return 0, false, nil
	}
	t, found := l.ttl[id]
	if !found {
		return 0, true, mvcc.ErrLeaseNotFound
	}
	l.deadline[id] = l.now().Add(time.Duration(t) * time.Second)
	return t, true, nil
}

// remaining reports a lease's remaining and granted TTL in seconds; ok is false when
// this node does not lead.
func (l *lessor) remaining(id int64) (left, granted int64, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leader {
		return 0, 0, false, nil
	}
	d, found := l.deadline[id]
	if !found {
		return 0, 0, true, mvcc.ErrLeaseNotFound
	}
	left = int64((d.Sub(l.now()) + time.Second - 1) / time.Second)
	if left < 0 {
		left = 0
	}
	return left, l.ttl[id], true, nil
}

// expired returns up to max lease ids whose deadline has passed.
func (l *lessor) expired(max int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leader {
		return nil
	}
	now := l.now()
	var ids []int64
	for id, d := range l.deadline {
		if now.After(d) {
			ids = append(ids, id)
			if len(ids) == max {
				break
			}
		}
	}
	return ids
}

// run proposes revocations of expired leases until ctx ends.
func (l *lessor) run(ctx context.Context, tick time.Duration, propose func(context.Context, *raftkvraftv1.Command) (*raftkvraftv1.CommandResult, error)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := l.expired(1000)
		if len(ids) == 0 {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := propose(pctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseExpire{LeaseExpire: &raftkvraftv1.LeaseExpire{Ids: ids}}})
		cancel()
		if err != nil {
			l.logger.Warn("proposing lease expiry failed; will retry", "leases", len(ids), "err", err)
			continue
		}
		l.logger.Debug("leases expired", "revoked", res.GetLeaseExpire().GetRevoked())
	}
}
