package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// collection loads the real Cranfield collection ($CAIRN_CRANFIELD_DIR, or
// shared/data/ir/cranfield above the package), skipping the test when this
// checkout has none beside it.
func collection(t *testing.T) *Collection {
	t.Helper()
	dir := os.Getenv("CAIRN_CRANFIELD_DIR")
	if dir == "" {
		var ok bool
		if dir, ok = findData("."); !ok {
			t.Skipf("no %s above %s and no $CAIRN_CRANFIELD_DIR: the collection lives beside the repository, not in it", dataPath, mustWd(t))
		}
	}
	c, err := LoadCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustWd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestLoadCollection(t *testing.T) {
	c := collection(t)
	if got := c.Docs[0]; got.ID != 1 || !strings.HasPrefix(got.Title, "experimental investigation of the aerodynamics of a wing") ||
		!strings.Contains(got.Body, "propeller slipstream") || strings.Contains(got.Body, "\r") {
		t.Fatalf("first document: %+v", got)
	}
	if last := c.Docs[len(c.Docs)-1]; last.ID != 1400 {
		t.Fatalf("last document id %d, want 1400", last.ID)
	}
	// cran.qry's ids have gaps; the qrels count queries in file order.
	if q := c.Queries[2]; q.Num != 3 || q.FileID != "004" || !strings.HasPrefix(q.Text, "what problems of heat conduction") {
		t.Fatalf("third query: %+v", q)
	}
	relevant, judged := 0, 0
	for _, q := range c.Queries {
		if !hasRelevant(c.Gains[q.Num]) {
			t.Errorf("query %d has no relevant document", q.Num)
		}
		for _, g := range c.Gains[q.Num] {
			judged++
			if g > 0 {
				relevant++
			}
		}
	}
	// 1837 lines: 225 graded -1 (one per query), 1612 graded 1..4.
	if judged != 1837 || relevant != 1612 {
		t.Fatalf("%d judgments, %d relevant; want 1837 and 1612", judged, relevant)
	}
	// Query 1's judgments include doc 184 graded 2 (gain 3) and doc 486 graded -1.
	if g := c.Gains[1]; g[184] != 3 || g[486] != 0 {
		t.Fatalf("query 1's gains of docs 184 and 486: %d and %d, want 3 and 0", g[184], g[486])
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

// TestRelevance runs the program on the real collection with both
// systems and checks that each one's scores are sane — not which one wins:
// that is the benchmark's job.
func TestRelevance(t *testing.T) {
	c := collection(t)
	systems := os.Getenv("CAIRN_RELEVANCE_SYSTEMS") // e.g. "bleve" to run one
	if systems == "" {
		systems = "bleve,cairn"
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", c.Dir, "-systems", systems, "-output", "json"}, &out); err != nil {
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
		if s.Queries != 225 {
			t.Errorf("%s: %d queries averaged, want 225", s.System, s.Queries)
		}
		if s.NDCG10 <= 0.2 || s.NDCG10 >= 0.8 {
			t.Errorf("%s: nDCG@10 = %.4f, outside the sane range (0.2, 0.8)", s.System, s.NDCG10)
		}
		for metric, v := range map[string]float64{"MAP": s.MAP, "P@10": s.P10} {
			if v <= 0.1 || v >= 0.8 {
				t.Errorf("%s: %s = %.4f, outside the sane range (0.1, 0.8)", s.System, metric, v)
			}
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
