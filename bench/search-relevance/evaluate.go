package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// System is a search engine under evaluation. Index is called once, with
// every document, before Search; Search returns the ids of the best k
// documents, best first.
type System interface {
	Name() string
	Index(docs []Doc) error
	Search(ctx context.Context, text string, k int) ([]int, error)
	Close() error
}

// Depth is how many results each query retrieves: MAP is computed over
// the top Depth, nDCG and precision over the top 10.
const Depth = 100

// Scores are one system's means over the queries.
type Scores struct {
	System string  `json:"system"`
	MAP    float64 `json:"map"`
	NDCG10 float64 `json:"ndcg_10"`
	P10    float64 `json:"p_10"`
	// Queries counts the queries averaged: those with a relevant document.
	Queries int `json:"queries"`
	// IndexTime covers indexing every document until searchable;
	// QueryTime running every query one after another.
	IndexTime time.Duration `json:"-"`
	QueryTime time.Duration `json:"-"`
}

// MarshalJSON adds the times in milliseconds.
func (s Scores) MarshalJSON() ([]byte, error) {
	type plain Scores
	return json.Marshal(struct {
		plain
		IndexMs float64 `json:"index_ms"`
		QueryMs float64 `json:"query_ms"`
	}{plain(s), float64(s.IndexTime) / 1e6, float64(s.QueryTime) / 1e6})
}

// Evaluate indexes the collection into sys, runs every query (top Depth)
// and averages MAP, nDCG@10 and P@10 over the queries that have a relevant
// document.
func Evaluate(ctx context.Context, c *Collection, sys System) (Scores, error) {
	s := Scores{System: sys.Name()}
	t0 := time.Now()
	if err := sys.Index(c.Docs); err != nil {
		return s, fmt.Errorf("%s: indexing: %w", sys.Name(), err)
	}
	s.IndexTime = time.Since(t0)
	t0 = time.Now()
	for _, q := range c.Queries {
		ranked, err := sys.Search(ctx, q.Text, Depth)
		if err != nil {
			return s, fmt.Errorf("%s: query %d (%q): %w", sys.Name(), q.Num, q.Text, err)
		}
		gains := c.Gains[q.Num]
		if !hasRelevant(gains) {
			continue
		}
		s.Queries++
		s.MAP += AveragePrecision(ranked, gains)
		s.NDCG10 += NDCGAt(10, ranked, gains)
		s.P10 += PrecisionAt(10, ranked, gains)
	}
	s.QueryTime = time.Since(t0)
	if s.Queries > 0 {
		n := float64(s.Queries)
		s.MAP, s.NDCG10, s.P10 = s.MAP/n, s.NDCG10/n, s.P10/n
	}
	return s, nil
}

func hasRelevant(gains map[int]int) bool {
	for _, g := range gains {
		if g > 0 {
			return true
		}
	}
	return false
}

// WriteTable prints one row per system, then, when the first two are
// cairn and an anchor, the ratio of cairn's scores to the anchor's.
func WriteTable(w io.Writer, scores []Scores) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tMAP\tnDCG@10\tP@10\tqueries\tindex\tqueries run\t")
	for _, s := range scores {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t%s\t%s\t\n", s.System, s.MAP, s.NDCG10, s.P10, s.Queries,
			s.IndexTime.Round(time.Millisecond), s.QueryTime.Round(time.Millisecond))
	}
	if c, a, ok := cairnAndAnchor(scores); ok {
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t\t\t\t\n", c.System, a.System, ratio(c.MAP, a.MAP), ratio(c.NDCG10, a.NDCG10), ratio(c.P10, a.P10))
	}
	return tw.Flush()
}

// cairnAndAnchor finds cairn's scores and the first other system's.
func cairnAndAnchor(scores []Scores) (cairn, anchor Scores, ok bool) {
	var haveC, haveA bool
	for _, s := range scores {
		switch {
		case s.System == "cairn" && !haveC:
			cairn, haveC = s, true
		case s.System != "cairn" && !haveA:
			anchor, haveA = s, true
		}
	}
	return cairn, anchor, haveC && haveA
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fx", a/b)
}
