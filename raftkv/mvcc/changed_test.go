package mvcc

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

const tChanged = raftkvv1.Compare_COMPARE_TARGET_CHANGED

// changed builds a CHANGED compare on [key, end) ("" end: key alone).
func changed(key, end string, result raftkvv1.Compare_CompareResult, v int64) *raftkvv1.Compare {
	c := &raftkvv1.Compare{Key: []byte(key), Target: tChanged, Result: result,
		TargetUnion: &raftkvv1.Compare_ModRevision{ModRevision: v}}
	if end != "" {
		c.RangeEnd = []byte(end)
	}
	return c
}

// holds runs a read-only txn with compare c and reports whether it succeeded.
func (ts *testStore) holds(c *raftkvv1.Compare) bool {
	ts.t.Helper()
	return ts.ok(txnCmd([]*raftkvv1.Compare{c}, nil, nil)).GetTxn().GetSucceeded()
}

type changedCase struct {
	name string
	c    *raftkvv1.Compare
	want bool
}

// resultCases are "latest op v" for every operator and v around latest.
func resultCases(key, end string, latest int64) []changedCase {
	var cs []changedCase
	for _, result := range []raftkvv1.Compare_CompareResult{rEq, rGt, rLt, rNeq} {
		for delta := int64(-1); delta <= 1; delta++ {
			v := latest + delta
			want := map[raftkvv1.Compare_CompareResult]bool{rEq: delta == 0, rGt: delta < 0, rLt: delta > 0, rNeq: delta != 0}[result]
			cs = append(cs, changedCase{fmt.Sprintf("[%s,%s) %v %d", key, end, result, v), changed(key, end, result, v), want})
		}
	}
	return cs
}

func TestChangedCompare(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "1")           // 2
	ts.put("b", "1")           // 3
	ts.put("c", "1")           // 4
	ts.ok(delCmd("b", ""))     // 5: a delete is a change
	ts.put("x", "1")           // 6
	ts.ok(delCmd("p", "q"))    // nothing to delete: no revision, no change
	ts.ok(delCmd("c", "\x00")) // 7: deletes c and x
	require.Equal(t, int64(7), ts.s.Revision())

	var cases []changedCase
	cases = append(cases, resultCases("a", "", 2)...)        // a put
	cases = append(cases, resultCases("b", "", 5)...)        // a deleted key
	cases = append(cases, resultCases("a", "c", 5)...)       // the delete of b inside a range
	cases = append(cases, resultCases("a", "b", 2)...)       // range_end is exclusive
	cases = append(cases, resultCases("c", "\x00", 7)...)    // from key: range delete
	cases = append(cases, resultCases("\x00", "\x00", 7)...) // everything
	cases = append(cases, resultCases("nope", "", 0)...)     // a key that never existed
	cases = append(cases, resultCases("d", "w", 0)...)       // a range that never held a key
	cases = append(cases, resultCases("p", "q", 0)...)       // a delete of nothing is no change
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ts.holds(tc.c))
		})
	}
}

// TestChangedSeesEarlierEntriesOfTheBatch: a change applied earlier in the
// same batch counts, and a txn's own writes do not count for its compares.
func TestChangedSeesEarlierEntriesOfTheBatch(t *testing.T) {
	ts := openTestStore(t)
	ts.put("k", "1") // 2
	res, _ := ts.apply(
		delCmd("k", ""), // 3
		txnCmd([]*raftkvv1.Compare{changed("k", "", rLt, 3)}, []*raftkvv1.RequestOp{opPut("k", "2")}, nil),
		txnCmd([]*raftkvv1.Compare{changed("j", "l", rLt, 4)}, []*raftkvv1.RequestOp{opPut("k", "3")}, nil), // 4
		txnCmd([]*raftkvv1.Compare{changed("k", "", rEq, 4)}, nil, nil),
	)
	require.False(t, res[1].GetTxn().GetSucceeded(), "the delete at 3 is a change after 2")
	require.True(t, res[2].GetTxn().GetSucceeded())
	require.True(t, res[3].GetTxn().GetSucceeded())
}

func TestChangedAfterCompaction(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "1")       // 2
	ts.put("b", "1")       // 3
	ts.ok(delCmd("b", "")) // 4
	ts.put("z", "1")       // 5
	ts.ok(compactCmd(4))   // C = 4: the delete of b is forgotten
	ts.ok(delCmd("z", "")) // 6: above C, kept

	for _, tc := range []changedCase{
		// [a, c): the latest change is the delete at 4, which compaction dropped;
		// what is left (a's put at 2) is at or below C, so only [0, 4] is known.
		{"range LESS above C", changed("a", "c", rLt, 5), true},
		{"range LESS at C", changed("a", "c", rLt, 4), false},
		{"range LESS below C is conservative", changed("a", "c", rLt, 3), false},
		{"key LESS below C is conservative", changed("a", "", rLt, 3), false}, // a changed at 2: "< 3" is true, but not provable
		{"key LESS above C", changed("a", "", rLt, 5), true},
		{"GREATER below C fails", changed("a", "c", rGt, 1), false},
		{"GREATER negative holds", changed("a", "c", rGt, -1), true},
		{"EQUAL fails after compaction", changed("a", "", rEq, 2), false},
		{"EQUAL 0 fails after compaction", changed("nope", "", rEq, 0), false},
		{"NOT_EQUAL inside [0, C] fails", changed("a", "", rNeq, 4), false},
		{"NOT_EQUAL above C holds", changed("a", "", rNeq, 5), true},
		{"never-changed key LESS 1 is conservative", changed("nope", "", rLt, 1), false},
		{"never-changed key LESS C+1", changed("nope", "", rLt, 5), true},
		// Changes above C are exact.
		{"delete above C LESS", changed("y", "\x00", rLt, 6), false},
		{"delete above C LESS next", changed("y", "\x00", rLt, 7), true},
		{"delete above C EQUAL", changed("z", "", rEq, 6), true},
		{"delete above C GREATER", changed("z", "", rGt, 5), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ts.holds(tc.c))
		})
	}
}

// TestChangedDeterministicAcrossBatching: replicas batch entries differently,
// and a batch that compacts keeps the uncompacted index until it commits; the
// outcome of CHANGED compares must not depend on that.
func TestChangedDeterministicAcrossBatching(t *testing.T) {
	setup := []*raftkvraftv1.Command{putCmd("a", "1", 0), putCmd("b", "1", 0), delCmd("b", ""), putCmd("c", "1", 0), delCmd("a", "")} // 2..6
	var probes []*raftkvraftv1.Command
	for _, key := range [][2]string{{"a", ""}, {"b", ""}, {"a", "c"}, {"a", "\x00"}, {"n", ""}} {
		for _, result := range []raftkvv1.Compare_CompareResult{rEq, rGt, rLt, rNeq} {
			for v := int64(-1); v <= 7; v++ {
				probes = append(probes, txnCmd([]*raftkvv1.Compare{changed(key[0], key[1], result, v)}, nil, nil))
			}
		}
	}
	outcomes := func(batched bool) []bool {
		ts := openTestStore(t)
		ts.apply(setup...)
		cmds := append([]*raftkvraftv1.Command{compactCmd(5)}, probes...)
		var res []*raftkvraftv1.CommandResult
		if batched {
			res, _ = ts.apply(cmds...)
		} else {
			for _, c := range cmds {
				res = append(res, ts.one(c))
			}
		}
		out := make([]bool, 0, len(probes))
		for _, r := range res[1:] {
			require.Empty(t, r.GetError())
			out = append(out, r.GetTxn().GetSucceeded())
		}
		return out
	}
	require.Equal(t, outcomes(false), outcomes(true))
}
