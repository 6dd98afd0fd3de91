package mvcc

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

const (
	tVersion = raftkvv1.Compare_COMPARE_TARGET_VERSION
	tCreate  = raftkvv1.Compare_COMPARE_TARGET_CREATE
	tMod     = raftkvv1.Compare_COMPARE_TARGET_MOD
	tValue   = raftkvv1.Compare_COMPARE_TARGET_VALUE
	tLease   = raftkvv1.Compare_COMPARE_TARGET_LEASE

	rEq  = raftkvv1.Compare_COMPARE_RESULT_EQUAL
	rGt  = raftkvv1.Compare_COMPARE_RESULT_GREATER
	rLt  = raftkvv1.Compare_COMPARE_RESULT_LESS
	rNeq = raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL
)

// cmp builds a compare; v is an int64 for numeric targets, a string for VALUE.
func cmp(key, end string, target raftkvv1.Compare_CompareTarget, result raftkvv1.Compare_CompareResult, v any) *raftkvv1.Compare {
	c := &raftkvv1.Compare{Key: []byte(key), Target: target, Result: result}
	if end != "" {
		c.RangeEnd = []byte(end)
	}
	switch target {
	case tVersion:
		c.TargetUnion = &raftkvv1.Compare_Version{Version: v.(int64)}
	case tCreate:
		c.TargetUnion = &raftkvv1.Compare_CreateRevision{CreateRevision: v.(int64)}
	case tMod:
		c.TargetUnion = &raftkvv1.Compare_ModRevision{ModRevision: v.(int64)}
	case tLease:
		c.TargetUnion = &raftkvv1.Compare_Lease{Lease: v.(int64)}
	case tValue:
		c.TargetUnion = &raftkvv1.Compare_Value{Value: []byte(v.(string))}
	}
	return c
}

func TestTxnCompare(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(grantCmd(100, 10))
	ts.ok(putCmd("k", "x", 0))   // 2
	ts.ok(putCmd("k", "m", 100)) // 3: version 2, create 2, mod 3, lease 100
	ts.put("r1", "a")            // 4
	ts.put("r2", "b")            // 5
	ts.put("r2", "c")            // 6

	type tc struct {
		name string
		c    *raftkvv1.Compare
		want bool
	}
	var tests []tc
	// Every target × result × (below, equal, above) on an existing key.
	actual := map[raftkvv1.Compare_CompareTarget]int64{tVersion: 2, tCreate: 2, tMod: 3, tLease: 100}
	for _, target := range []raftkvv1.Compare_CompareTarget{tVersion, tCreate, tMod, tLease, tValue} {
		for _, result := range []raftkvv1.Compare_CompareResult{rEq, rGt, rLt, rNeq} {
			for delta := -1; delta <= 1; delta++ {
				var v any
				if target == tValue {
					v = string(rune('m' + delta))
				} else {
					v = actual[target] + int64(delta)
				}
				// The key's actual value compared with v is -delta.
				want := map[raftkvv1.Compare_CompareResult]bool{rEq: delta == 0, rGt: delta < 0, rLt: delta > 0, rNeq: delta != 0}[result]
				tests = append(tests, tc{fmt.Sprintf("%v/%v/%v", target, result, v), cmp("k", "", target, result, v), want})
			}
		}
	}
	tests = append(tests,
		tc{"missing version 0", cmp("nope", "", tVersion, rEq, int64(0)), true},
		tc{"missing create 0", cmp("nope", "", tCreate, rEq, int64(0)), true},
		tc{"missing mod less 1", cmp("nope", "", tMod, rLt, int64(1)), true},
		tc{"missing lease 0", cmp("nope", "", tLease, rEq, int64(0)), true},
		tc{"missing version greater 0", cmp("nope", "", tVersion, rGt, int64(0)), false},
		tc{"missing value equal empty", cmp("nope", "", tValue, rEq, ""), false},
		tc{"missing value not equal", cmp("nope", "", tValue, rNeq, "x"), false},
		tc{"range all versions > 0", cmp("r", "s", tVersion, rGt, int64(0)), true},
		tc{"range not all version 1", cmp("r", "s", tVersion, rEq, int64(1)), false},
		tc{"range all version < 3", cmp("r", "s", tVersion, rLt, int64(3)), true},
		tc{"range values > 'a' fails on r1", cmp("r", "s", tValue, rGt, "a"), false},
		tc{"range values >= 'a'", cmp("r", "s", tValue, rGt, "0"), true},
		tc{"range from key", cmp("r2", "\x00", tMod, rEq, int64(6)), true},
		tc{"empty range is a missing key", cmp("x", "y", tVersion, rEq, int64(0)), true},
		tc{"empty range version > 0", cmp("x", "y", tVersion, rGt, int64(0)), false},
		tc{"empty range value", cmp("x", "y", tValue, rNeq, "q"), false},
		tc{"unspecified result", &raftkvv1.Compare{Key: []byte("k"), Target: tVersion}, false},
		tc{"unspecified target", &raftkvv1.Compare{Key: []byte("k"), Result: rEq}, false},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.ok(txnCmd([]*raftkvv1.Compare{tt.c}, nil, nil)).GetTxn()
			require.Equal(t, tt.want, r.Succeeded)
			require.Equal(t, int64(6), r.Header.Revision, "a read-only txn does not bump the revision")
		})
	}
	// Several compares: all must hold.
	r := ts.ok(txnCmd([]*raftkvv1.Compare{cmp("k", "", tVersion, rEq, int64(2)), cmp("r1", "", tValue, rEq, "a")}, nil, nil)).GetTxn()
	require.True(t, r.Succeeded)
	r = ts.ok(txnCmd([]*raftkvv1.Compare{cmp("k", "", tVersion, rEq, int64(2)), cmp("r1", "", tValue, rEq, "b")}, nil, nil)).GetTxn()
	require.False(t, r.Succeeded)
	require.Equal(t, int64(6), ts.s.Revision())
}

func TestTxnThenElse(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "0") // 2
	ts.put("b", "0") // 3

	ops := func(tag string) []*raftkvv1.RequestOp {
		return []*raftkvv1.RequestOp{opPut("a", tag), opRange("a", ""), opDel("b", ""), opRange("a", "c"), opPut("c", tag)}
	}
	res, evs := ts.apply(txnCmd([]*raftkvv1.Compare{cmp("a", "", tValue, rEq, "0")}, ops("then"), ops("else")))
	r := res[0].GetTxn()
	require.True(t, r.Succeeded)
	require.Equal(t, int64(4), r.Header.Revision)
	require.Len(t, r.Responses, 5)
	// Reads see the txn's earlier writes.
	got := r.Responses[1].GetResponseRange()
	require.Equal(t, "then", string(got.Kvs[0].Value))
	require.Equal(t, int64(4), got.Kvs[0].ModRevision)
	require.Equal(t, int64(2), got.Kvs[0].Version)
	require.Equal(t, int64(4), got.Header.Revision)
	require.Equal(t, "0", string(r.Responses[0].GetResponsePut().PrevKv.Value))
	require.Equal(t, int64(1), r.Responses[2].GetResponseDeleteRange().Deleted)
	require.Equal(t, []string{"a"}, keysOf(r.Responses[3].GetResponseRange().Kvs))
	// Events: one revision, op order.
	require.Len(t, evs, 3)
	for i, want := range []struct {
		typ raftkvv1.Event_EventType
		key string
	}{{raftkvv1.Event_EVENT_TYPE_PUT, "a"}, {raftkvv1.Event_EVENT_TYPE_DELETE, "b"}, {raftkvv1.Event_EVENT_TYPE_PUT, "c"}} {
		require.Equal(t, want.typ, evs[i].Type)
		require.Equal(t, want.key, string(evs[i].Kv.Key))
		require.Equal(t, int64(4), evs[i].Kv.ModRevision)
	}
	require.Equal(t, "0", string(evs[1].PrevKv.Value))

	// Now the compare fails: the else branch runs.
	r = ts.ok(txnCmd([]*raftkvv1.Compare{cmp("a", "", tValue, rEq, "0")}, ops("then2"), ops("else"))).GetTxn()
	require.False(t, r.Succeeded)
	require.Equal(t, int64(5), r.Header.Revision)
	require.Equal(t, "else", string(ts.get("a", 0).Value))
	require.Equal(t, int64(0), r.Responses[2].GetResponseDeleteRange().Deleted)

	// A txn whose only write deletes nothing does not bump the revision.
	r = ts.ok(txnCmd(nil, []*raftkvv1.RequestOp{opDel("zzz", "")}, nil)).GetTxn()
	require.Equal(t, int64(5), r.Header.Revision)
	require.Equal(t, int64(5), ts.s.Revision())
}

func TestTxnErrorsChangeNothing(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "0")
	tests := []struct {
		name    string
		cmd     *raftkvraftv1.Command
		wantErr error
	}{
		{"put twice", txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "1"), opPut("x", "2")}, nil), ErrDuplicateKey},
		{"put then delete", txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "1"), opDel("x", "")}, nil), ErrDuplicateKey},
		{"delete range then put", txnCmd(nil, []*raftkvv1.RequestOp{opDel("a", "z"), opPut("x", "1")}, nil), ErrDuplicateKey},
		{"delete from key then put", txnCmd(nil, []*raftkvv1.RequestOp{opDel("a", "\x00"), opPut("x", "1")}, nil), ErrDuplicateKey},
		{"duplicate in the branch not taken", txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "1")}, []*raftkvv1.RequestOp{opPut("y", "1"), opPut("y", "2")}), ErrDuplicateKey},
		{"delete range around puts", txnCmd(nil, []*raftkvv1.RequestOp{opPut("b", "1"), opPut("y", "1"), opDel("c", "y"), opPut("m", "1")}, nil), ErrDuplicateKey},
		{"delete everything then put", txnCmd(nil, []*raftkvv1.RequestOp{opDel("\x00", "\x00"), opPut("x", "1")}, nil), ErrDuplicateKey},
		{"missing lease", txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "1"), opPutLease("y", "1", 42)}, nil), ErrLeaseNotFound},
		{"empty key", txnCmd(nil, []*raftkvv1.RequestOp{opPut("x", "1"), opPut("", "1")}, nil), ErrEmptyKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, evs := ts.apply(tt.cmd)
			require.ErrorIs(t, ErrorFromCode(res[0].Error, res[0].ErrorMessage), tt.wantErr)
			require.Empty(t, evs)
			require.Equal(t, int64(2), ts.s.Revision())
			require.Equal(t, []string{"a"}, keysOf(ts.rangeAll(0).Kvs))
		})
	}
	// Overlapping deletes and disjoint puts are fine, also a range delete
	// with holes where the puts are.
	r := ts.ok(txnCmd(nil, []*raftkvv1.RequestOp{opDel("a", "b"), opDel("a", ""), opPut("b", "1"), opPut("c", "1"),
		opDel("c\x00", "e"), opPut("e", "1"), opDel("bb", "c"), opDel("z", "")}, nil)).GetTxn()
	require.True(t, r.Succeeded)
	require.Equal(t, []string{"b", "c", "e"}, keysOf(ts.rangeAll(0).Kvs))
}
