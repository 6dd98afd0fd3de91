package gatewaybench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// Latency summarizes the latencies of the successful requests of a run.
// Percentiles are exact (nearest rank), computed from every sample.
type Latency struct {
	Mean, P50, P90, P99, Max time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Scenario Scenario
	// URL is the requested URL.
	URL   string
	Conns int
	// Requests were sent in the measured phase; Errors of them failed
	// (transport errors or a status other than 200).
	Requests, Errors int
	// Statuses counts the answers of the measured phase by status code.
	Statuses map[int]int
	// Hits counts the 200s marked as cache hits; HitRatio is Hits over the
	// 200s.
	Hits     int
	HitRatio float64
	// Duration is the wall time of the measured phase.
	Duration time.Duration
	// Throughput is successful requests per second.
	Throughput float64
	Latency    Latency
	// FirstError is one of the errors, when there were any.
	FirstError string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r on one line with latencies in milliseconds, as
// `cairn bench gateway --output json` prints it.
func (r Result) MarshalJSON() ([]byte, error) {
	statuses := map[string]int{}
	for code, n := range r.Statuses {
		statuses[fmt.Sprint(code)] = n
	}
	return json.Marshal(struct {
		Scenario   Scenario       `json:"scenario"`
		URL        string         `json:"url"`
		Conns      int            `json:"conns"`
		Requests   int            `json:"requests"`
		Errors     int            `json:"errors"`
		Statuses   map[string]int `json:"statuses"`
		Hits       int            `json:"hits"`
		HitRatio   float64        `json:"hit_ratio"`
		DurationS  float64        `json:"duration_s"`
		Throughput float64        `json:"throughput"`
		MeanMS     float64        `json:"mean_ms"`
		P50MS      float64        `json:"p50_ms"`
		P90MS      float64        `json:"p90_ms"`
		P99MS      float64        `json:"p99_ms"`
		MaxMS      float64        `json:"max_ms"`
		FirstError string         `json:"first_error,omitempty"`
	}{
		r.Scenario, r.URL, r.Conns, r.Requests, r.Errors, statuses, r.Hits, r.HitRatio, r.Duration.Seconds(),
		r.Throughput, ms(r.Latency.Mean), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
		r.FirstError,
	})
}

// WriteTable writes r as a one-row table, then the status codes and the
// first error.
func WriteTable(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tconns\trequests\tduration\treq/s\tp50\tp90\tp99\tmax\thit ratio\terrors\t")
	fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.0f\t%.3fms\t%.3fms\t%.3fms\t%.3fms\t%.3f\t%d\t\n", r.Scenario, r.Conns, r.Requests,
		r.Duration.Round(time.Millisecond), r.Throughput, ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99),
		ms(r.Latency.Max), r.HitRatio, r.Errors)
	if err := tw.Flush(); err != nil {
		return err
	}
	codes := make([]int, 0, len(r.Statuses))
	for code := range r.Statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", r.Statuses[code], code))
	}
	if _, err := fmt.Fprintf(w, "%s: statuses %s\n", r.URL, strings.Join(parts, " ")); err != nil {
		return err
	}
	if r.FirstError != "" {
		_, err := fmt.Fprintf(w, "%d errors, e.g.: %s\n", r.Errors, r.FirstError)
		return err
	}
	return nil
}

// latencyOf sorts d and returns its summary.
func latencyOf(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{
		Mean: sum / time.Duration(len(d)),
		P50:  benchrun.Percentile(d, 0.50),
		P90:  benchrun.Percentile(d, 0.90),
		P99:  benchrun.Percentile(d, 0.99),
		Max:  d[len(d)-1],
	}
}
