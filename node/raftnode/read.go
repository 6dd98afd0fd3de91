package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// LinearizableRead is a read barrier: when it returns nil, the local state machine
// has applied every entry that was committed before the call began, so a read of
// local state that follows is linearizable. On the leader it confirms leadership
// with a quorum; on a follower it asks the leader for its read index and waits to
// apply up to it.
func (n *Node) LinearizableRead(ctx context.Context) error {
	ctx, cancel := n.bounded(ctx)
	defer cancel()
	for {
		if err := n.checkOpen(); err != nil {
			return err
		}
		var idx uint64
		var err error
		if n.IsLeader() {
			idx, err = n.ReadIndex(ctx)
		} else {
			idx, err = n.forwardReadIndex(ctx)
		}
		if err == nil {
			return n.WaitApplied(ctx, idx)
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
			return err
		}
		if err := n.pauseForLeader(ctx); err != nil {
			return err
		}
	}
}

// ReadIndex returns the leader's commit index after confirming, with a quorum, that
// this node still leads, and after an entry of the current term has been committed
// and applied (so that the index covers everything earlier leaders committed).
// It fails with ErrNotLeader on a follower.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if !n.IsLeader() {
		return 0, ErrNotLeader
	}
	term := n.raft.CurrentTerm()
	if n.readyTerm.Load() != term {
		if err := n.raft.Barrier(n.applyTimeout(ctx)).Error(); err != nil {
			return 0, mapReadError(err)
		}
		if n.raft.CurrentTerm() == term {
			n.readyTerm.Store(term)
		}
	}
	idx := n.raft.CommitIndex()
	if err := n.verifier.verify(ctx); err != nil {
		return 0, err
	}
	return idx, nil
}

// WaitApplied blocks until the local state machine has applied index idx.
//
// Entries that never reach the state machine (the no-op a new leader appends,
// barriers) do not move its applied index, so once Raft has processed up to idx and
// every entry after the state machine's applied index is of that kind, idx counts
// as applied.
func (n *Node) WaitApplied(ctx context.Context, idx uint64) error {
	ch, cancel := n.fsm.waitCh(idx)
	defer cancel()
	var tick *time.Ticker
	for {
		if n.appliedThrough(idx) {
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
		}
		select {
		case <-ch:
			return nil
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%w: not caught up to index %d: %w", ErrNoLeader, idx, ctx.Err())
		case <-n.stop:
			return ErrShutdown
		}
	}
}

// appliedThrough reports whether every state-machine entry at or below idx has
// been applied.
func (n *Node) appliedThrough(idx uint64) bool {
	applied := n.fsm.appliedIndex()
	if applied >= idx {
		return true
	}
	if n.raft.AppliedIndex() < idx || idx-applied > 64 {
		return false
	}
	var l raft.Log
	for i := applied + 1; i <= idx; i++ {
		if err := n.logs.GetLog(i, &l); err != nil {
			return false
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return false
		}
	}
	return true
}

// AppliedIndex is the index of the last entry applied to the local state machine.
func (n *Node) AppliedIndex() uint64 { return n.fsm.appliedIndex() }

func (n *Node) forwardReadIndex(ctx context.Context) (uint64, error) {
	c, err := n.leaderClient()
	if err != nil {
		return 0, err
	}
	resp, err := c.ReadIndex(ctx, &raftv1.ReadIndexRequest{})
	if err != nil {
		return 0, errorFromStatus(err, false)
	}
	return resp.GetIndex(), nil
}

// verifier coalesces leadership confirmations: every caller waits for a
// VerifyLeader round that started after it arrived, and concurrent callers share
// rounds, so a burst of reads costs one quorum round trip, not one each.
type verifier struct {
	n *Node

	mu      sync.Mutex // protects the fields below
	waiting []chan error
	running bool
}

func newVerifier(n *Node) *verifier { return &verifier{n: n} }

func (v *verifier) verify(ctx context.Context) error {
	ch := make(chan error, 1)
	v.mu.Lock()
	v.waiting = append(v.waiting, ch)
	if !v.running {
		if v.n.goFunc(v.run) {
			v.running = true
		} else {
			v.mu.Unlock()
			return ErrShutdown
		}
	}
	v.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
	}
}

func (v *verifier) run() {
	for {
		v.mu.Lock()
		batch := v.waiting
		v.waiting = nil
		if len(batch) == 0 {
			v.running = false
			v.mu.Unlock()
			return
		}
		v.mu.Unlock()
		err := v.n.raft.VerifyLeader().Error()
		if err != nil {
			err = mapReadError(err)
		}
		for _, ch := range batch {
			ch <- err
		}
	}
}

// mapReadError maps raft errors for reads, where nothing was proposed on behalf of
// the caller: losing leadership just means "ask the new leader".
func mapReadError(err error) error {
	err = mapRaftError(err)
	if errors.Is(err, ErrUnknownOutcome) {
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	return err
}
