package chaos

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// DefaultRecoveryBound is how soon after a fault is healed a write must
// succeed again.
const DefaultRecoveryBound = 10 * time.Second

// rateWindow is the length of the before and after windows of a fault.
const rateWindow = 2 * time.Second

// Rate counts the client operations that completed in a window, and how many
// of them succeeded.
type Rate struct {
	OK    int `json:"ok"`
	Total int `json:"total"`
}

func (r Rate) String() string {
	if r.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% of %d", 100*float64(r.OK)/float64(r.Total), r.Total)
}

// Window is what the clients saw around one fault: success rates in the
// rateWindow before it, while it lasted and in the rateWindow after it was
// healed, and the time from the heal to the first successful write.
type Window struct {
	Fault    FaultRecord   `json:"fault"`
	Before   Rate          `json:"before"`
	During   Rate          `json:"during"`
	After    Rate          `json:"after"`
	Recovery time.Duration `json:"recovery_ns"` // -1: no write succeeded afterwards
}

// Report is the outcome of a run.
type Report struct {
	Scenario string        `json:"scenario"`
	Seed     uint64        `json:"seed"`
	Dir      string        `json:"dir"`
	Wall     time.Duration `json:"wall_ns"`
	// Ops counts client operations (watch events excluded) by outcome.
	Ops     int `json:"ops"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
	// Faults counts the faults injected, by kind.
	Faults        map[Fault]int `json:"faults"`
	Windows       []Window      `json:"windows"`
	RecoveryBound time.Duration `json:"recovery_bound_ns"`
	Verdicts      []Verdict     `json:"verdicts"`
	// Problems are failures outside the checkers: nemesis steps that could not
	// be carried out, clusters that did not recover in time.
	Problems []string `json:"problems,omitempty"`
	Pass     bool     `json:"pass"`
}

// buildReport computes the report of a run from its history (classified by
// kinds), timeline and verdicts.
func buildReport(name string, seed uint64, ops []Op, kinds Kinds, faults []FaultRecord, verdicts []Verdict, bound time.Duration) *Report {
	r := &Report{Scenario: name, Seed: seed, Faults: map[Fault]int{}, RecoveryBound: bound, Verdicts: verdicts}
	for _, op := range ops {
		if !kinds.IsRequest(op.Kind) {
			continue
		}
		r.Ops++
		switch op.Outcome {
		case OK:
			r.OK++
		case Fail:
			r.Failed++
		default:
			r.Unknown++
		}
	}
	rate := func(from, to time.Duration) Rate {
		var out Rate
		for _, op := range ops {
			if !kinds.IsRequest(op.Kind) {
				continue
			}
			t := op.Return
			if !op.Done() {
				t = op.Call
			}
			if t >= from && t < to {
				out.Total++
				if op.Outcome == OK {
					out.OK++
				}
			}
		}
		return out
	}
	for _, f := range faults {
		if f.Err != "" {
			r.Problems = append(r.Problems, fmt.Sprintf("step %d (%s %v): %s", f.Step, f.Fault, f.Nodes, f.Err))
		}
		if f.Start < 0 {
			continue
		}
		r.Faults[f.Fault]++
		w := Window{Fault: f, Before: rate(f.Start-rateWindow, f.Start), Recovery: -1}
		if f.End >= 0 {
			w.During = rate(f.Start, f.End)
			w.After = rate(f.End, f.End+rateWindow)
			if t, ok := firstWriteOK(ops, kinds, f.End); ok {
				w.Recovery = t - f.End
			}
			switch {
			case w.Recovery < 0:
				r.Problems = append(r.Problems, fmt.Sprintf("step %d (%s %v): no write succeeded after the heal", f.Step, f.Fault, f.Nodes))
			case w.Recovery > bound:
				r.Problems = append(r.Problems, fmt.Sprintf("step %d (%s %v): first write succeeded %v after the heal (bound %v)",
					f.Step, f.Fault, f.Nodes, w.Recovery.Round(time.Millisecond), bound))
			}
		}
		r.Windows = append(r.Windows, w)
	}
	r.Pass = len(r.Problems) == 0
	for _, v := range verdicts {
		if !v.Pass() {
			r.Pass = false
		}
	}
	return r
}

// WriteTable prints the report as tables: one line per fault, one per checker.
func (r *Report) WriteTable(w io.Writer) {
	result := "PASS"
	if !r.Pass {
		result = "FAIL"
	}
	fmt.Fprintf(w, "== %s seed=%d: %s  (%d ops: %d ok, %d failed, %d unknown; wall %v)\n",
		r.Scenario, r.Seed, result, r.Ops, r.OK, r.Failed, r.Unknown, r.Wall.Round(time.Millisecond))
	fmt.Fprintf(w, "   run dir: %s\n", r.Dir)
	kinds := make([]string, 0, len(r.Faults))
	for k, n := range r.Faults {
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "   faults: %s\n", strings.Join(kinds, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   #\tfault\tnodes\tstart\tlasted\tok before\tok during\tok after\trecovery")
	for _, win := range r.Windows {
		f := win.Fault
		lasted, rec := "-", "none"
		if f.End >= 0 {
			lasted = (f.End - f.Start).Round(10 * time.Millisecond).String()
		}
		if win.Recovery >= 0 {
			rec = win.Recovery.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "   %d\t%s\t%s\t%v\t%s\t%s\t%s\t%s\t%s\n", f.Step, f.Fault, strings.Join(f.Nodes, ","),
			f.Start.Round(10*time.Millisecond), lasted, win.Before, win.During, win.After, rec)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   checker\tresult\tsummary")
	for _, v := range r.Verdicts {
		res := "pass"
		switch {
		case v.Err != "":
			res = "ERROR"
		case v.Count > 0:
			res = fmt.Sprintf("FAIL (%d)", v.Count)
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\n", v.Checker, res, v.Summary)
	}
	tw.Flush()
	for _, v := range r.Verdicts {
		if v.Err != "" {
			fmt.Fprintf(w, "   %s: error: %s\n", v.Checker, v.Err)
		}
		for _, s := range v.Violations {
			fmt.Fprintf(w, "   %s: violation: %s\n", v.Checker, s)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "   problem: %s\n", p)
	}
}

// String returns the tables of WriteTable.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTable(&b)
	return b.String()
}
