package lockbench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Latency summarizes durations; percentiles are exact (nearest rank).
type Latency struct {
	N                   int
	Mean, P50, P99, Max time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Scenario Scenario
	Target   Target
	Clients  int
	// Cycles counts the acquire+release cycles that succeeded; Errors the
	// failed ones.
	Cycles, Errors int
	Duration       time.Duration
	// Throughput is successful cycles (grants) per second.
	Throughput float64
	// Cycle is the latency of acquire+release, Acquire of the acquire alone.
	Cycle, Acquire Latency
	// Handoff (contended scenario only) is from a holder invoking its release
	// to the next holder's acquire returning.
	Handoff    Latency
	FirstError string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r with latencies in milliseconds, as `cairn bench lock
// --output json` prints it.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scenario   Scenario `json:"scenario"`
		Target     Target   `json:"target"`
		Clients    int      `json:"clients"`
		Cycles     int      `json:"cycles"`
		Errors     int      `json:"errors"`
		DurationS  float64  `json:"duration_s"`
		Throughput float64  `json:"throughput"`
		CycleP50   float64  `json:"cycle_p50_ms"`
		CycleP99   float64  `json:"cycle_p99_ms"`
		AcqP50     float64  `json:"acquire_p50_ms"`
		AcqP99     float64  `json:"acquire_p99_ms"`
		Handoffs   int      `json:"handoffs"`
		HandoffP50 float64  `json:"handoff_p50_ms"`
		HandoffP99 float64  `json:"handoff_p99_ms"`
		HandoffMax float64  `json:"handoff_max_ms"`
		FirstError string   `json:"first_error,omitempty"`
	}{
		r.Scenario, r.Target, r.Clients, r.Cycles, r.Errors, r.Duration.Seconds(), r.Throughput,
		ms(r.Cycle.P50), ms(r.Cycle.P99), ms(r.Acquire.P50), ms(r.Acquire.P99),
		r.Handoff.N, ms(r.Handoff.P50), ms(r.Handoff.P99), ms(r.Handoff.Max), r.FirstError,
	})
}

// WriteTable writes results as an aligned table, then the first error of each
// result that had errors.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tclients\tcycles\tduration\tgrants/s\tcycle p50\tcycle p99\thand-off p50\thand-off p99\terrors\t")
	for _, r := range results {
		ho50, ho99 := "-", "-"
		if r.Handoff.N > 0 {
			ho50, ho99 = fmt.Sprintf("%.3fms", ms(r.Handoff.P50)), fmt.Sprintf("%.3fms", ms(r.Handoff.P99))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.0f\t%.3fms\t%.3fms\t%s\t%s\t%d\t\n",
			r.Scenario, r.Target, r.Clients, r.Cycles, r.Duration.Round(time.Millisecond), r.Throughput,
			ms(r.Cycle.P50), ms(r.Cycle.P99), ho50, ho99, r.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.FirstError != "" {
			if _, err := fmt.Fprintf(w, "%s/%s: %d errors, e.g.: %s\n", r.Scenario, r.Target, r.Errors, r.FirstError); err != nil {
				return err
			}
		}
	}
	return nil
}
