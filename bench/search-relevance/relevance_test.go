package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// miniDir is a four-document collection in Cranfield's format (CRLF line
// ends, query ids with gaps, a -1 grade) that the tests run on; the real
// collection lives beside the repository, not in it, and
// bench/search-relevance.sh runs it.
const miniDir = "testdata/mini"

// collection loads the mini collection.
func collection(t *testing.T) *Collection {
	t.Helper()
	c, err := LoadCollection(miniDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadCollection(t *testing.T) {
	c := collection(t)
	if len(c.Docs) != 4 || len(c.Queries) != 2 {
		t.Fatalf("%d documents and %d queries, want 4 and 2", len(c.Docs), len(c.Queries))
	}
	if got := c.Docs[0]; got.ID != 1 || !strings.HasPrefix(got.Title, "boundary layer transition") ||
		!strings.Contains(got.Body, "high speed") || strings.Contains(got.Body, "\r") {
		t.Fatalf("first document: %+v", got)
	}
	// cran.qry's ids have gaps; the qrels count queries in file order.
	if q := c.Queries[1]; q.Num != 2 || q.FileID != "003" || !strings.HasPrefix(q.Text, "heat transfer") {
		t.Fatalf("second query: %+v", q)
	}
	// Grade g in 1..4 has gain 5-g; -1 is not relevant.
	if g := c.Gains[1]; g[1] != 4 || g[4] != 0 {
		t.Fatalf("query 1's gains of docs 1 and 4: %d and %d, want 4 and 0", g[1], g[4])
	}
	if g := c.Gains[2]; g[2] != 4 || g[4] != 1 {
		t.Fatalf("query 2's gains of docs 2 and 4: %d and %d, want 4 and 1", g[2], g[4])
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"text before a record\n", ".I\n", ".T\nno record\n", ".I 1\n.W\nx\n.I 2\n"} {
		if _, err := ParseQueries(strings.NewReader(in)); err == nil {
			t.Errorf("ParseQueries(%q) succeeded", in)
		}
	}
	if _, err := ParseDocs(strings.NewReader(".I x\n.T\ny\n")); err == nil {
		t.Error("ParseDocs accepted a non-numeric id")
	}
	for _, in := range []string{"1 2\n", "1 2 x\n"} {
		if _, err := ParseQrels(strings.NewReader(in)); err == nil {
			t.Errorf("ParseQrels(%q) succeeded", in)
		}
	}
}

// TestRelevance runs the program on the mini collection with both
// systems: each ranks the one document that shares the query's words
// first. Which system wins on the
// real collection is the benchmark's job.
func TestRelevance(t *testing.T) {
	collection(t)                                   // the collection loads
	systems := os.Getenv("CAIRN_RELEVANCE_SYSTEMS") // e.g. "bleve" to run one
	if systems == "" {
		systems = "bleve,cairn"
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", miniDir, "-systems", systems, "-output", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Scores []Scores `json:"scores"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %s: %v", out.String(), err)
	}
	if want := strings.Split(systems, ","); len(got.Scores) != len(want) {
		t.Fatalf("output %s: want scores of %v", out.String(), want)
	}
	for _, s := range got.Scores {
		t.Logf("%s: MAP %.4f, nDCG@10 %.4f, P@10 %.4f", s.System, s.MAP, s.NDCG10, s.P10)
		if s.Queries != 2 {
			t.Errorf("%s: %d queries averaged, want 2", s.System, s.Queries)
		}
		// Query 2's second relevant document shares none of its words, so
		// a perfect ranking of what matches scores MAP 0.75 and nDCG@10
		// 0.93.
		if s.NDCG10 < 0.93 || s.MAP < 0.75 {
			t.Errorf("%s: nDCG@10 %.4f and MAP %.4f, want at least 0.93 and 0.75", s.System, s.NDCG10, s.MAP)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var out bytes.Buffer
	err := WriteTable(&out, []Scores{
		{System: "bleve", MAP: 0.3, NDCG10: 0.4, P10: 0.25, Queries: 225},
		{System: "cairn", MAP: 0.33, NDCG10: 0.42, P10: 0.25, Queries: 225},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "cairn/bleve") || !strings.Contains(lines[3], "1.100x") ||
		!strings.Contains(lines[3], "1.050x") || !strings.Contains(lines[3], "1.000x") {
		t.Fatalf("table:\n%s", out.String())
	}
}
