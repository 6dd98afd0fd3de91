package chaos

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/kvcheck"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestScheduleSameSeedSameSteps(t *testing.T) {
	for _, sc := range RaftKVScenarios() {
		for _, phase := range []time.Duration{sc.Phase, 2 * time.Minute} {
			a := sc.Schedule(rand.New(rand.NewPCG(42, stream("schedule", 0))), phase)
			b := sc.Schedule(rand.New(rand.NewPCG(42, stream("schedule", 0))), phase)
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

func TestEveryFitsPhase(t *testing.T) {
	s := Every(10*time.Second, 2*time.Second, Step{Fault: FaultKill, Target: TargetLeader, Duration: time.Second})
	steps := s(rand.New(rand.NewPCG(1, 2)), time.Minute)
	if len(steps) < 4 || len(steps) > 6 {
		t.Fatalf("%d steps in a minute, want about 5: %v", len(steps), steps)
	}
	if last := steps[len(steps)-1]; last.At+last.Duration > time.Minute {
		t.Fatalf("last step %v ends after the phase", last)
	}
}

func TestStepJSON(t *testing.T) {
	b, err := json.Marshal(Step{At: 1500 * time.Millisecond, Fault: FaultPartition, Target: TargetLeader, Duration: 5 * time.Second,
		Params: Params{Delay: 75 * time.Millisecond, Jitter: 25 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"1.5s","fault":"partition","target":"leader","pick":0,"duration":"5s","params":{"delay":"75ms","jitter":"25ms"}}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}

func TestLinearizableConversion(t *testing.T) {
	absent := kvcheck.Absent()
	ops := []Op{
		{Client: 0, Kind: KindPut, Key: "k", Value: "a", Call: ms(0), Return: ms(10), Outcome: OK},
		{Client: 1, Kind: KindGet, Key: "k", Value: "a", Found: true, Call: ms(20), Return: ms(30), Outcome: OK},
		{Client: 1, Kind: KindCAS, Key: "k", Value: "b", Expect: &absent, Call: ms(40), Return: ms(50), Outcome: OK},
		{Client: 2, Kind: KindPut, Key: "k", Value: "c", Call: ms(60), Return: -1, Outcome: Unknown},
		{Client: 3, Kind: KindPutUnique, Key: "u", Value: "x", Call: ms(60), Return: ms(70), Outcome: OK},
		{Client: 4, Kind: KindGet, Key: "k", Call: ms(60), Return: ms(70), Outcome: Fail},
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
	ops = append(ops, Op{Client: 5, Kind: KindGet, Key: "k", Call: ms(80), Return: ms(90), Outcome: OK})
	res, err = kvcheck.Check(Linearizable(ops), 10*time.Second)
	if err != nil || !res.Illegal() {
		t.Fatalf("stale read: Check = %v, %v; want illegal", res, err)
	}
}

func TestCheckDurable(t *testing.T) {
	ops := []Op{
		{Kind: KindPutUnique, Key: "a", Value: "1", Outcome: OK},
		{Kind: KindPutUnique, Key: "b", Value: "2", Outcome: OK},
		{Kind: KindPutUnique, Key: "c", Value: "3", Outcome: Unknown},
		{Kind: KindPutUnique, Key: "d", Value: "4", Outcome: Fail},
		{Kind: KindPutUnique, Key: "e", Value: "5", Outcome: OK},
	}
	v := checkDurable(ops, map[string]finalKV{"a": {Value: "1"}, "c": {Value: "3"}, "d": {Value: "4"}, "e": {Value: "x"}})
	if v.Count != 3 {
		t.Fatalf("got %d violations, want 3 (b lost, d applied after a definite failure, e wrong): %v", v.Count, v.Violations)
	}
	if v := checkDurable(ops[:3], map[string]finalKV{"a": {Value: "1"}, "b": {Value: "2"}}); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
}

func TestCheckWatch(t *testing.T) {
	base := []Op{
		{ID: 0, Kind: KindWatchStart, Rev: 5},
		{ID: 1, Kind: KindPut, Key: "p/a", Value: "1", Rev: 5, Outcome: OK},
		{ID: 2, Kind: KindPut, Key: "p/b", Value: "2", Rev: 6, Outcome: OK},
		{ID: 3, Kind: KindPut, Key: "p/a", Value: "3", Outcome: Unknown},
		{ID: 4, Kind: KindWatchEvent, Key: "p/a", Value: "1", Rev: 5},
		{ID: 5, Kind: KindWatchEvent, Key: "p/b", Value: "2", Rev: 6},
		{ID: 6, Kind: KindWatchEvent, Key: "p/a", Value: "3", Rev: 7},
		{ID: 7, Kind: KindWatchEnd, Rev: 7, Outcome: OK},
	}
	final := map[string]finalKV{"p/a": {Value: "3", Rev: 7}, "p/b": {Value: "2", Rev: 6}}
	if v := checkWatch(base, final, "p/", true); !v.Pass() {
		t.Fatalf("clean history failed: %v %s", v.Violations, v.Err)
	}
	tests := []struct {
		name string
		edit func([]Op) []Op
		want string
	}{
		{"lost event", func(ops []Op) []Op { return append(ops[:5:5], ops[6:]...) }, "never delivered"},
		{"duplicate", func(ops []Op) []Op {
			d := ops[5]
			d.ID = 8
			return append(ops, d)
		}, "twice"},
		{"out of order", func(ops []Op) []Op {
			ops[4], ops[5] = ops[5], ops[4]
			ops[4].ID, ops[5].ID = 4, 5
			return ops
		}, "after revision"},
		{"phantom", func(ops []Op) []Op { ops[6].Value = "zzz"; return ops }, "matches no write"},
		{"stalled", func(ops []Op) []Op { ops[7].Outcome = Fail; ops[7].Err = "stalled"; return ops }, "did not catch up"},
	}
	for _, tt := range tests {
		ops := tt.edit(append([]Op(nil), base...))
		v := checkWatch(ops, final, "p/", true)
		if v.Pass() || !strings.Contains(strings.Join(v.Violations, "\n"), tt.want) {
			t.Errorf("%s: violations %q, want one containing %q", tt.name, v.Violations, tt.want)
		}
	}
}

func TestCheckLeases(t *testing.T) {
	ops := []Op{
		{Kind: KindLeaseGrant, Value: roleKeeper, Lease: 1, Outcome: OK},
		{Kind: KindLeaseGrant, Value: roleExpiring, Lease: 2, Outcome: OK},
		{Kind: KindLeaseTTL, Lease: 1, Found: true, Rev: 14, Outcome: OK, Call: ms(10), Return: ms(20)},
		{Kind: KindLeaseGet, Lease: 1, Key: "keep", Found: true, Outcome: OK, Call: ms(20), Return: ms(30)},
		{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: true, Outcome: OK, Call: ms(20), Return: ms(30)}, // before expiry: fine
		{Kind: KindLeaseTTL, Lease: 2, Found: false, Outcome: OK, Call: ms(40), Return: ms(50)},
		{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: false, Outcome: OK, Call: ms(60), Return: ms(70)},
	}
	if v := checkLeases(ops); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
	bad := append(append([]Op(nil), ops...),
		Op{Kind: KindLeaseGet, Lease: 2, Key: "exp", Found: true, Outcome: OK, Call: ms(80), Return: ms(90)},
		Op{Kind: KindLeaseTTL, Lease: 1, Found: false, Outcome: OK, Call: ms(80), Return: ms(90)},
		Op{Kind: KindLeaseGet, Lease: 1, Key: "keep", Found: false, Outcome: OK, Call: ms(80), Return: ms(90)},
	)
	if v := checkLeases(bad); v.Count != 3 {
		t.Fatalf("got %d violations, want 3: %v", v.Count, v.Violations)
	}
}

func TestCheckMinority(t *testing.T) {
	faults := []FaultRecord{{Step: 0, Fault: FaultPartition, Nodes: []string{"n1"}, Start: ms(100), End: ms(500)}}
	ops := []Op{
		{Kind: KindPut, Via: "n1", Call: ms(50), Return: ms(150), Outcome: OK}, // invoked before the cut
		{Kind: KindPut, Via: "n1", Call: ms(200), Return: ms(300), Outcome: Unknown},
		{Kind: KindPut, Via: "n2", Call: ms(200), Return: ms(300), Outcome: OK}, // majority side
		{Kind: KindGet, Via: "n1", Call: ms(200), Return: ms(300), Outcome: Fail},
	}
	if v := checkMinority(ops, faults); !v.Pass() {
		t.Fatalf("clean history failed: %v", v.Violations)
	}
	ops = append(ops, Op{Kind: KindCAS, Via: "n1", Call: ms(200), Return: ms(300), Outcome: OK})
	if v := checkMinority(ops, faults); v.Count != 1 {
		t.Fatalf("got %d violations, want 1", v.Count)
	}
}

func TestBuildReport(t *testing.T) {
	faults := []FaultRecord{
		{Step: 0, Fault: FaultKill, Nodes: []string{"n1"}, Start: ms(3000), End: ms(4000), Ready: ms(4500)},
		{Step: 1, Fault: FaultPause, Nodes: []string{"n2"}, Start: ms(6000), End: ms(7000), Ready: ms(7200)},
		{Step: 2, Fault: FaultPartition, Nodes: []string{"n3"}, Start: -1, End: -1, Err: "no leader"},
	}
	ops := []Op{
		{Kind: KindPut, Call: ms(2000), Return: ms(2100), Outcome: OK},
		{Kind: KindGet, Call: ms(3100), Return: ms(3900), Outcome: Fail},
		{Kind: KindPut, Call: ms(3200), Return: ms(3950), Outcome: Unknown},
		{Kind: KindPut, Call: ms(4100), Return: ms(4300), Outcome: OK}, // recovery 300ms after step 0
		{Kind: KindGet, Call: ms(7100), Return: ms(7200), Outcome: OK},
		{Kind: KindWatchEvent, Call: ms(7100), Return: ms(7100), Outcome: OK},
	}
	r := buildReport("t", 7, ops, faults, []Verdict{{Checker: "x"}}, 10*time.Second)
	if r.Ops != 5 || r.OK != 3 || r.Failed != 1 || r.Unknown != 1 {
		t.Fatalf("counts %+v", r)
	}
	if len(r.Windows) != 2 || r.Windows[0].Recovery != ms(300) || r.Windows[1].Recovery != -1 {
		t.Fatalf("windows %+v", r.Windows)
	}
	if w := r.Windows[0]; w.Before != (Rate{OK: 1, Total: 1}) || w.During != (Rate{OK: 0, Total: 2}) || w.After != (Rate{OK: 1, Total: 1}) {
		t.Fatalf("rates %+v", w)
	}
	if r.Pass || len(r.Problems) != 2 { // step 2 failed; no write after step 1
		t.Fatalf("pass=%v problems=%q", r.Pass, r.Problems)
	}
	if s := r.String(); !strings.Contains(s, "FAIL") || !strings.Contains(s, "kill") {
		t.Fatalf("table:\n%s", s)
	}
}

// TestPackageDoc enforces exactly one package doc comment, in doc.go.
func TestPackageDoc(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if (f.Doc != nil) != (name == "doc.go") {
			t.Errorf("%s: package doc comment present=%v; only doc.go has one", name, f.Doc != nil)
		}
	}
}
