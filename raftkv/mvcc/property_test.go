package mvcc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/node/nodetest"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

var keyPool = []string{"a", "b", "c", "ab", "a\x00", "a\x00b", "\x00", "\x00\x00", "\xff", "ba", "bb", "b\x00\xff"}

// cmdGen generates random commands from a seeded source.
type cmdGen struct {
	r      *rand.Rand
	maxRev int64 // rough upper bound of the store revision, for compactions
}

func newCmdGen(seed uint64) *cmdGen {
	return &cmdGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *cmdGen) key() string { return keyPool[g.r.IntN(len(keyPool))] }

func (g *cmdGen) rangeEnd() string {
	switch g.r.IntN(4) {
	case 0:
		return ""
	case 1:
		return "\x00"
	default:
		return g.key()
	}
}

func (g *cmdGen) value() string { return fmt.Sprintf("v%d", g.r.IntN(1000)) }

func (g *cmdGen) lease() int64 { return int64(g.r.IntN(5)) } // 0 = none; ids 1..4 may or may not exist

func (g *cmdGen) compare() *raftkvv1.Compare {
	targets := []raftkvv1.Compare_CompareTarget{tVersion, tCreate, tMod, tValue, tLease}
	results := []raftkvv1.Compare_CompareResult{rEq, rGt, rLt, rNeq}
	target := targets[g.r.IntN(len(targets))]
	var v any = int64(g.r.IntN(4))
	if target == tValue {
		v = g.value()
	}
	end := ""
	if g.r.IntN(4) == 0 {
		end = g.rangeEnd()
	}
	return cmp(g.key(), end, target, results[g.r.IntN(len(results))], v)
}

func (g *cmdGen) ops() []*raftkvv1.RequestOp {
	n := g.r.IntN(4)
	ops := make([]*raftkvv1.RequestOp, 0, n)
	for range n {
		switch g.r.IntN(3) {
		case 0:
			ops = append(ops, opRange(g.key(), g.rangeEnd()))
		case 1:
			ops = append(ops, opPutLease(g.key(), g.value(), g.lease()))
		default:
			ops = append(ops, opDel(g.key(), g.rangeEnd()))
		}
	}
	return ops
}

func (g *cmdGen) next() *raftkvraftv1.Command {
	g.maxRev++
	switch n := g.r.IntN(100); {
	case n < 40:
		lease := int64(0)
		if g.r.IntN(4) == 0 {
			lease = g.lease()
		}
		return putCmd(g.key(), g.value(), lease)
	case n < 52:
		return delCmd(g.key(), g.rangeEnd())
	case n < 75:
		cmps := make([]*raftkvv1.Compare, g.r.IntN(3))
		for i := range cmps {
			cmps[i] = g.compare()
		}
		return txnCmd(cmps, g.ops(), g.ops())
	case n < 83:
		return grantCmd(g.lease(), int64(g.r.IntN(60)))
	case n < 89:
		return revokeCmd(g.lease())
	case n < 95:
		return expireCmd(g.lease(), g.lease())
	case n < 97:
		return compactCmd(g.r.Int64N(g.maxRev/4 + 1))
	default:
		return &raftkvraftv1.Command{}
	}
}

func seedFor(t *testing.T) uint64 {
	seed := nodetest.Seed(t)
	return seed
}

func marshalAll[M proto.Message](t testing.TB, ms []M) [][]byte {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		b, err := marshal(m)
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

// stateOf captures everything observable about a store.
func stateOf(t *testing.T, s *Store) string {
	t.Helper()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "rev=%d compact=%d applied=%d\n", s.Revision(), s.CompactRevision(), s.applied.Load())
	for rev := s.CompactRevision(); rev <= s.Revision(); rev++ {
		if rev < 1 {
			continue
		}
		resp, err := s.Range(&raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
		require.NoError(t, err)
		b, err := marshal(resp)
		require.NoError(t, err)
		fmt.Fprintf(&buf, "range@%d %x\n", rev, b)
	}
	for _, l := range s.Leases() {
		_, keys, err := s.Lease(l.Id)
		require.NoError(t, err)
		fmt.Fprintf(&buf, "lease %d ttl %d keys %q\n", l.Id, l.Ttl, keys)
	}
	evs, complete, err := s.Events(s.CompactRevision()+1, []byte{0}, []byte{0}, 0)
	require.NoError(t, err)
	fmt.Fprintf(&buf, "events complete=%d %x\n", complete, marshalAll(t, evs))
	return buf.String()
}

// TestDeterminism feeds two stores the same random commands in differently sized
// batches; results, events and state must be identical.
func TestDeterminism(t *testing.T) {
	seed := seedFor(t)
	g := newCmdGen(seed)
	cmds := make([]*raftkvraftv1.Command, 600)
	for i := range cmds {
		cmds[i] = g.next()
	}
	r := rand.New(rand.NewPCG(seed, 1))
	run := func() ([]*raftkvraftv1.CommandResult, []*raftkvv1.Event, *testStore) {
		ts := openTestStore(t)
		var results []*raftkvraftv1.CommandResult
		var events []*raftkvv1.Event
		for i := 0; i < len(cmds); {
			n := min(1+r.IntN(20), len(cmds)-i)
			res, evs := ts.apply(cmds[i : i+n]...)
			results = append(results, res...)
			events = append(events, evs...)
			i += n
		}
		return results, events, ts
	}
	res1, evs1, ts1 := run()
	res2, evs2, ts2 := run()
	require.Equal(t, marshalAll(t, res1), marshalAll(t, res2))
	require.Equal(t, marshalAll(t, evs1), marshalAll(t, evs2))
	require.Equal(t, stateOf(t, ts1.s), stateOf(t, ts2.s))
	t.Logf("final revision %d, compact %d, %d events", ts1.s.Revision(), ts1.s.CompactRevision(), len(evs1))
}

// TestHistoryProperties checks, on random commands, that reads at past
// revisions return what reads at the time returned, that Events returns exactly
// the events produced after a revision, and that folding the events reproduces
// the current state.
func TestHistoryProperties(t *testing.T) {
	seed := seedFor(t)
	g := newCmdGen(seed)
	ts := openTestStore(t)
	seen := map[int64][]byte{} // revision → marshaled Range of all keys, read at the time
	var all []*raftkvv1.Event
	record := func() {
		resp := ts.rangeAll(0)
		b, err := marshal(resp)
		require.NoError(t, err)
		if old, ok := seen[resp.Header.Revision]; ok {
			require.Equal(t, old, b, "state changed without a revision bump")
		}
		seen[resp.Header.Revision] = b
	}
	record()
	for range 400 {
		res, evs := ts.apply(g.next())
		for i, ev := range evs {
			require.Equal(t, ts.s.Revision(), ev.Kv.ModRevision, "event %d of a single command at the new revision", i)
		}
		if res[0].GetError() == "" && res[0].GetCompact() == nil && len(evs) == 0 {
			require.Contains(t, seen, ts.s.Revision())
		}
		all = append(all, evs...)
		record()
	}
	compact := ts.s.CompactRevision()
	t.Logf("revision %d, compact %d, %d events", ts.s.Revision(), compact, len(all))

	for rev, want := range seen {
		resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
		if rev < compact {
			require.ErrorIs(t, err, ErrCompacted)
			continue
		}
		require.NoError(t, err)
		got, err := marshal(resp)
		require.NoError(t, err)
		require.Equal(t, want, got, "range at revision %d", rev)
	}

	// Events from every retained revision, on all keys and on a sub-range.
	kr := newKeyRange([]byte("a"), []byte("b"))
	for from := compact + 1; from <= ts.s.Revision()+1; from++ {
		var want, wantSub []*raftkvv1.Event
		for _, ev := range all {
			if ev.Kv.ModRevision >= from {
				want = append(want, ev)
				if kr.contains(ev.Kv.Key) {
					wantSub = append(wantSub, ev)
				}
			}
		}
		got, complete, err := ts.s.Events(from, []byte{0}, []byte{0}, 0)
		require.NoError(t, err)
		require.Equal(t, ts.s.Revision(), complete)
		requireProtoEqual(t, want, got)
		got, _, err = ts.s.Events(from, []byte("a"), []byte("b"), 0)
		require.NoError(t, err)
		requireProtoEqual(t, wantSub, got)

		// Paging with a limit yields the same events, whole revisions at a time.
		var paged []*raftkvv1.Event
		for next := from; next <= ts.s.Revision(); {
			page, complete, err := ts.s.Events(next, []byte{0}, []byte{0}, 3)
			require.NoError(t, err)
			require.GreaterOrEqual(t, complete, next)
			for _, ev := range page {
				require.LessOrEqual(t, ev.Kv.ModRevision, complete)
			}
			paged = append(paged, page...)
			next = complete + 1
		}
		requireProtoEqual(t, want, paged)
	}
	_, _, err := ts.s.Events(compact, []byte{0}, []byte{0}, 0)
	if compact > 0 {
		require.ErrorIs(t, err, ErrCompacted)
	}

	// Folding the retained events onto the state at the compact revision gives
	// the current state.
	start := max(compact, 1)
	state := map[string]*raftkvv1.KeyValue{}
	for _, kv := range ts.rangeAll(start).Kvs {
		state[string(kv.Key)] = kv
	}
	for _, ev := range all {
		if ev.Kv.ModRevision <= start {
			continue
		}
		if ev.Type == raftkvv1.Event_EVENT_TYPE_PUT {
			state[string(ev.Kv.Key)] = ev.Kv
		} else {
			delete(state, string(ev.Kv.Key))
		}
	}
	cur := ts.rangeAll(0).Kvs
	require.Len(t, cur, len(state))
	for _, kv := range cur {
		require.True(t, proto.Equal(state[string(kv.Key)], kv), "key %q", kv.Key)
	}
}

func TestSnapshotRestore(t *testing.T) {
	seed := seedFor(t)
	g := newCmdGen(seed)
	a := openTestStore(t)
	for range 300 {
		a.apply(g.next())
	}
	var snap bytes.Buffer
	require.NoError(t, a.s.Snapshot(&snap))

	b := openTestStore(t)
	b.put("junk", "x") // replaced by the restore
	require.NoError(t, b.s.Restore(bytes.NewReader(snap.Bytes())))
	require.Equal(t, stateOf(t, a.s), stateOf(t, b.s))
	require.Equal(t, a.s.AppliedIndex(), b.s.AppliedIndex())
	b.idx = b.s.AppliedIndex()

	// Both continue identically.
	for range 200 {
		cmd := g.next()
		resA, evsA := a.apply(cmd)
		resB, evsB := b.apply(cmd)
		require.Equal(t, marshalAll(t, resA), marshalAll(t, resB))
		require.Equal(t, marshalAll(t, evsA), marshalAll(t, evsB))
	}
	require.Equal(t, stateOf(t, a.s), stateOf(t, b.s))

	// The restored state survives a reopen.
	path := b.s.path
	want := stateOf(t, b.s)
	require.NoError(t, b.s.Close())
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, want, stateOf(t, s))
}

func TestRestoreRejectsGarbage(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "1")
	err := ts.s.Restore(bytes.NewReader([]byte("not a database")))
	require.ErrorIs(t, err, ErrCorrupt)
	require.Equal(t, "1", string(ts.get("a", 0).Value))
	ts.put("a", "2")
	require.Equal(t, int64(3), ts.s.Revision())
}

// TestConcurrentReadsDuringApplyAndRestore runs readers beside applies,
// snapshots and restores; run it with -race.
func TestConcurrentReadsDuringApplyAndRestore(t *testing.T) {
	g := newCmdGen(seedFor(t))
	ts := openTestStore(t)
	for range 50 {
		ts.apply(g.next())
	}
	var snap bytes.Buffer
	require.NoError(t, ts.s.Snapshot(&snap))

	stop := readers(4, func() error {
		resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
		if err == nil && resp.Count > int64(len(keyPool)) {
			return fmt.Errorf("range counted %d keys, more than the %d in the pool", resp.Count, len(keyPool))
		}
		_, _, _ = ts.s.Events(ts.s.CompactRevision()+1, []byte{0}, []byte{0}, 10)
		_ = ts.s.Leases()
		_ = ts.s.Size()
		return nil
	})
	for i := range 30 {
		if i%10 == 9 {
			require.NoError(t, ts.s.Restore(bytes.NewReader(snap.Bytes())))
			ts.idx = ts.s.AppliedIndex()
			continue
		}
		ts.apply(g.next(), g.next())
	}
	require.NoError(t, stop())
}
