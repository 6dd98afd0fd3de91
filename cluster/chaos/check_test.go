package chaos

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestKindsMerge(t *testing.T) {
	k := Kinds{}
	if err := k.merge(Kinds{kindPut: ClassWrite, kindEvent: ClassEvent}); err != nil {
		t.Fatal(err)
	}
	if err := k.merge(Kinds{kindPut: ClassWrite}); err != nil {
		t.Fatalf("same class twice: %v", err)
	}
	if err := k.merge(Kinds{kindPut: ClassRead}); err == nil {
		t.Fatal("conflicting classes accepted")
	}
	if !k.IsWrite(kindPut) || k.IsWrite(kindGet) || !k.IsRequest(kindGet) || k.IsRequest(kindEvent) {
		t.Fatalf("classes %v", k)
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

// The kinds of TestBuildReport: a write, a read and an event.
const (
	kindPut   OpKind = "put"
	kindGet   OpKind = "get"
	kindEvent OpKind = "event"
)

var testKinds = Kinds{kindPut: ClassWrite, kindEvent: ClassEvent}

func TestBuildReport(t *testing.T) {
	faults := []FaultRecord{
		{Step: 0, Fault: FaultKill, Nodes: []string{"n1"}, Start: ms(3000), End: ms(4000), Ready: ms(4500)},
		{Step: 1, Fault: FaultPause, Nodes: []string{"n2"}, Start: ms(6000), End: ms(7000), Ready: ms(7200)},
		{Step: 2, Fault: FaultPartition, Nodes: []string{"n3"}, Start: -1, End: -1, Err: "no leader"},
	}
	ops := []Op{
		{Kind: kindPut, Call: ms(2000), Return: ms(2100), Outcome: OK},
		{Kind: kindGet, Call: ms(3100), Return: ms(3900), Outcome: Fail},
		{Kind: kindPut, Call: ms(3200), Return: ms(3950), Outcome: Unknown},
		{Kind: kindPut, Call: ms(4100), Return: ms(4300), Outcome: OK}, // recovery 300ms after step 0
		{Kind: kindGet, Call: ms(7100), Return: ms(7200), Outcome: OK},
		{Kind: kindEvent, Call: ms(7100), Return: ms(7100), Outcome: OK},
	}
	r := buildReport("t", 7, ops, testKinds, faults, []Verdict{{Checker: "x"}}, 10*time.Second)
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
