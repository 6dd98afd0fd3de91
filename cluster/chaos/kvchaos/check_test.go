package kvchaos

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/raftkv/kvcheck"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestScheduleSameSeedSameSteps(t *testing.T) {
	for _, sc := range RaftKVScenarios() {
		for _, phase := range []time.Duration{sc.Phase, 2 * time.Minute} {
			a := sc.Schedule(rand.New(rand.NewPCG(42, chaos.Stream("schedule", 0))), phase)
			b := sc.Schedule(rand.New(rand.NewPCG(42, chaos.Stream("schedule", 0))), phase)
			if len(a) == 0 {
				t.Errorf("%s: empty schedule for phase %v", sc.Name, phase)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: same seed gave different schedules:\n%v\n%v", sc.Name, a, b)
			}
			for i := 1; i < len(a); i++ {
				if a[i].At < a[i-1].At+a[i-1].Duration {
					t.Errorf("%s: step %d at %v overlaps step %d (%v for %v)", sc.Name, i, a[i].At, i-1, a[i-1].At, a[i-1].Duration)
				}
			}
		}
	}
}

func TestLinearizableConversion(t *testing.T) {
	absent := kvcheck.Absent()
	ops := []chaos.Op{
		{Client: 0, Kind: KindPut, Key: "k", Value: "a", Call: ms(0), Return: ms(10), Outcome: chaos.OK},
		{Client: 1, Kind: KindGet, Key: "k", Value: "a", Found: true, Call: ms(20), Return: ms(30), Outcome: chaos.OK},
		{Client: 1, Kind: KindCAS, Key: "k", Value: "b", Expect: (*chaos.Expected)(&absent), Call: ms(40), Return: ms(50), Outcome: chaos.OK},
		{Client: 2, Kind: KindPut, Key: "k", Value: "c", Call: ms(60), Return: -1, Outcome: chaos.Unknown},
		{Client: 3, Kind: KindPutUnique, Key: "u", Value: "x", Call: ms(60), Return: ms(70), Outcome: chaos.OK},
		{Client: 4, Kind: KindGet, Key: "k", Call: ms(60), Return: ms(70), Outcome: chaos.Fail},
	}
	h := Linearizable(ops)
	if len(h) != 5 {
		t.Fatalf("got %d operations, want the 5 register ones", len(h))
	}
	res, err := kvcheck.Check(h, 10*time.Second)
	if err != nil || !res.Ok() {
		t.Fatalf("Check = %v, %v", res, err)
	}
	// A stale read after the acknowledged put must be caught.
	ops = append(ops, chaos.Op{Client: 5, Kind: KindGet, Key: "k", Call: ms(80), Return: ms(90), Outcome: chaos.OK})
	res, err = kvcheck.Check(Linearizable(ops), 10*time.Second)
	if err != nil || !res.Illegal() {
		t.Fatalf("stale read: Check = %v, %v; want illegal", res, err)
	}
}

func TestCheckDurable(t *testing.T) {
	ops := []chaos.Op{
		{Kind: KindPutUnique, Key: "a", Value: "1", Outcome: chaos.OK},
		{Kind: KindPutUnique, Key: "b", Value: "2", Outcome: chaos.OK},
		{Kind: KindPutUnique, Key: "c", Value: "3", Outcome: chaos.Unknown},
		{Kind: KindPutUnique, Key: "d", Value: "4", Outcome: chaos.Fail},
		{Kind: KindPutUnique, Key: "e", Value: "5", Outcome: chaos.OK},
	}
	v := checkDurable(ops, map[string]Final{"a": {Value: "1"}, "c": {Value: "3"}, "d": {Value: "4"}, "e": {Value: "x"}})
	if v.Count != 3 {
		t.Fatalf("got %d violations, want 3 (b lost, d applied after a definite failure, e wrong): %v", v.Count, v.Violations)
	}
	if v := checkDurable(ops[:3], map[string]Final{"a": {Value: "1"}, "b": {Value: "2"}}); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
}

func TestCheckWatch(t *testing.T) {
	base := []chaos.Op{
		{ID: 0, Kind: KindWatchStart, Rev: 5},
		{ID: 1, Kind: KindPut, Key: "p/a", Value: "1", Rev: 5, Outcome: chaos.OK},
		{ID: 2, Kind: KindPut, Key: "p/b", Value: "2", Rev: 6, Outcome: chaos.OK},
		{ID: 3, Kind: KindPut, Key: "p/a", Value: "3", Outcome: chaos.Unknown},
		{ID: 4, Kind: KindWatchEvent, Key: "p/a", Value: "1", Rev: 5},
		{ID: 5, Kind: KindWatchEvent, Key: "p/b", Value: "2", Rev: 6},
		{ID: 6, Kind: KindWatchEvent, Key: "p/a", Value: "3", Rev: 7},
		{ID: 7, Kind: KindWatchEnd, Rev: 7, Outcome: chaos.OK},
	}
	final := map[string]Final{"p/a": {Value: "3", Rev: 7}, "p/b": {Value: "2", Rev: 6}}
	if v := checkWatch(base, final, "p/", true); !v.Pass() {
		t.Fatalf("clean history failed: %v %s", v.Violations, v.Err)
	}
	tests := []struct {
		name string
		edit func([]chaos.Op) []chaos.Op
		want string
	}{
		{"lost event", func(ops []chaos.Op) []chaos.Op { return append(ops[:5:5], ops[6:]...) }, "never delivered"},
		{"duplicate", func(ops []chaos.Op) []chaos.Op {
			d := ops[5]
			d.ID = 8
			return append(ops, d)
		}, "twice"},
		{"out of order", func(ops []chaos.Op) []chaos.Op {
			ops[4], ops[5] = ops[5], ops[4]
			ops[4].ID, ops[5].ID = 4, 5
			return ops
		}, "after revision"},
		{"phantom", func(ops []chaos.Op) []chaos.Op { ops[6].Value = "zzz"; return ops }, "matches no write"},
		{"stalled", func(ops []chaos.Op) []chaos.Op { ops[7].Outcome = chaos.Fail; ops[7].Err = "stalled"; return ops }, "did not catch up"},
	}
	for _, tt := range tests {
		ops := tt.edit(append([]chaos.Op(nil), base...))
		v := checkWatch(ops, final, "p/", true)
		if v.Pass() || !strings.Contains(strings.Join(v.Violations, "\n"), tt.want) {
			t.Errorf("%s: violations %q, want one containing %q", tt.name, v.Violations, tt.want)
		}
	}
}

func TestCheckLeases(t *testing.T) {
	ops := []chaos.Op{
		{Kind: KindLeaseGrant, Value: roleKeeper, Lease: 1, Outcome: chaos.OK},
		{Kind: KindLeaseGrant, Value: roleExpiring, Lease: 2, Outcome: chaos.OK},
		{Kind: KindLeaseTTL, Lease: 1, Found: true, Rev: 14, Outcome: chaos.OK, Call: ms(10), Return: ms(20)},
		{Kind: KindLeaseGet, Lease: 1, Key: "keep", Found: true, Outcome: chaos.OK, Call: ms(20), Return: ms(30)},
		{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: true, Outcome: chaos.OK, Call: ms(20), Return: ms(30)}, // before expiry: fine
		{Kind: KindLeaseTTL, Lease: 2, Found: false, Outcome: chaos.OK, Call: ms(40), Return: ms(50)},
		{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: false, Outcome: chaos.OK, Call: ms(60), Return: ms(70)},
	}
	if v := checkLeases(ops); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
	bad := append(append([]chaos.Op(nil), ops...),
		chaos.Op{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: true, Outcome: chaos.OK, Call: ms(80), Return: ms(90)},
		chaos.Op{Kind: KindLeaseTTL, Lease: 1, Found: false, Outcome: chaos.OK, Call: ms(80), Return: ms(90)},
		chaos.Op{Kind: KindLeaseGet, Lease: 1, Key: "keep", Found: false, Outcome: chaos.OK, Call: ms(80), Return: ms(90)},
	)
	if v := checkLeases(bad); v.Count != 3 {
		t.Fatalf("got %d violations, want 3: %v", v.Count, v.Violations)
	}
}

func TestCheckMinority(t *testing.T) {
	faults := []chaos.FaultRecord{{Step: 0, Fault: chaos.FaultPartition, Nodes: []string{"n1"}, Start: ms(100), End: ms(500)}}
	ops := []chaos.Op{
		{Kind: KindPut, Via: "n1", Call: ms(50), Return: ms(150), Outcome: chaos.OK}, // invoked before the cut
		{Kind: KindPut, Via: "n1", Call: ms(200), Return: ms(300), Outcome: chaos.Unknown},
		{Kind: KindPut, Via: "n2", Call: ms(200), Return: ms(300), Outcome: chaos.OK}, // majority side
		{Kind: KindGet, Via: "n1", Call: ms(200), Return: ms(300), Outcome: chaos.Fail},
	}
	if v := checkMinority(ops, faults); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
	ops = append(ops, chaos.Op{Kind: KindCAS, Via: "n1", Call: ms(200), Return: ms(300), Outcome: chaos.OK})
	if v := checkMinority(ops, faults); v.Count != 1 {
		t.Fatalf("got %d violations, want 1", v.Count)
	}
}

// Errors the error contract calls definite are Fail, so that an outage where
// clients fail fast does not fill the history with unknown writes (it made
// porcupine time out on full-crash); anything that may have applied stays
// Unknown.
func TestWriteOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want chaos.Outcome
	}{
		{nil, chaos.OK},
		{rpcerr.Error(rpcerr.NoLeader, "no leader", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.NoQuorum, "no quorum", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.Unreachable, "no member reachable", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.NotSent, "not sent", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.InvalidArgument, "bad", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.OutcomeUnknown, "maybe", nil), chaos.Unknown},
		{status.Error(codes.Unavailable, "connection reset"), chaos.Unknown},
		{status.Error(codes.DeadlineExceeded, "deadline"), chaos.Unknown},
	} {
		require.Equal(t, tc.want, WriteOutcome(tc.err), "%v", tc.err)
	}
}
