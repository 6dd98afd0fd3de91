package cachebench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Latency summarises the latencies of successful requests (nearest rank).
type Latency struct {
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// NodeResult is one node's memory and evictions at the end of a run.
type NodeResult struct {
	ID        string `json:"id"`
	Items     int64  `json:"items"`
	Bytes     int64  `json:"bytes"`
	MaxBytes  int64  `json:"max_bytes"`
	Evictions int64  `json:"evictions"`
}

// Result is the outcome of a run.
type Result struct {
	Scenario Scenario `json:"scenario"`
	Target   Target   `json:"target"`
	Clients  int      `json:"clients"`
	Batch    int      `json:"batch"`
	Zipf     float64  `json:"zipf"`
	Keys     int      `json:"keys"`
	// Requests were sent in the measured phase; Errors of them failed.
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// Reads and Writes count keys read and written; Hits and Misses split the
	// reads.
	Reads      int           `json:"reads"`
	Writes     int           `json:"writes"`
	Hits       int           `json:"hits"`
	Misses     int           `json:"misses"`
	HitRatio   float64       `json:"hit_ratio"`
	Duration   time.Duration `json:"duration_ns"`
	Throughput float64       `json:"throughput"`
	Latency    Latency       `json:"latency"`
	Nodes      []NodeResult  `json:"nodes,omitempty"`
	FirstError string        `json:"first_error,omitempty"`
}

// WriteTable writes r as a table, then the nodes' memory and evictions.
func WriteTable(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tclients\tbatch\tzipf\trequests\tduration\treq/s\tkeys/s\thit ratio\tp50\tp99\tp99.9\terrors\t")
	keysPerSec := 0.0
	if r.Duration > 0 {
		keysPerSec = float64(r.Reads+r.Writes) / r.Duration.Seconds()
	}
	fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%g\t%d\t%s\t%.0f\t%.0f\t%.4f\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.Target, r.Clients, r.Batch, r.Zipf,
		r.Requests, r.Duration.Round(time.Millisecond), r.Throughput, keysPerSec, r.HitRatio,
		ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.P999), r.Errors)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "node %s: %d items, %d/%d bytes, %d evictions\n", n.ID, n.Items, n.Bytes, n.MaxBytes, n.Evictions)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "%d errors, e.g.: %s\n", r.Errors, r.FirstError)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }
