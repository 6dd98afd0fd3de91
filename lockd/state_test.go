package lockd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

const (
	kLock = lockdv1.ResourceKind_RESOURCE_KIND_LOCK
	kSem  = lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE
	kElec = lockdv1.ResourceKind_RESOURCE_KIND_ELECTION
	mRead = lockdv1.LockMode_LOCK_MODE_READ
	mWrt  = lockdv1.LockMode_LOCK_MODE_WRITE
)

// fsm drives a state directly: each call is the next log entry, proposed at
// the fake clock now.
type fsm struct {
	t     *testing.T
	st    *state
	index uint64
	now   int64
}

func newFSM(t *testing.T) *fsm {
	return &fsm{t: t, st: newState(), now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
}

func (f *fsm) apply(cmd *lockdraftv1.Command) *lockdraftv1.CommandResult {
	f.index++
	cmd.UnixNanos = f.now
	res := f.st.apply(f.index, cmd, &effects{})
	require.NotNil(f.t, res)
	return res
}

func (f *fsm) ok(cmd *lockdraftv1.Command) *lockdraftv1.CommandResult {
	f.t.Helper()
	res := f.apply(cmd)
	require.Empty(f.t, res.GetError(), res.GetErrorMessage())
	return res
}

func (f *fsm) session() uint64 {
	return f.ok(&lockdraftv1.Command{Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: 10000}}}).GetSessionId()
}

func acq(kind lockdv1.ResourceKind, s uint64, name string, mode lockdv1.LockMode, wait bool) *lockdraftv1.Command {
	return &lockdraftv1.Command{Op: &lockdraftv1.Command_Acquire{Acquire: &lockdraftv1.AcquireOp{Kind: kind, SessionId: s, Name: name, Mode: mode, Wait: wait, Owner: []byte(fmt.Sprint("s", s))}}}
}

func semAcq(s uint64, name string, permits uint32, wait bool) *lockdraftv1.Command {
	return &lockdraftv1.Command{Op: &lockdraftv1.Command_Acquire{Acquire: &lockdraftv1.AcquireOp{Kind: kSem, SessionId: s, Name: name, Permits: permits, Wait: wait}}}
}

func rel(kind lockdv1.ResourceKind, s uint64, name string) *lockdraftv1.Command {
	return &lockdraftv1.Command{Op: &lockdraftv1.Command_Release{Release: &lockdraftv1.ReleaseOp{Kind: kind, SessionId: s, Name: name}}}
}

func expire(ids ...uint64) *lockdraftv1.Command {
	return &lockdraftv1.Command{Op: &lockdraftv1.Command_ExpireSessions{ExpireSessions: &lockdraftv1.ExpireSessionsOp{SessionIds: ids}}}
}

// holders returns the sessions holding kind/name, in grant order.
func (f *fsm) holders(kind lockdv1.ResourceKind, name string) []uint64 {
	r := f.st.Resources[resKey{kind, name}]
	if r == nil {
		return nil
	}
	var out []uint64
	for _, h := range r.Holders {
		out = append(out, h.Session)
	}
	return out
}

func (f *fsm) waiters(kind lockdv1.ResourceKind, name string) []uint64 {
	r := f.st.Resources[resKey{kind, name}]
	if r == nil {
		return nil
	}
	var out []uint64
	for _, w := range r.Waiters {
		out = append(out, w.Session)
	}
	return out
}

func (f *fsm) token(kind lockdv1.ResourceKind, name string, s uint64) uint64 {
	r := f.st.Resources[resKey{kind, name}]
	require.NotNil(f.t, r)
	i := r.holderIndex(s)
	require.GreaterOrEqual(f.t, i, 0, "session %d does not hold %q", s, name)
	return r.Holders[i].Token
}

func TestStateFIFOOneWaiterWoken(t *testing.T) {
	f := newFSM(t)
	a, b, c, d := f.session(), f.session(), f.session(), f.session()
	res := f.ok(acq(kLock, a, "x", 0, true))
	require.True(t, res.GetAcquired())
	tokA := res.GetHolder().GetToken()
	require.Equal(t, f.index, tokA, "the token is the granting entry's index")
	for _, s := range []uint64{b, c, d} {
		res := f.ok(acq(kLock, s, "x", 0, true))
		require.False(t, res.GetAcquired())
		require.Equal(t, f.index, res.GetWaitId())
	}
	require.Equal(t, []uint64{b, c, d}, f.waiters(kLock, "x"))

	f.ok(rel(kLock, a, "x"))
	require.Equal(t, []uint64{b}, f.holders(kLock, "x"), "exactly one waiter is woken")
	require.Equal(t, []uint64{c, d}, f.waiters(kLock, "x"))
	tokB := f.token(kLock, "x", b)
	require.Equal(t, f.index, tokB, "the token is the releasing entry's index")
	require.Greater(t, tokB, tokA)

	f.ok(rel(kLock, b, "x"))
	require.Equal(t, []uint64{c}, f.holders(kLock, "x"))
	require.Greater(t, f.token(kLock, "x", c), tokB)

	// Try-acquire of a held lock does not queue.
	e := f.session()
	res = f.ok(acq(kLock, e, "x", 0, false))
	require.False(t, res.GetAcquired())
	require.Zero(t, res.GetWaitId())
	require.Equal(t, []uint64{d}, f.waiters(kLock, "x"))
	require.Len(t, res.GetHolders(), 1)
}

func TestStateExpiredWaiterNeverGranted(t *testing.T) {
	f := newFSM(t)
	a, b, c := f.session(), f.session(), f.session()
	f.ok(acq(kLock, a, "x", 0, true))
	f.ok(acq(kLock, b, "x", 0, true))
	f.ok(acq(kLock, c, "x", 0, true))
	f.ok(expire(b))
	require.Equal(t, []uint64{c}, f.waiters(kLock, "x"), "an expired session leaves every queue")
	f.ok(rel(kLock, a, "x"))
	require.Equal(t, []uint64{c}, f.holders(kLock, "x"))
	// The expired session is gone: its requests fail.
	res := f.apply(acq(kLock, b, "x", 0, true))
	require.Equal(t, codeSessionNotFound, res.GetError())

	// A holder that expires hands the lock to the next waiter.
	d := f.session()
	f.ok(acq(kLock, d, "x", 0, true))
	f.ok(expire(c))
	require.Equal(t, []uint64{d}, f.holders(kLock, "x"))
	require.Equal(t, f.index, f.token(kLock, "x", d))
}

func TestStateReleaseRules(t *testing.T) {
	f := newFSM(t)
	a, b := f.session(), f.session()
	require.Equal(t, codeNotHeld, f.apply(rel(kLock, a, "x")).GetError())
	f.ok(acq(kLock, a, "x", 0, false))
	require.Equal(t, codeNotHolder, f.apply(rel(kLock, b, "x")).GetError())
	f.ok(rel(kLock, a, "x"))
	require.Equal(t, codeNotHeld, f.apply(rel(kLock, a, "x")).GetError(), "double release")
	require.Empty(t, f.st.Resources, "a free lock is deleted")
	require.Equal(t, codeSessionNotFound, f.apply(rel(kLock, 999, "x")).GetError())
}

func TestStateReacquireIdempotent(t *testing.T) {
	f := newFSM(t)
	a, b := f.session(), f.session()
	tok := f.ok(acq(kLock, a, "x", 0, true)).GetHolder().GetToken()
	res := f.ok(acq(kLock, a, "x", 0, true))
	require.True(t, res.GetAcquired())
	require.Equal(t, tok, res.GetHolder().GetToken(), "re-acquire returns the existing grant")
	require.Equal(t, codeModeConflict, f.apply(acq(kLock, a, "x", mRead, true)).GetError())
	w := f.ok(acq(kLock, b, "x", 0, true)).GetWaitId()
	require.Equal(t, w, f.ok(acq(kLock, b, "x", 0, true)).GetWaitId(), "re-acquire while queued keeps the place")
	require.Equal(t, []uint64{b}, f.waiters(kLock, "x"))
}

func TestStateTokensIncreaseRandom(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	f := newFSM(t)
	var sessions []uint64
	for range 8 {
		sessions = append(sessions, f.session())
	}
	last := map[string]uint64{}
	for range 3000 {
		s := sessions[rng.IntN(len(sessions))]
		name := fmt.Sprint("l", rng.IntN(3))
		switch rng.IntN(5) {
		case 0, 1:
			f.apply(acq(kLock, s, name, 0, rng.IntN(2) == 0))
		case 2, 3:
			f.apply(rel(kLock, s, name))
		case 4:
			f.ok(expire(s))
			for i, x := range sessions {
				if x == s {
					sessions[i] = f.session()
				}
			}
		}
		for k, r := range f.st.Resources {
			require.LessOrEqual(t, len(r.Holders), 1, "a write lock has one holder")
			if len(r.Holders) == 1 {
				tok := r.Holders[0].Token
				require.GreaterOrEqual(t, tok, last[k.Name])
				last[k.Name] = tok
			}
			require.True(t, len(r.Holders) > 0 || len(r.Waiters) == 0, "a free lock with waiters: %s", k.Name)
		}
	}
}

func TestStateSemaphore(t *testing.T) {
	f := newFSM(t)
	a, b, c, d := f.session(), f.session(), f.session(), f.session()
	require.True(t, f.ok(semAcq(a, "s", 2, true)).GetAcquired())
	require.True(t, f.ok(semAcq(b, "s", 2, true)).GetAcquired())
	require.False(t, f.ok(semAcq(c, "s", 2, true)).GetAcquired())
	require.False(t, f.ok(semAcq(d, "s", 2, true)).GetAcquired())
	require.Equal(t, codePermitsMismatch, f.apply(semAcq(d, "s", 3, true)).GetError())
	require.Equal(t, []uint64{c, d}, f.waiters(kSem, "s"))
	f.ok(rel(kSem, a, "s"))
	require.Equal(t, []uint64{b, c}, f.holders(kSem, "s"), "one freed permit wakes one waiter")
	require.Equal(t, []uint64{d}, f.waiters(kSem, "s"))
	f.ok(expire(b, c))
	require.Equal(t, []uint64{d}, f.holders(kSem, "s"))
	f.ok(rel(kSem, d, "s"))
	require.Empty(t, f.st.Resources)
	// Once idle the size may change.
	e := f.session()
	require.True(t, f.ok(semAcq(e, "s", 5, false)).GetAcquired())
	require.Equal(t, uint32(5), f.st.Resources[resKey{kSem, "s"}].Permits)
	// Locks and semaphores are separate name spaces.
	require.True(t, f.ok(acq(kLock, e, "s", 0, false)).GetAcquired())
}

func TestStateRWWriterNotStarved(t *testing.T) {
	f := newFSM(t)
	r1, r2, w1, r3, r4, w2, r5 := f.session(), f.session(), f.session(), f.session(), f.session(), f.session(), f.session()
	require.True(t, f.ok(acq(kLock, r1, "rw", mRead, true)).GetAcquired())
	require.True(t, f.ok(acq(kLock, r2, "rw", mRead, true)).GetAcquired(), "readers share")
	require.False(t, f.ok(acq(kLock, w1, "rw", mWrt, true)).GetAcquired())
	require.False(t, f.ok(acq(kLock, r3, "rw", mRead, true)).GetAcquired(), "a queued writer blocks new readers")
	require.False(t, f.ok(acq(kLock, r4, "rw", mRead, false)).GetAcquired())
	f.ok(acq(kLock, r4, "rw", mRead, true))
	f.ok(acq(kLock, w2, "rw", mWrt, true))
	f.ok(acq(kLock, r5, "rw", mRead, true))
	f.ok(rel(kLock, r1, "rw"))
	require.Equal(t, []uint64{r2}, f.holders(kLock, "rw"))
	f.ok(rel(kLock, r2, "rw"))
	require.Equal(t, []uint64{w1}, f.holders(kLock, "rw"))
	wTok := f.token(kLock, "rw", w1)
	f.ok(rel(kLock, w1, "rw"))
	require.Equal(t, []uint64{r3, r4}, f.holders(kLock, "rw"), "a run of readers is granted together")
	require.Equal(t, []uint64{w2, r5}, f.waiters(kLock, "rw"))
	require.Greater(t, f.token(kLock, "rw", r3), wTok)
	f.ok(rel(kLock, r3, "rw"))
	f.ok(rel(kLock, r4, "rw"))
	require.Equal(t, []uint64{w2}, f.holders(kLock, "rw"))
	f.ok(rel(kLock, w2, "rw"))
	require.Equal(t, []uint64{r5}, f.holders(kLock, "rw"))
}

func TestStateLockDelay(t *testing.T) {
	f := newFSM(t)
	a, b := f.session(), f.session()
	op := acq(kLock, a, "x", 0, true)
	op.GetAcquire().LockDelayMs = 5000
	f.ok(op)
	f.ok(acq(kLock, b, "x", 0, true))
	t0 := f.now
	f.ok(expire(a))
	r := f.st.Resources[resKey{kLock, "x"}]
	require.Equal(t, t0+5*int64(time.Second), r.DelayUntil)
	require.Empty(t, f.holders(kLock, "x"), "no grant during the lock delay")
	require.Equal(t, []uint64{b}, f.waiters(kLock, "x"))
	c := f.session()
	require.False(t, f.ok(acq(kLock, c, "x", 0, false)).GetAcquired())
	require.Equal(t, []string{"x"}, f.st.dueDelays(t0+5*int64(time.Second), 10))
	require.Empty(t, f.st.dueDelays(t0+4*int64(time.Second), 10))

	end := &lockdraftv1.Command{Op: &lockdraftv1.Command_EndLockDelay{EndLockDelay: &lockdraftv1.EndLockDelayOp{Names: []string{"x"}}}}
	f.now = t0 + int64(time.Second)
	f.ok(end)
	require.Empty(t, f.holders(kLock, "x"), "an early end-delay entry changes nothing")
	f.now = t0 + 5*int64(time.Second)
	f.ok(proto.Clone(end).(*lockdraftv1.Command))
	require.Equal(t, []uint64{b}, f.holders(kLock, "x"))
	require.Zero(t, r.DelayUntil)

	// A clean close never delays.
	op = acq(kLock, c, "y", 0, true)
	op.GetAcquire().LockDelayMs = 5000
	f.ok(op)
	f.ok(&lockdraftv1.Command{Op: &lockdraftv1.Command_CloseSession{CloseSession: &lockdraftv1.CloseSessionOp{SessionId: c}}})
	require.Nil(t, f.st.Resources[resKey{kLock, "y"}])
}

func TestStateCancelWait(t *testing.T) {
	f := newFSM(t)
	a, b, c := f.session(), f.session(), f.session()
	f.ok(acq(kLock, a, "x", 0, true))
	wb := f.ok(acq(kLock, b, "x", 0, true)).GetWaitId()
	wc := f.ok(acq(kLock, c, "x", 0, true)).GetWaitId()
	cancel := func(s, w uint64, release bool) *lockdraftv1.CommandResult {
		return f.ok(&lockdraftv1.Command{Op: &lockdraftv1.Command_CancelWait{CancelWait: &lockdraftv1.CancelWaitOp{Kind: kLock, SessionId: s, Name: "x", WaitId: w, ReleaseIfGranted: release}}})
	}
	require.True(t, cancel(b, wb, false).GetCancelled())
	require.Equal(t, []uint64{c}, f.waiters(kLock, "x"))
	f.ok(rel(kLock, a, "x"))
	// c's grant raced ahead of its cancel: reported, not lost.
	res := cancel(c, wc, false)
	require.True(t, res.GetAcquired())
	require.Equal(t, c, res.GetHolder().GetSessionId())
	// The caller is gone: release it and grant the next.
	d := f.session()
	f.ok(acq(kLock, d, "x", 0, true))
	require.True(t, cancel(c, wc, true).GetCancelled())
	require.Equal(t, []uint64{d}, f.holders(kLock, "x"))
	// A cancel for an unrelated wait id changes nothing.
	require.False(t, cancel(d, 12345, true).GetCancelled())
	require.Equal(t, []uint64{d}, f.holders(kLock, "x"))
}

func TestStateElection(t *testing.T) {
	f := newFSM(t)
	a, b := f.session(), f.session()
	require.True(t, f.ok(acq(kElec, a, "e", 0, true)).GetAcquired())
	require.False(t, f.ok(acq(kElec, b, "e", 0, true)).GetAcquired())
	pro := func(s uint64, v string) *lockdraftv1.CommandResult {
		return f.apply(&lockdraftv1.Command{Op: &lockdraftv1.Command_Proclaim{Proclaim: &lockdraftv1.ProclaimOp{SessionId: s, Election: "e", Value: []byte(v)}}})
	}
	require.Equal(t, codeNotHolder, pro(b, "nope").GetError())
	res := pro(a, "v2")
	require.Empty(t, res.GetError())
	li := leaderInfo("e", f.st.Resources[resKey{kElec, "e"}])
	require.Equal(t, "v2", string(li.GetValue()))
	tok := li.GetToken()
	f.ok(rel(kElec, a, "e"))
	li = leaderInfo("e", f.st.Resources[resKey{kElec, "e"}])
	require.Equal(t, b, li.GetSessionId())
	require.Greater(t, li.GetToken(), tok)
	f.ok(rel(kElec, b, "e"))
	require.Nil(t, leaderInfo("e", f.st.Resources[resKey{kElec, "e"}]))
	require.Equal(t, codeNotHeld, pro(b, "x").GetError())
}

// randomCommand returns a random command over a few sessions and names.
func randomCommand(rng *rand.Rand, sessions []uint64) *lockdraftv1.Command {
	s := sessions[rng.IntN(len(sessions))]
	kinds := []lockdv1.ResourceKind{kLock, kSem, kElec}
	kind := kinds[rng.IntN(3)]
	name := fmt.Sprint("n", rng.IntN(4))
	switch rng.IntN(9) {
	case 0:
		return &lockdraftv1.Command{Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: 1000 + int64(rng.IntN(5000))}}}
	case 1, 2, 3:
		op := &lockdraftv1.AcquireOp{Kind: kind, SessionId: s, Name: name, Wait: rng.IntN(3) > 0, Owner: []byte{byte(rng.IntN(256))}}
		if kind == kLock {
			op.Mode = lockdv1.LockMode(rng.IntN(3))
			op.LockDelayMs = int64(rng.IntN(2) * 1000)
		}
		if kind == kSem {
			op.Permits = uint32(1 + rng.IntN(3))
		}
		return &lockdraftv1.Command{Op: &lockdraftv1.Command_Acquire{Acquire: op}}
	case 4, 5:
		return rel(kind, s, name)
	case 6:
		return expire(s)
	case 7:
		return &lockdraftv1.Command{Op: &lockdraftv1.Command_CancelWait{CancelWait: &lockdraftv1.CancelWaitOp{Kind: kind, SessionId: s, Name: name, WaitId: uint64(rng.IntN(50)), ReleaseIfGranted: rng.IntN(2) == 0}}}
	default:
		if rng.IntN(2) == 0 {
			return &lockdraftv1.Command{Op: &lockdraftv1.Command_EndLockDelay{EndLockDelay: &lockdraftv1.EndLockDelayOp{Names: []string{name}}}}
		}
		return &lockdraftv1.Command{Op: &lockdraftv1.Command_Proclaim{Proclaim: &lockdraftv1.ProclaimOp{SessionId: s, Election: name, Value: []byte("v")}}}
	}
}

// TestSnapshotDeterminism applies one seeded random command sequence to two
// machines, through raftnode's interface, and checks that their results and
// snapshots are byte-identical, and that a machine restored from a snapshot
// taken midway and fed the rest of the log ends identical too.
func TestSnapshotDeterminism(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	var entries []raftnode.Entry
	sessions := []uint64{1, 2, 3, 4, 5}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := uint64(1); i <= 2000; i++ {
		var cmd *lockdraftv1.Command
		if i <= 5 {
			cmd = &lockdraftv1.Command{Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: 1000}}}
		} else {
			cmd = randomCommand(rng, sessions)
			if cmd.GetCreateSession() != nil {
				sessions[rng.IntN(len(sessions))] = i
			}
		}
		now += int64(rng.IntN(700)) * int64(time.Millisecond)
		cmd.UnixNanos = now
		b, err := proto.Marshal(cmd)
		require.NoError(t, err)
		entries = append(entries, raftnode.Entry{Index: i, Term: 1, Data: b})
	}
	a, b := newMachine(nil), newMachine(nil)
	var snapMid []byte
	for i := 0; i < len(entries); i += 37 {
		end := min(i+37, len(entries))
		ra, err := a.ApplyBatch(entries[i:end])
		require.NoError(t, err)
		for _, e := range entries[i:end] { // b applies one at a time
			rb, err := b.ApplyBatch([]raftnode.Entry{e})
			require.NoError(t, err)
			require.Equal(t, ra[e.Index-entries[i].Index], rb[0], "result of entry %d", e.Index)
		}
		if snapMid == nil && end >= 1000 {
			snapMid = snapshotBytes(t, a)
		}
	}
	sa, sb := snapshotBytes(t, a), snapshotBytes(t, b)
	require.Equal(t, string(sa), string(sb))

	c := newMachine(nil)
	require.NoError(t, c.Restore(bytes.NewReader(snapMid)))
	from := c.AppliedIndex()
	// Raft replays from the snapshot index on; older entries are skipped anyway.
	res, err := c.ApplyBatch(entries[from-10:])
	require.NoError(t, err)
	for _, r := range res[:10] {
		require.Nil(t, r, "replayed entries are skipped")
	}
	require.Equal(t, string(sa), string(snapshotBytes(t, c)))
	require.Equal(t, a.AppliedIndex(), c.AppliedIndex())
	var ns int
	a.view(func(st *state) { ns = len(st.Sessions) + len(st.Resources) })
	t.Logf("final state: %d sessions+resources, snapshot %d bytes", ns, len(sa))
}

func snapshotBytes(t *testing.T, m *machine) []byte {
	s, err := m.Snapshot()
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = s.WriteTo(&buf)
	require.NoError(t, err)
	s.Release()
	return buf.Bytes()
}

func TestMachineBadEntry(t *testing.T) {
	m := newMachine(nil)
	out, err := m.ApplyBatch([]raftnode.Entry{{Index: 1, Data: []byte{0xff, 0xff}}})
	require.NoError(t, err)
	res := &lockdraftv1.CommandResult{}
	require.NoError(t, proto.Unmarshal(out[0], res))
	require.Equal(t, codeBadCommand, res.GetError())
	require.Equal(t, uint64(1), m.AppliedIndex())
}

// TestMachineWakesOnlyTheWaitersWhoseWaitEnded: a release wakes the one
// blocked acquire it grants, a session expiry wakes that session's waiter,
// and queueing another waiter wakes nobody.
func TestMachineWakesOnlyTheWaitersWhoseWaitEnded(t *testing.T) {
	m := newMachine(nil)
	var index uint64
	apply := func(cmd *lockdraftv1.Command) *lockdraftv1.CommandResult {
		t.Helper()
		index++
		b, err := proto.Marshal(cmd)
		require.NoError(t, err)
		out, err := m.ApplyBatch([]raftnode.Entry{{Index: index, Data: b}})
		require.NoError(t, err)
		res := &lockdraftv1.CommandResult{}
		require.NoError(t, proto.Unmarshal(out[0], res))
		require.Empty(t, res.GetError(), res.GetErrorMessage())
		return res
	}
	session := func() uint64 {
		return apply(&lockdraftv1.Command{Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: 10000}}}).GetSessionId()
	}
	holder := session()
	require.True(t, apply(acq(kLock, holder, "x", 0, true)).GetAcquired())
	type blocked struct {
		session uint64
		ch      <-chan struct{}
	}
	var waiters []blocked
	for range 5 {
		s := session()
		waitID := apply(acq(kLock, s, "x", 0, true)).GetWaitId()
		st, _, ch, done := m.waitState(resKey{kLock, "x"}, s, waitID)
		t.Cleanup(done)
		require.Equal(t, waitQueued, st)
		waiters = append(waiters, blocked{s, ch})
	}
	woken := func() []uint64 {
		var out []uint64
		for _, w := range waiters {
			select {
			case <-w.ch:
				out = append(out, w.session)
			default:
			}
		}
		return out
	}
	apply(acq(kLock, session(), "x", 0, true))
	require.Empty(t, woken(), "a new waiter wakes nobody")
	apply(rel(kLock, holder, "x"))
	require.Equal(t, []uint64{waiters[0].session}, woken(), "a release wakes only the waiter it grants")
	apply(expire(waiters[3].session))
	require.Equal(t, []uint64{waiters[0].session, waiters[3].session}, woken(), "an expiry wakes only that session's waiter")
}

// TestStateWouldQueueMatchesAcquire checks wouldQueue, which lets the server
// hold back the entries of acquires that will wait, against what acquire does
// over a seeded random history.
func TestStateWouldQueueMatchesAcquire(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	f := newFSM(t)
	sessions := []uint64{f.session(), f.session(), f.session(), f.session()}
	queuedSeen := 0
	for range 5000 {
		cmd := randomCommand(rng, sessions)
		if c := cmd.GetCreateSession(); c != nil {
			sessions = append(sessions, f.apply(cmd).GetSessionId())
			continue
		}
		op := cmd.GetAcquire()
		if op == nil {
			f.apply(cmd)
			continue
		}
		predicted := f.st.wouldQueue(op)
		res := f.apply(cmd)
		queued := res.GetError() == "" && !res.GetAcquired() && res.GetWaitId() == f.index
		require.Equal(t, queued, predicted, "entry %d: %v → %v", f.index, op, res)
		if queued {
			queuedSeen++
		}
		f.now += int64(rng.IntN(200)) * int64(time.Millisecond)
	}
	require.Greater(t, queuedSeen, 100, "the history queues waits")
}
