package kvbench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Latency summarizes the latencies of the successful requests of a run.
// Percentiles are exact (nearest rank), computed from every sample.
type Latency struct {
	Mean, P50, P90, P99, P999, Max time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Scenario Scenario
	Target   Target
	// Consistency of the reads; empty for the put scenario.
	Consistency Consistency
	Clients     int
	Conns       int
	// Requests is the number of requests sent in the measured phase; Errors of them
	// failed. Reads and Writes count the successful ones; Misses counts the reads
	// that found no key (expected to be 0 after the preload).
	Requests, Errors, Reads, Writes, Misses int
	// Duration is the wall time of the measured phase.
	Duration time.Duration
	// Throughput is successful requests per second.
	Throughput float64
	Latency    Latency
	// FirstError is one of the errors, when there were any.
	FirstError string
}

// Name is the scenario with its read consistency, e.g. "get/serializable".
func (r Result) Name() string {
	if r.Consistency == "" {
		return string(r.Scenario)
	}
	return string(r.Scenario) + "/" + string(r.Consistency)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r with latencies in milliseconds, as `cairn bench kv
// --output json` prints it.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scenario    Scenario `json:"scenario"`
		Target      Target   `json:"target"`
		Consistency string   `json:"consistency,omitempty"`
		Clients     int      `json:"clients"`
		Conns       int      `json:"conns"`
		Requests    int      `json:"total"`
		Errors      int      `json:"errors"`
		Reads       int      `json:"reads"`
		Writes      int      `json:"writes"`
		Misses      int      `json:"misses"`
		DurationS   float64  `json:"duration_s"`
		Throughput  float64  `json:"throughput"`
		MeanMs      float64  `json:"mean_ms"`
		P50Ms       float64  `json:"p50_ms"`
		P90Ms       float64  `json:"p90_ms"`
		P99Ms       float64  `json:"p99_ms"`
		P999Ms      float64  `json:"p999_ms"`
		MaxMs       float64  `json:"max_ms"`
		FirstError  string   `json:"first_error,omitempty"`
	}{
		r.Scenario, r.Target, string(r.Consistency), r.Clients, r.Conns, r.Requests, r.Errors,
		r.Reads, r.Writes, r.Misses, r.Duration.Seconds(), r.Throughput,
		ms(r.Latency.Mean), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99),
		ms(r.Latency.P999), ms(r.Latency.Max), r.FirstError,
	})
}

// WriteTable writes results as an aligned table, one row per result, followed by
// the first error of each result that had errors.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tclients\tconns\ttotal\tduration\treq/s\tp50\tp99\tp99.9\tmax\terrors\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t\n",
			r.Name(), r.Target, r.Clients, r.Conns, r.Requests, r.Duration.Round(time.Millisecond),
			r.Throughput, fmtLatency(r.Latency.P50), fmtLatency(r.Latency.P99),
			fmtLatency(r.Latency.P999), fmtLatency(r.Latency.Max), r.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.FirstError != "" {
			if _, err := fmt.Fprintf(w, "%s: %d errors, e.g.: %s\n", r.Name(), r.Errors, r.FirstError); err != nil {
				return err
			}
		}
		if r.Misses > 0 {
			if _, err := fmt.Fprintf(w, "%s: %d reads found no key\n", r.Name(), r.Misses); err != nil {
				return err
			}
		}
	}
	return nil
}

// fmtLatency prints a latency in milliseconds with three decimals.
func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.3fms", ms(d))
}
