package sqlchaos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// tx builds a list-append op: id, outcome, call and return in ms (-1: never
// returned), micro-ops.
func tx(id int, outcome chaos.Outcome, call, ret int, mops ...Mop) chaos.Op {
	kind := KindReadTxn
	for _, m := range mops {
		if m.Append {
			kind = KindAppendTxn
		}
	}
	r := time.Duration(ret) * time.Millisecond
	if ret < 0 {
		r = -1
	}
	return chaos.Op{ID: id, Client: id, Kind: kind, Value: EncodeMops(mops), Call: time.Duration(call) * time.Millisecond, Return: r, Outcome: outcome}
}

func TestCheckListAppend(t *testing.T) {
	ok, fail, unknown := chaos.OK, chaos.Fail, chaos.Unknown
	tests := []struct {
		name     string
		ops      []chaos.Op
		final    map[int][]int
		realtime bool
		want     []string // anomaly types, sorted; nil: valid
	}{
		{
			name: "serial history",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1, 1), Append(1, 2), Read(1, 1, 2)),
				tx(2, ok, 40, 50, Read(1, 1, 2), Read(2)),
			},
			final:    map[int][]int{1: {1, 2}},
			realtime: true,
		},
		{
			name: "concurrent transactions in either order",
			ops: []chaos.Op{
				tx(0, ok, 0, 30, Append(1, 1), Read(2)),
				tx(1, ok, 0, 30, Read(1, 1), Append(2, 2)),
				tx(2, fail, 0, 30, Append(1, 3)),
			},
			final:    map[int][]int{1: {1}, 2: {2}},
			realtime: true,
		},
		{
			name: "unknown append seen by a read is committed",
			ops: []chaos.Op{
				tx(0, unknown, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1, 1)),
				tx(2, unknown, 20, -1, Append(1, 2)),
			},
			final:    map[int][]int{1: {1}},
			realtime: true,
		},
		{
			name: "unknown commit applied after its client gave up",
			ops: []chaos.Op{
				tx(0, unknown, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1)),
				tx(2, ok, 40, 50, Read(1, 1)),
			},
			final:    map[int][]int{1: {1}},
			realtime: true,
		},
		{
			name: "G0 write cycle",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1), Append(2, 2)),
				tx(1, ok, 0, 10, Append(1, 3), Append(2, 4)),
			},
			final: map[int][]int{1: {1, 3}, 2: {4, 2}},
			want:  []string{AnomalyG0},
		},
		{
			name: "G1a aborted read",
			ops: []chaos.Op{
				tx(0, fail, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1, 1)),
			},
			final: map[int][]int{1: {1}},
			want:  []string{AnomalyG1a},
		},
		{
			name: "G1b intermediate read",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1), Append(1, 2)),
				tx(1, ok, 0, 10, Read(1, 1)),
			},
			final: map[int][]int{1: {1, 2}},
			// Reading the intermediate state also puts the reader between
			// the writer's two appends: wr then rw back.
			want: []string{AnomalyGSingle, AnomalyG1b},
		},
		{
			name: "G1c circular information flow",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1), Read(2, 2)),
				tx(1, ok, 0, 10, Append(2, 2), Read(1, 1)),
			},
			final: map[int][]int{1: {1}, 2: {2}},
			want:  []string{AnomalyG1c},
		},
		{
			name: "G-single read skew",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1), Append(2, 2)),
				tx(1, ok, 0, 10, Read(1, 1), Read(2)),
			},
			final: map[int][]int{1: {1}, 2: {2}},
			want:  []string{AnomalyGSingle},
		},
		{
			name: "G2 write skew",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Read(1), Append(2, 2)),
				tx(1, ok, 0, 10, Read(2), Append(1, 1)),
			},
			final: map[int][]int{1: {1}, 2: {2}},
			want:  []string{AnomalyG2},
		},
		{
			name: "stale read breaks real time only",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1)),
			},
			final:    map[int][]int{1: {1}},
			realtime: true,
			want:     []string{AnomalyGSingle + AnomalyRealtimeSuffix},
		},
		{
			name: "stale read is serializable",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1)),
			},
			final: map[int][]int{1: {1}},
		},
		{
			name: "lost append",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 0, 10, Append(1, 2)),
			},
			final: map[int][]int{1: {2}},
			want:  []string{AnomalyLostAppend},
		},
		{
			name: "unknown transaction applied in part",
			ops: []chaos.Op{
				tx(0, unknown, 0, 10, Append(1, 1), Append(2, 2)),
			},
			final: map[int][]int{1: {1}},
			want:  []string{AnomalyLostAppend},
		},
		{
			name: "incompatible orders",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 0, 10, Append(1, 2)),
				tx(2, ok, 20, 30, Read(1, 2, 1)),
			},
			final: map[int][]int{1: {1, 2}},
			want:  []string{AnomalyIncompatibleOrder},
		},
		{
			name: "garbage and duplicate elements",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 20, 30, Read(1, 1, 1)),
				tx(2, ok, 20, 30, Read(2, 99)),
			},
			final: map[int][]int{1: {1}},
			want:  []string{AnomalyDuplicate, AnomalyGarbage},
		},
		{
			name: "internal inconsistency",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1), Read(1)),
			},
			final: map[int][]int{1: {1}},
			want:  []string{AnomalyInternal},
		},
		{
			name: "non-repeatable read inside a transaction",
			ops: []chaos.Op{
				tx(0, ok, 0, 10, Append(1, 1)),
				tx(1, ok, 0, 10, Read(1), Read(1, 1)),
			},
			final: map[int][]int{1: {1}},
			want:  []string{AnomalyGSingle, AnomalyInternal},
		},
		{
			name: "unparsable read",
			ops: []chaos.Op{
				{ID: 0, Kind: KindReadTxn, Value: "r1", Outcome: chaos.Fail, Err: errMalformed.Error() + `: key 1 holds "x"`, Return: 1},
				{ID: 1, Kind: KindReadTxn, Value: "q1", Outcome: chaos.OK, Return: 1},
			},
			want: []string{AnomalyGarbage, AnomalyMalformed},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := CheckListAppend(tc.ops, tc.final, tc.realtime)
			if got := res.Types(); !slices.Equal(got, tc.want) {
				t.Fatalf("anomaly types %v, want %v\n%v\n%s", got, tc.want, res.Anomalies, res.Summary)
			}
			v := res.Verdict("list-append")
			if v.Pass() != (len(tc.want) == 0) || v.Count != len(res.Anomalies) {
				t.Fatalf("verdict pass=%v count=%d for %d anomalies", v.Pass(), v.Count, len(res.Anomalies))
			}
		})
	}
}

func TestCheckListAppendReportsTheCycle(t *testing.T) {
	ops := []chaos.Op{
		tx(0, chaos.OK, 0, 10, Read(1), Append(2, 2)),
		tx(1, chaos.OK, 0, 10, Read(2), Append(1, 1)),
		tx(2, chaos.OK, 20, 30, Read(1, 1)),
	}
	res := CheckListAppend(ops, map[int][]int{1: {1}, 2: {2}}, false)
	if len(res.Anomalies) != 1 {
		t.Fatalf("anomalies %v, want one G2", res.Anomalies)
	}
	msg := res.Anomalies[0].Msg
	for _, want := range []string{"op 0 ", "op 1 ", "-rw(key 1)->", "-rw(key 2)->", "component of 2 transactions"} {
		if !strings.Contains(msg, want) {
			t.Errorf("cycle %q lacks %q", msg, want)
		}
	}
}

// TestCheckListAppendLongSerialHistory checks a long history executed one
// transaction at a time: it must pass, with realtime edges, quickly.
func TestCheckListAppendLongSerialHistory(t *testing.T) {
	lists := map[int][]int{}
	var ops []chaos.Op
	elem := 0
	for i := range 3000 {
		var mops []Mop
		for j := range 3 {
			k := (i + j) % 7
			if (i+j)%2 == 0 {
				mops = append(mops, Append(k, elem))
				lists[k] = append(lists[k], elem)
				elem++
			} else {
				mops = append(mops, Read(k, slices.Clone(lists[k])...))
			}
		}
		ops = append(ops, tx(i, chaos.OK, 10*i, 10*i+5, mops...))
	}
	start := time.Now()
	res := CheckListAppend(ops, lists, true)
	if len(res.Anomalies) != 0 {
		t.Fatalf("anomalies in a serial history: %v", res.Anomalies[:min(3, len(res.Anomalies))])
	}
	t.Logf("%s in %v", res.Summary, time.Since(start))
}

func TestMopsRoundTrip(t *testing.T) {
	mops := []Mop{Append(3, 17), {Key: 4}, Read(5), Read(6, 1, 2, 3)}
	s := EncodeMops(mops)
	if s != "a3=17 r4 r5: r6:1,2,3" {
		t.Fatalf("EncodeMops = %q", s)
	}
	got, err := DecodeMops(s)
	if err != nil {
		t.Fatal(err)
	}
	if EncodeMops(got) != s || !got[2].Done || got[1].Done || len(got[2].Read) != 0 {
		t.Fatalf("DecodeMops(%q) = %+v", s, got)
	}
	for _, bad := range []string{"x1", "a", "a1", "a1=x", "rx", "r1:1,,2", "r1:a"} {
		if _, err := DecodeMops(bad); err == nil {
			t.Errorf("DecodeMops(%q) accepted", bad)
		}
	}
}
