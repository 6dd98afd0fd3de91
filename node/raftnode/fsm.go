package raftnode

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"cairn.dev/cairn/node/failpoint"
)

// Entry is one committed command handed to the StateMachine.
type Entry struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// StateMachine is the replicated state of a daemon.
//
// ApplyBatch, Snapshot and Restore are never called concurrently with each other;
// WriteTo of a returned Snapshot may run concurrently with ApplyBatch.
//
// The state machine is persistent: it records the index of the last entry it applied
// in the same atomic write as the entry's effects, skips entries at or below that
// index (Raft replays the log after a restart), and reports it through AppliedIndex.
type StateMachine interface {
	// ApplyBatch applies committed entries in log order and returns one result per
	// entry; a result is sent back to the proposer (possibly over the network) as is.
	// A non-nil error is a storage failure: nothing in the batch was applied and the
	// node stops.
	ApplyBatch(entries []Entry) ([][]byte, error)
	// AppliedIndex is the index of the last entry whose effects are durable.
	AppliedIndex() uint64
	// Snapshot captures the current state for later writing.
	Snapshot() (Snapshot, error)
	// Restore replaces the whole state with one written by Snapshot.WriteTo.
	Restore(r io.Reader) error
}

// Snapshot is a point-in-time copy of a StateMachine.
type Snapshot interface {
	WriteTo(w io.Writer) (int64, error)
	// Release frees the snapshot; called exactly once after WriteTo or on cancel.
	Release()
}

// fsm adapts a StateMachine to raft.BatchingFSM and tracks the applied index so that
// read barriers can wait for it.
type fsm struct {
	sm      StateMachine
	onFatal func(error)
	// applyDuration times each batch given to the state machine.
	applyDuration prometheus.Histogram
	// busySince is when the state machine call in progress (ApplyBatch or
	// Restore) began, in Unix nanoseconds; 0 when none runs. Health reads it
	// to tell a wedged state machine from a busy one.
	busySince atomic.Int64

	mu      sync.Mutex // protects the fields below
	applied uint64
	waiters map[chan struct{}]uint64
	failed  error
}

func newFSM(sm StateMachine, onFatal func(error), applyDuration prometheus.Histogram) *fsm {
	return &fsm{sm: sm, onFatal: onFatal, applyDuration: applyDuration, applied: sm.AppliedIndex(), waiters: map[chan struct{}]uint64{}}
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) interface{} {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM.
func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	if f.isFailed() {
		for i := range out {
			out[i] = ErrShutdown
		}
		return out
	}
	var entries []Entry
	var pos []int
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			entries = append(entries, Entry{Index: l.Index, Term: l.Term, Data: l.Data})
			pos = append(pos, i)
		}
	}
	if len(entries) > 0 {
		start := time.Now()
		f.busySince.Store(start.UnixNano())
		results, err := f.sm.ApplyBatch(entries)
		f.busySince.Store(0)
		observe(f.applyDuration, start)
		if err == nil && len(results) != len(entries) {
			err = fmt.Errorf("raftnode: state machine returned %d results for %d entries", len(results), len(entries))
		}
		if err != nil {
			f.fail(err)
			for i := range out {
				out[i] = ErrShutdown
			}
			return out
		}
		for j, r := range results {
			out[pos[j]] = r
		}
	}
	f.setApplied(logs[len(logs)-1].Index)
	return out
}

func (f *fsm) isFailed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed != nil
}

func (f *fsm) fail(err error) {
	f.mu.Lock()
	first := f.failed == nil
	if first {
		f.failed = err
	}
	f.mu.Unlock()
	if first && f.onFatal != nil {
		f.onFatal(err)
	}
}

func (f *fsm) setApplied(idx uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if idx <= f.applied {
		return
	}
	f.applied = idx
	for ch, want := range f.waiters {
		if want <= idx {
			close(ch)
			delete(f.waiters, ch)
		}
	}
}

// busyFor is how long the state machine call in progress has run (0 when
// none runs).
func (f *fsm) busyFor() time.Duration {
	since := f.busySince.Load()
	if since == 0 {
		return 0
	}
	return time.Since(time.Unix(0, since))
}

// appliedIndex is the last index given to and applied by the state machine.
func (f *fsm) appliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

// waitCh returns a channel closed once the applied index reaches idx, and a func to
// drop the wait.
func (f *fsm) waitCh(idx uint64) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applied >= idx {
		close(ch)
		return ch, func() {}
	}
	f.waiters[ch] = idx
	return ch, func() {
		f.mu.Lock()
		delete(f.waiters, ch)
		f.mu.Unlock()
	}
}

// Snapshot implements raft.FSM.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.sm.Snapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{s: s}, nil
}

// Restore implements raft.FSM.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.busySince.Store(time.Now().UnixNano())
	err := f.sm.Restore(rc)
	f.busySince.Store(0)
	if err != nil {
		return err
	}
	f.mu.Lock()
	// The restored state may be behind what was applied before (a follower that
	// installs a leader's snapshot is never behind, but be exact).
	f.applied = f.sm.AppliedIndex()
	for ch, want := range f.waiters {
		if want <= f.applied {
			close(ch)
			delete(f.waiters, ch)
		}
	}
	f.mu.Unlock()
	return nil
}

type fsmSnapshot struct{ s Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	failpoint.Inject("raftnode/before-snapshot-persist")
	if _, err := s.s.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	failpoint.Inject("raftnode/during-snapshot-persist")
	if err := sink.Close(); err != nil {
		return err
	}
	failpoint.Inject("raftnode/after-snapshot-persist")
	return nil
}

func (s *fsmSnapshot) Release() { s.s.Release() }
