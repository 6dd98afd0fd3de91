package kvcheck

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ok() Output                    { return Output{Outcome: OutcomeOK} }
func read(v Value) Output           { return Output{Outcome: OutcomeOK, Value: v} }
func swapped(succeeded bool) Output { return Output{Outcome: OutcomeOK, Succeeded: succeeded} }
func unknown() Output               { return Output{Outcome: OutcomeUnknown} }
func failed() Output                { return Output{Outcome: OutcomeFail} }

func op(client int, in Input, out Output, call, ret int64) Operation {
	return Operation{Client: client, Input: in, Output: out, Call: call, Return: ret}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		h    History
		want Verdict
	}{
		{"empty", nil, Ok},
		{"read absent key", History{
			op(0, Get("k"), read(Absent()), 0, 10),
		}, Ok},
		{"read own write", History{
			op(0, Put("k", "a"), ok(), 0, 10),
			op(0, Get("k"), read(Present("a")), 20, 30),
		}, Ok},
		{"concurrent read may see old value", History{
			op(0, Put("k", "a"), ok(), 0, 100),
			op(1, Get("k"), read(Absent()), 10, 20),
			op(2, Get("k"), read(Present("a")), 30, 40),
		}, Ok},
		{"touching intervals are concurrent", History{
			op(0, Put("k", "a"), ok(), 0, 10),
			op(1, Get("k"), read(Absent()), 10, 20),
		}, Ok},
		{"keys are independent", History{
			op(0, Put("x", "1"), ok(), 0, 10),
			op(1, Put("y", "2"), ok(), 0, 10),
			op(0, Get("y"), read(Present("2")), 20, 30),
			op(1, Get("x"), read(Present("1")), 20, 30),
		}, Ok},
		{"cas on absent key", History{
			op(0, CAS("k", Absent(), "a"), swapped(true), 0, 10),
			op(1, CAS("k", Absent(), "b"), swapped(false), 20, 30),
			op(0, Get("k"), read(Present("a")), 40, 50),
		}, Ok},
		{"concurrent cas, one wins", History{
			op(0, Put("k", "0"), ok(), 0, 5),
			op(1, CAS("k", Present("0"), "a"), swapped(true), 10, 20),
			op(2, CAS("k", Present("0"), "b"), swapped(false), 12, 22),
			op(0, Get("k"), read(Present("a")), 30, 40),
		}, Ok},
		{"stale read after acknowledged write", History{
			op(0, Put("k", "a"), ok(), 0, 10),
			op(1, Get("k"), read(Absent()), 20, 30),
		}, Illegal},
		{"lost acknowledged write", History{
			op(0, Put("k", "a"), ok(), 0, 10),
			op(0, Put("k", "b"), ok(), 20, 30),
			op(1, Get("k"), read(Present("a")), 40, 50),
		}, Illegal},
		{"read of a value never written", History{
			op(0, Put("k", "a"), ok(), 0, 10),
			op(1, Get("k"), read(Present("z")), 5, 15),
		}, Illegal},
		{"cas succeeds twice on one expected value", History{
			op(0, Put("k", "0"), ok(), 0, 5),
			op(1, CAS("k", Present("0"), "a"), swapped(true), 10, 20),
			op(2, CAS("k", Present("0"), "b"), swapped(true), 12, 22),
		}, Illegal},
		{"cas fails although the value matched", History{
			op(0, Put("k", "0"), ok(), 0, 5),
			op(1, CAS("k", Present("0"), "a"), swapped(false), 10, 20),
			op(1, Get("k"), read(Present("0")), 30, 40),
		}, Illegal},
		{"unknown put not applied", History{
			op(0, Put("k", "a"), unknown(), 0, 10),
			op(1, Get("k"), read(Absent()), 20, 30),
			op(1, Get("k"), read(Absent()), 40, 50),
		}, Ok},
		{"unknown put applied", History{
			op(0, Put("k", "a"), unknown(), 0, 10),
			op(1, Get("k"), read(Present("a")), 20, 30),
		}, Ok},
		{"unknown put applied late", History{
			op(0, Put("k", "a"), unknown(), 0, 10),
			op(1, Get("k"), read(Absent()), 20, 30),
			op(1, Get("k"), read(Present("a")), 40, 50),
		}, Ok},
		{"unknown put cannot be undone", History{
			op(0, Put("k", "a"), unknown(), 0, 10),
			op(1, Get("k"), read(Present("a")), 20, 30),
			op(1, Get("k"), read(Absent()), 40, 50),
		}, Illegal},
		{"unknown put cannot apply before its call", History{
			op(1, Get("k"), read(Present("a")), 0, 10),
			op(0, Put("k", "a"), unknown(), 20, 30),
		}, Illegal},
		{"unknown cas applied", History{
			op(0, CAS("k", Absent(), "a"), unknown(), 0, 10),
			op(1, Get("k"), read(Present("a")), 20, 30),
		}, Ok},
		{"unknown cas not applied", History{
			op(0, CAS("k", Absent(), "a"), unknown(), 0, 10),
			op(1, Put("k", "b"), ok(), 20, 30),
			op(1, Get("k"), read(Present("b")), 40, 50),
		}, Ok},
		{"unknown get constrains nothing", History{
			op(0, Get("k"), Output{Outcome: OutcomeUnknown, Value: Present("never")}, 0, 10),
		}, Ok},
		{"failed put is never observed", History{
			op(0, Put("k", "a"), failed(), 0, 10),
			op(1, Get("k"), read(Present("a")), 20, 30),
		}, Illegal},
		{"failed put leaves the key alone", History{
			op(0, Put("k", "a"), failed(), 0, 10),
			op(1, Get("k"), read(Absent()), 20, 30),
		}, Ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(tt.h, 10*time.Second)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verdict != tt.want {
				t.Fatalf("verdict %v, want %v", res, tt.want)
			}
			if (res.Err() == nil) != (tt.want == Ok) {
				t.Fatalf("Err() = %v for verdict %v", res.Err(), res.Verdict)
			}
		})
	}
}

func TestCheckCounts(t *testing.T) {
	res, err := Check(History{
		op(0, Put("k", "a"), failed(), 0, 10),
		op(1, Put("k", "b"), unknown(), 0, 10),
		op(2, Get("k"), read(Absent()), 0, 10),
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 2 || res.Failed != 1 || res.Indeterminate != 1 || !res.Ok() {
		t.Fatalf("got %v", res)
	}
}

func TestCheckRejectsMalformedHistory(t *testing.T) {
	for name, h := range map[string]History{
		"no kind":            {op(0, Input{Key: "k"}, ok(), 0, 10)},
		"no outcome":         {op(0, Get("k"), Output{}, 0, 10)},
		"return before call": {op(0, Get("k"), read(Absent()), 10, 5)},
	} {
		if _, err := Check(h, 0); !errors.Is(err, ErrBadHistory) {
			t.Errorf("%s: err = %v, want ErrBadHistory", name, err)
		}
	}
}

func TestResultErr(t *testing.T) {
	for v, want := range map[Verdict]error{Ok: nil, Illegal: ErrNotLinearizable, Unknown: ErrInconclusive} {
		r := Result{Verdict: v}
		if got := r.Err(); !errors.Is(got, want) || (want == nil) != (got == nil) {
			t.Errorf("%v: Err() = %v, want %v", v, got, want)
		}
		if r.Ok() != (v == Ok) || r.Illegal() != (v == Illegal) || r.Inconclusive() != (v == Unknown) {
			t.Errorf("%v: predicates disagree", v)
		}
	}
}

func TestWriteVisualization(t *testing.T) {
	res, err := Check(History{
		op(0, Put("k", "a"), ok(), 0, 10),
		op(1, Get("k"), read(Absent()), 20, 30),
		op(1, CAS("k", Present("a"), "b"), unknown(), 40, 50),
	}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Illegal() {
		t.Fatalf("verdict %v, want illegal", res)
	}
	path := filepath.Join(t.TempDir(), "history.html")
	if err := res.WriteVisualization(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<html") || !strings.Contains(string(b), `put(\"k\", \"a\")`) {
		t.Fatalf("visualization lacks the history (%d bytes)", len(b))
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		name      string
		state     Value
		in        Input
		out       Output
		wantOK    bool
		wantState Value
	}{
		{"get match", Present("a"), Get("k"), read(Present("a")), true, Present("a")},
		{"get mismatch", Present("a"), Get("k"), read(Absent()), false, Present("a")},
		{"put", Absent(), Put("k", "a"), ok(), true, Present("a")},
		{"put empty string is present", Absent(), Put("k", ""), ok(), true, Present("")},
		{"cas absent ok", Absent(), CAS("k", Absent(), "a"), swapped(true), true, Present("a")},
		{"cas absent vs empty", Present(""), CAS("k", Absent(), "a"), swapped(false), true, Present("")},
		{"cas unknown match applies", Present("x"), CAS("k", Present("x"), "y"), unknown(), true, Present("y")},
		{"cas unknown mismatch keeps", Present("z"), CAS("k", Present("x"), "y"), unknown(), true, Present("z")},
		{"put unknown applies", Present("z"), Put("k", "y"), unknown(), true, Present("y")},
		{"fail is a no-op", Present("z"), Put("k", "y"), failed(), true, Present("z")},
	}
	for _, tt := range tests {
		gotOK, gotState := Step(tt.state, tt.in, tt.out)
		if gotOK != tt.wantOK || gotState != tt.wantState {
			t.Errorf("%s: Step = %v, %v; want %v, %v", tt.name, gotOK, gotState, tt.wantOK, tt.wantState)
		}
	}
}
