package lockd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// machine adapts state to raftnode.StateMachine and lets handlers wait for it:
// a blocked acquire waits on a resource's wake channel, an Observe stream
// subscribes to an election. The state lives in memory only; after a restart
// raftnode restores the latest snapshot (AppliedIndex is 0 then) and Raft replays
// the log after it.
//
// Lock order: machine.mu before tracker.mu (apply tells the tracker about
// sessions while holding mu).
type machine struct {
	logger  *slog.Logger
	tracker *tracker // may be nil (state-machine tests)

	// applied mirrors st.Applied, stored with mu held after every change and
	// read without it, so that AppliedIndex never waits for mu.
	applied atomic.Uint64

	mu        sync.Mutex // protects the fields below
	st        *state
	wake      map[resKey]map[*waitReg]struct{}  // blocked acquires, by resource
	observers map[string]map[*observer]struct{} // by election name
}

var (
	_ raftnode.StateMachine = (*machine)(nil)
	_ raftnode.Prober       = (*machine)(nil)
)

func newMachine(logger *slog.Logger) *machine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &machine{logger: logger, st: newState(), wake: map[resKey]map[*waitReg]struct{}{}, observers: map[string]map[*observer]struct{}{}}
}

// observerBuffer is how many changes an Observe stream may lag behind.
const observerBuffer = 64

// observer is one Observe subscription. Its channel receives every change of the
// election's leadership, in log order; when it is full the observer is dropped
// and lagged is closed.
type observer struct {
	election string
	ch       chan leaderEvent
	lagged   chan struct{}
	last     *lockdv1.LeaderInfo
}

// leaderEvent is the leadership of an election after the entry at index.
type leaderEvent struct {
	leader *lockdv1.LeaderInfo
	index  uint64
}

// ApplyBatch applies entries in order. An entry that does not decode gets a
// bad_command result (deterministically, on every replica).
func (m *machine) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	out := make([][]byte, len(entries))
	m.mu.Lock()
	defer m.mu.Unlock()
	defer func() { m.applied.Store(m.st.Applied) }() // runs before the unlock
	for i, e := range entries {
		cmd := &lockdraftv1.Command{}
		var res *lockdraftv1.CommandResult
		fx := &effects{}
		if err := proto.Unmarshal(e.Data, cmd); err != nil {
			m.logger.Error("undecodable log entry", "index", e.Index, "err", err)
			if e.Index > m.st.Applied {
				m.st.Applied = e.Index
			}
			res = fail(codeBadCommand, err.Error())
		} else {
			res = m.st.apply(e.Index, cmd, fx)
			if res == nil {
				continue // replay of an applied entry
			}
		}
		res.Index = e.Index
		b, err := proto.Marshal(res)
		if err != nil {
			return nil, err
		}
		out[i] = b
		m.afterLocked(e.Index, fx)
	}
	return out, nil
}

// afterLocked publishes one entry's effects.
func (m *machine) afterLocked(index uint64, fx *effects) {
	if m.tracker != nil && (len(fx.created) > 0 || len(fx.removed) > 0) {
		m.tracker.observeLocked(fx)
	}
	for k := range fx.touched {
		m.wakeLocked(k, false)
		if k.Kind == lockdv1.ResourceKind_RESOURCE_KIND_ELECTION {
			m.notifyObserversLocked(k.Name, index)
		}
	}
	if fx.delaySet && m.tracker != nil {
		m.tracker.kick()
	}
}

func (m *machine) notifyObserversLocked(election string, index uint64) {
	subs := m.observers[election]
	if len(subs) == 0 {
		return
	}
	cur := leaderInfo(election, m.st.Resources[resKey{lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, election}])
	for o := range subs {
		if proto.Equal(o.last, cur) {
			continue
		}
		select {
		case o.ch <- leaderEvent{leader: cur, index: index}:
			o.last = cur
		default:
			close(o.lagged)
			delete(subs, o)
		}
	}
	if len(subs) == 0 {
		delete(m.observers, election)
	}
}

// AppliedIndex is the index of the last entry applied (to memory). It does not
// take mu, so it may be called from anywhere, including from a view callback.
func (m *machine) AppliedIndex() uint64 {
	return m.applied.Load()
}

// probePoll is how often Probe retries the lock.
const probePoll = time.Millisecond

// Probe implements raftnode.Prober: it reports an error when mu cannot be
// taken before ctx ends, i.e. when something holds the state machine (a
// handler stuck under view, a wedged apply). It polls with TryLock, so a probe
// never queues behind a wedged holder and leaves no goroutine behind.
func (m *machine) Probe(ctx context.Context) error {
	t := time.NewTicker(probePoll)
	defer t.Stop()
	for {
		if m.mu.TryLock() {
			m.mu.Unlock()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lockd: state machine lock not free: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Snapshot encodes the state at once, so that WriteTo (which may run concurrently
// with ApplyBatch) writes exactly this state.
func (m *machine) Snapshot() (raftnode.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.st.encode()
	if err != nil {
		return nil, err
	}
	return encodedSnapshot(b), nil
}

// Restore replaces the state. Every blocked handler re-examines the state and
// every observer is told of its election's leadership if it changed.
func (m *machine) Restore(r io.Reader) error {
	st, err := decodeState(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = st
	m.applied.Store(st.Applied)
	for k := range m.wake {
		m.wakeLocked(k, true)
	}
	for election := range m.observers {
		m.notifyObserversLocked(election, st.Applied)
	}
	if m.tracker != nil {
		m.tracker.reloadLocked(st)
	}
	return nil
}

type encodedSnapshot []byte

func (s encodedSnapshot) WriteTo(w io.Writer) (int64, error) {
	return bytes.NewReader(s).WriteTo(w)
}

func (encodedSnapshot) Release() {}

// view runs f with the state locked. f runs with mu held: it must only read st
// (and not keep references into it) and must not call back into m or into
// anything that may take mu, such as a handler helper that reads the machine.
// Build response headers after view returns.
func (m *machine) view(f func(st *state)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.st)
}

// waitStatus is where a blocked acquire stands.
type waitStatus int

const (
	waitQueued waitStatus = iota
	waitGranted
	waitGone      // the wait left the queue without a grant
	waitNoSession // the session ended
)

// waitReg is one blocked acquire's registration for wake-ups.
type waitReg struct {
	session, waitID uint64
	ch              chan struct{} // closed when the wait is no longer queued
}

// waitState reports the status of session's wait waitID on k and the grant
// if granted. While the wait is queued it also returns a channel closed when
// that changes (only this waiter's, so a change of k wakes no other waiter:
// a release with 64 queued wakes one goroutine, not 64) and a func that must
// be called when the caller stops waiting.
func (m *machine) waitState(k resKey, session, waitID uint64) (waitStatus, *lockdv1.Holder, <-chan struct{}, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, h := m.waitStatusLocked(k, session, waitID)
	if st != waitQueued {
		return st, h, nil, func() {}
	}
	reg := &waitReg{session: session, waitID: waitID, ch: make(chan struct{})}
	if m.wake[k] == nil {
		m.wake[k] = map[*waitReg]struct{}{}
	}
	m.wake[k][reg] = struct{}{}
	return st, nil, reg.ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if regs := m.wake[k]; regs != nil {
			delete(regs, reg)
			if len(regs) == 0 {
				delete(m.wake, k)
			}
		}
	}
}

// wakeLocked wakes the waiters on k whose wait is no longer queued, or all
// of them.
func (m *machine) wakeLocked(k resKey, all bool) {
	regs := m.wake[k]
	for reg := range regs {
		if st, _ := m.waitStatusLocked(k, reg.session, reg.waitID); all || st != waitQueued {
			close(reg.ch)
			delete(regs, reg)
		}
	}
	if len(regs) == 0 {
		delete(m.wake, k)
	}
}

func (m *machine) waitStatusLocked(k resKey, session, waitID uint64) (waitStatus, *lockdv1.Holder) {
	if m.st.Sessions[session] == nil {
		return waitNoSession, nil
	}
	r := m.st.Resources[k]
	if r == nil {
		return waitGone, nil
	}
	if i := r.holderIndex(session); i >= 0 {
		return waitGranted, r.Holders[i].proto()
	}
	if i := r.waiterIndex(session); i >= 0 && r.Waiters[i].WaitID == waitID {
		return waitQueued, nil
	}
	return waitGone, nil
}

// subscribe registers an observer of election and returns it with the current
// leadership, atomically, so no change is missed.
func (m *machine) subscribe(election string) (*observer, *lockdv1.LeaderInfo, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := leaderInfo(election, m.st.Resources[resKey{lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, election}])
	o := &observer{election: election, ch: make(chan leaderEvent, observerBuffer), lagged: make(chan struct{}), last: cur}
	if m.observers[election] == nil {
		m.observers[election] = map[*observer]struct{}{}
	}
	m.observers[election][o] = struct{}{}
	return o, cur, m.st.Applied
}

// unsubscribe drops an observer; it is idempotent.
func (m *machine) unsubscribe(o *observer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if subs := m.observers[o.election]; subs != nil {
		delete(subs, o)
		if len(subs) == 0 {
			delete(m.observers, o.election)
		}
	}
}
