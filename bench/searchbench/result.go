package searchbench

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
	N              int
	Mean, P50, P99 time.Duration
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latency{N: len(s), Mean: sum / time.Duration(len(s)), P50: rank(0.50), P99: rank(0.99)}
}

// KindResult is what the queries of one kind measured.
type KindResult struct {
	Kind Kind
	// Latency is of the successful queries.
	Latency Latency
	Errors  int64
	// MeanTotal is the mean number of matching documents per successful
	// query (engines may stop counting at 10000); Empty counts the
	// successful queries that matched nothing. Both show whether engines
	// answer alike.
	MeanTotal float64
	Empty     int64
}

// Result is the outcome of one run against one target.
type Result struct {
	Target string
	// Docs were indexed in batches of Batch by Writers writers, in
	// IndexDuration (to the end of the refresh): DocsPerSec.
	Docs, Batch, Writers int
	IndexDuration        time.Duration
	DocsPerSec           float64
	// SizeBytes is the index's size on disk after Finish.
	SizeBytes int64
	// Clients queried for QueryDuration: QPS successful queries per second
	// over every kind, Latency over every kind, Errors failed queries.
	Clients       int
	QueryDuration time.Duration
	QPS           float64
	Latency       Latency
	Errors        int64
	// Kinds are per query kind, in Config.Kinds order (only those run).
	Kinds      []KindResult
	FirstError string
}

// query fills the query side of r from a measured phase.
func (r *Result) query(cfg Config, kinds []Kind, t tally) {
	r.Clients, r.QueryDuration = cfg.Clients, t.elapsed
	var all []time.Duration
	for _, k := range kinds {
		kr := KindResult{Kind: k}
		var lat []time.Duration
		var total int64
		for _, o := range t.outcomes {
			if o.kind != k {
				continue
			}
			if o.err != nil {
				kr.Errors++
				if r.FirstError == "" {
					r.FirstError = o.err.Error()
				}
				continue
			}
			lat = append(lat, o.lat)
			total += o.total
			if o.total == 0 {
				kr.Empty++
			}
		}
		kr.Latency = summarize(lat)
		if len(lat) > 0 {
			kr.MeanTotal = float64(total) / float64(len(lat))
		}
		r.Errors += kr.Errors
		all = append(all, lat...)
		r.Kinds = append(r.Kinds, kr)
	}
	r.Latency = summarize(all)
	if t.elapsed > 0 {
		r.QPS = float64(len(all)) / t.elapsed.Seconds()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r as one flat JSON object (latencies in
// milliseconds; per kind <kind>_p50_ms, <kind>_p99_ms, <kind>_n,
// <kind>_errors, <kind>_mean_total, <kind>_empty), as `cairn bench search
// --output json` prints it and bench/search-compare.sh reads it.
func (r Result) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"target": r.Target, "docs": r.Docs, "batch": r.Batch, "writers": r.Writers,
		"index_s": r.IndexDuration.Seconds(), "docs_s": r.DocsPerSec, "size_bytes": r.SizeBytes,
		"clients": r.Clients, "query_s": r.QueryDuration.Seconds(), "qps": r.QPS, "queries": r.Latency.N,
		"errors": r.Errors, "p50_ms": ms(r.Latency.P50), "p99_ms": ms(r.Latency.P99), "mean_ms": ms(r.Latency.Mean),
	}
	if r.Docs > 0 {
		m["bytes_per_doc"] = float64(r.SizeBytes) / float64(r.Docs)
	}
	for _, k := range r.Kinds {
		p := string(k.Kind) + "_"
		m[p+"n"], m[p+"errors"], m[p+"p50_ms"], m[p+"p99_ms"] = k.Latency.N, k.Errors, ms(k.Latency.P50), ms(k.Latency.P99)
		m[p+"mean_total"], m[p+"empty"] = k.MeanTotal, k.Empty
	}
	if r.FirstError != "" {
		m["first_error"] = r.FirstError
	}
	return json.Marshal(m)
}

// WriteTable writes results as two aligned tables, indexing and queries
// (one row per kind and an "all" row), then each result's first error.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tdocs\tindexing\tdocs/s\tsize\tbytes/doc\t")
	for _, r := range results {
		perDoc := 0.0
		if r.Docs > 0 {
			perDoc = float64(r.SizeBytes) / float64(r.Docs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%.1fMiB\t%.0f\t\n", r.Target, r.Docs, r.IndexDuration.Round(time.Millisecond),
			r.DocsPerSec, float64(r.SizeBytes)/(1<<20), perDoc)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t")
	fmt.Fprintln(tw, "target\tquery\tclients\tqueries\tQPS\tp50\tp99\tmean hits\tempty\terrors\t")
	for _, r := range results {
		for _, k := range r.Kinds {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\t%s\t%s\t%.0f\t%d\t%d\t\n", r.Target, k.Kind, r.Clients, k.Latency.N,
				lat(k.Latency, k.Latency.P50), lat(k.Latency, k.Latency.P99), k.MeanTotal, k.Empty, k.Errors)
		}
		fmt.Fprintf(tw, "%s\tall\t%d\t%d\t%.1f\t%s\t%s\t\t\t%d\t\n", r.Target, r.Clients, r.Latency.N, r.QPS,
			lat(r.Latency, r.Latency.P50), lat(r.Latency, r.Latency.P99), r.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.FirstError != "" {
			if _, err := fmt.Fprintf(w, "%s: %d failed queries, e.g.: %s\n", r.Target, r.Errors, r.FirstError); err != nil {
				return err
			}
		}
	}
	return nil
}

func lat(l Latency, d time.Duration) string {
	if l.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", ms(d))
}
