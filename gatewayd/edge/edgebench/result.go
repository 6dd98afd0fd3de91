package edgebench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"cairn.dev/cairn/bench/blobbench"
)

// Latency summarizes the latencies of the successful requests of a run,
// from a log-linear histogram: a percentile is at most 1.6 % above the
// exact one (never above Max).
type Latency struct {
	Mean, P50, P90, P99, Max time.Duration
}

// SizeResult is the part of a run that asked for objects of one size.
type SizeResult struct {
	Bytes                  int64
	Requests, Errors, Hits int64
	HitRatio               float64
	// BodyBytes were read in successful answers.
	BodyBytes int64
	// Throughput is successful requests per second, HitsPerSec hits per
	// second.
	Throughput, HitsPerSec float64
}

// OriginDelta is what the origin served during the measured phase.
type OriginDelta struct {
	// Requests reached the origin (any method and answer).
	Requests int64
	// BodyBytes it wrote.
	BodyBytes int64
	// HitRatio is 1 - Requests/Result.Requests, at least 0: the share of the
	// load the caches answered without the origin, whatever their headers
	// say.
	HitRatio float64
}

// Result is the outcome of a run.
type Result struct {
	// Mode is "load" or "storm".
	Mode        string
	Targets     []string
	PathPrefix  string
	Concurrency int
	Objects     int
	Zipf        float64
	Sizes       string // FormatSizes of the mix
	Seed        uint64
	// Requests were sent in the measured phase; Errors of them failed
	// (transport errors, a status other than 200, a wrong body).
	Requests, Errors int64
	// Statuses counts the answers by status code.
	Statuses map[int]int64
	// Hits counts the 200s marked as cache hits (IsHit); HitRatio is Hits
	// over the 200s.
	Hits     int64
	HitRatio float64
	// Bytes of body were read in the 200s.
	Bytes int64
	// Duration is the wall time of the measured phase.
	Duration time.Duration
	// Throughput is successful requests per second; BytesPerSec body bytes
	// per second.
	Throughput, BytesPerSec float64
	Latency                 Latency
	PerSize                 []SizeResult
	// Origin is set when Config.OriginStats was.
	Origin *OriginDelta
	// FirstError is one of the errors, when there were any.
	FirstError string
}

// setOrigin fills Origin from the stats before and after the measured
// phase.
func (r *Result) setOrigin(before, after OriginStats) {
	d := &OriginDelta{Requests: after.Requests - before.Requests, BodyBytes: after.BodyBytes - before.BodyBytes}
	if r.Requests > 0 {
		d.HitRatio = max(0, 1-float64(d.Requests)/float64(r.Requests))
	}
	r.Origin = d
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type sizeJSON struct {
	Bytes      int64   `json:"bytes"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Hits       int64   `json:"hits"`
	HitRatio   float64 `json:"hit_ratio"`
	BodyBytes  int64   `json:"body_bytes"`
	Throughput float64 `json:"throughput"`
	HitsPerSec float64 `json:"hits_per_s"`
}

type originJSON struct {
	Requests  int64   `json:"requests"`
	BodyBytes int64   `json:"body_bytes"`
	HitRatio  float64 `json:"hit_ratio"`
}

// MarshalJSON encodes r on one line with latencies in milliseconds, as
// `cairn bench edge --output json` prints it. The origin fields are
// "origin_requests" and "origin_hit_ratio" (absent without origin stats).
func (r Result) MarshalJSON() ([]byte, error) {
	statuses := map[string]int64{}
	for code, n := range r.Statuses {
		statuses[fmt.Sprint(code)] = n
	}
	sizes := make([]sizeJSON, len(r.PerSize))
	for i, s := range r.PerSize {
		sizes[i] = sizeJSON(s)
	}
	var originReqs *int64
	var originHit *float64
	var originBytes *int64
	if r.Origin != nil {
		originReqs, originHit, originBytes = &r.Origin.Requests, &r.Origin.HitRatio, &r.Origin.BodyBytes
	}
	return json.Marshal(struct {
		Mode           string           `json:"mode"`
		Targets        []string         `json:"targets"`
		PathPrefix     string           `json:"path_prefix"`
		Concurrency    int              `json:"concurrency"`
		Objects        int              `json:"objects"`
		Zipf           float64          `json:"zipf"`
		Sizes          string           `json:"sizes"`
		Seed           uint64           `json:"seed"`
		Requests       int64            `json:"requests"`
		Errors         int64            `json:"errors"`
		Statuses       map[string]int64 `json:"statuses"`
		Hits           int64            `json:"hits"`
		HitRatio       float64          `json:"hit_ratio"`
		Bytes          int64            `json:"bytes"`
		DurationS      float64          `json:"duration_s"`
		Throughput     float64          `json:"throughput"`
		BytesPerSec    float64          `json:"bytes_per_s"`
		MeanMS         float64          `json:"mean_ms"`
		P50MS          float64          `json:"p50_ms"`
		P90MS          float64          `json:"p90_ms"`
		P99MS          float64          `json:"p99_ms"`
		MaxMS          float64          `json:"max_ms"`
		OriginRequests *int64           `json:"origin_requests,omitempty"`
		OriginBytes    *int64           `json:"origin_body_bytes,omitempty"`
		OriginHitRatio *float64         `json:"origin_hit_ratio,omitempty"`
		PerSize        []sizeJSON       `json:"per_size"`
		FirstError     string           `json:"first_error,omitempty"`
	}{
		r.Mode, r.Targets, r.PathPrefix, r.Concurrency, r.Objects, r.Zipf, r.Sizes, r.Seed, r.Requests, r.Errors,
		statuses, r.Hits, r.HitRatio, r.Bytes, r.Duration.Seconds(), r.Throughput, r.BytesPerSec,
		ms(r.Latency.Mean), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
		originReqs, originBytes, originHit, sizes, r.FirstError,
	})
}

// WriteTable prints r for people.
func WriteTable(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "edge %s\t%s\n", r.Mode, strings.Join(r.Targets, " "))
	fmt.Fprintf(tw, "workload\t%d objects, zipf %.2f, sizes %s, prefix %q, seed %d, concurrency %d\n",
		r.Objects, r.Zipf, r.Sizes, r.PathPrefix, r.Seed, r.Concurrency)
	fmt.Fprintf(tw, "requests\t%d in %.2fs (%d errors)\n", r.Requests, r.Duration.Seconds(), r.Errors)
	fmt.Fprintf(tw, "throughput\t%.0f req/s, %s/s\n", r.Throughput, blobbench.FormatSize(int64(r.BytesPerSec)))
	fmt.Fprintf(tw, "hit ratio\t%.4f (%d hits by the caches' headers)\n", r.HitRatio, r.Hits)
	if r.Origin != nil {
		fmt.Fprintf(tw, "origin\t%d requests, hit ratio %.4f by the origin's count\n", r.Origin.Requests, r.Origin.HitRatio)
	}
	fmt.Fprintf(tw, "latency ms\tmean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
		ms(r.Latency.Mean), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))
	for _, s := range r.PerSize {
		fmt.Fprintf(tw, "size %s\t%d requests, %d errors, hit ratio %.4f, %.0f hits/s\n",
			blobbench.FormatSize(s.Bytes), s.Requests, s.Errors, s.HitRatio, s.HitsPerSec)
	}
	if len(r.Statuses) > 0 {
		codes := make([]int, 0, len(r.Statuses))
		for c := range r.Statuses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = fmt.Sprintf("%d: %d", c, r.Statuses[c])
		}
		fmt.Fprintf(tw, "statuses\t%s\n", strings.Join(parts, ", "))
	}
	if r.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstError)
	}
	return tw.Flush()
}
