package blobbench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Latency summarizes durations; percentiles are exact (nearest rank).
type Latency struct {
	N                   int
	Mean, P50, P99, Max time.Duration
}

// Result is the outcome of one op on one size.
type Result struct {
	Op      Op
	Size    int64
	Clients int
	// Objects counts the requests that succeeded (for get: whose whole
	// body arrived and matched); Errors those that failed, Corrupt among
	// them the gets that returned different content.
	Objects, Errors, Corrupt int64
	// Duration runs from the op's start to the end of its last request.
	Duration time.Duration
	// ObjectsPerSec and MiBps are the successful requests and their bytes
	// (MiB, 2^20 bytes of object content) per second of Duration.
	ObjectsPerSec, MiBps float64
	// Latency is of the successful requests, from the request's start to
	// the response (put) or to the body's last byte (get).
	Latency    Latency
	FirstError string
}

// summarize computes exact (nearest-rank) percentiles, without changing ds.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += d
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latency{N: len(s), Mean: total / time.Duration(len(s)), P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r on one line with latencies in milliseconds, as
// `cairn bench blob --output json` prints each result.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Op         Op      `json:"op"`
		Size       int64   `json:"size"`
		SizeName   string  `json:"size_name"`
		Clients    int     `json:"clients"`
		Objects    int64   `json:"objects"`
		Errors     int64   `json:"errors"`
		Corrupt    int64   `json:"corrupt"`
		DurationS  float64 `json:"duration_s"`
		ObjectsS   float64 `json:"objects_s"`
		MiBps      float64 `json:"mib_s"`
		P50        float64 `json:"p50_ms"`
		P99        float64 `json:"p99_ms"`
		Mean       float64 `json:"mean_ms"`
		Max        float64 `json:"max_ms"`
		FirstError string  `json:"first_error,omitempty"`
	}{
		r.Op, r.Size, FormatSize(r.Size), r.Clients, r.Objects, r.Errors, r.Corrupt, r.Duration.Seconds(),
		r.ObjectsPerSec, r.MiBps, ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Mean), ms(r.Latency.Max), r.FirstError,
	})
}

// WriteTable writes results as an aligned table, then the first error of
// each result that had errors.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\top\tclients\tobjects\tobjects/s\tMiB/s\tp50\tp99\tmax\terrors\tcorrupt\t")
	for _, r := range results {
		lat := func(d time.Duration) string {
			if r.Latency.N == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2fms", ms(d))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%d\t%d\t\n", FormatSize(r.Size), r.Op, r.Clients, r.Objects,
			r.ObjectsPerSec, r.MiBps, lat(r.Latency.P50), lat(r.Latency.P99), lat(r.Latency.Max), r.Errors, r.Corrupt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.FirstError != "" {
			if _, err := fmt.Fprintf(w, "%s %s: %d errors, e.g.: %s\n", FormatSize(r.Size), r.Op, r.Errors, r.FirstError); err != nil {
				return err
			}
		}
	}
	return nil
}
