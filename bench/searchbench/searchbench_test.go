package searchbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

func testCorpus(t *testing.T) []Doc {
	t.Helper()
	tr := map[string]string{}
	f, err := os.Open("testdata/Translation-en.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ParseTranslations(f, tr); err != nil {
		t.Fatal(err)
	}
	p, err := os.Open("testdata/dumpavail.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	docs, err := ParsePackages(p, tr)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestParsePackages(t *testing.T) {
	docs := testCorpus(t)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2 (the second alpha-tools record is dropped): %+v", len(docs), docs)
	}
	a := docs[0]
	want := Doc{ID: "alpha-tools", Package: "alpha-tools", Title: "tools for alpha networks",
		Description: "tools for alpha networks\n\nAlpha tools manage wireless network interfaces and routing tables.\n\nThis package contains the command-line utilities.",
		Section:     "net", Priority: "optional", InstalledSize: 120, Maintainer: "Jane Doe <jane@example.org>", Version: "1.2-3"}
	if a != want {
		t.Fatalf("first document\n got %+v\nwant %+v", a, want)
	}
	// beta-lib's long text comes from the translation, by Description-md5.
	if b := docs[1]; b.Description != "shared library for beta compression\n\nBeta compresses streams quickly.\n\nThis package holds the runtime library." || b.Section != "libs" {
		t.Fatalf("second document: %+v", b)
	}
	var src map[string]any
	if err := json.Unmarshal(a.Source(), &src); err != nil || src["installed_size"] != 120.0 || src["section"] != "net" || src["id"] != nil {
		t.Fatalf("source %s: %v", a.Source(), err)
	}
}

func TestReplicateAndCorpusFile(t *testing.T) {
	docs := testCorpus(t)
	r := Replicate(docs, 5)
	ids := []string{}
	for _, d := range r {
		ids = append(ids, d.ID)
	}
	if got := strings.Join(ids, " "); got != "alpha-tools beta-lib alpha-tools~1 beta-lib~1 alpha-tools~2" {
		t.Fatalf("ids %s", got)
	}
	if r[4].Package != "alpha-tools" || r[4].Description != docs[0].Description {
		t.Fatalf("replica %+v", r[4])
	}
	if got := Replicate(docs, 1); len(got) != 1 || got[0].ID != "alpha-tools" {
		t.Fatalf("Replicate(1) = %+v", got)
	}
	var buf bytes.Buffer
	if err := WriteCorpus(&buf, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCorpus(&buf)
	if err != nil || len(back) != len(r) || back[3] != r[3] {
		t.Fatalf("round trip: %v, %+v", err, back)
	}
	if _, err := ReadCorpus(strings.NewReader(`{"package":"x"}`)); err == nil {
		t.Fatal("ReadCorpus accepted a document without id")
	}
}

// corpus50 is a corpus big enough for Generate: 50 documents built from a
// few words.
func corpus50() []Doc {
	topics := []string{"wireless network manager", "audio player library", "python bindings for graphics",
		"network monitoring daemon", "documentation for the compiler"}
	var docs []Doc
	for i := range 50 {
		title := topics[i%len(topics)]
		docs = append(docs, Doc{ID: "p" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Package: "p",
			Title: title, Description: title + "\n\nThis helps with " + topics[(i+1)%len(topics)] + " tasks.",
			Section: []string{"net", "sound", "python"}[i%3], Priority: "optional"})
	}
	return docs
}

func TestGenerate(t *testing.T) {
	docs := corpus50()
	seed := nodetest.Seed(t)
	qs, err := Generate(docs, 20, seed)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Generate(docs, 20, seed)
	all := ""
	for _, d := range docs {
		all += " " + strings.ToLower(d.Description)
	}
	for _, k := range Kinds {
		if len(qs[k]) != 20 {
			t.Fatalf("%d %s queries, want 20", len(qs[k]), k)
		}
		for i, q := range qs[k] {
			if q != again[k][i] {
				t.Fatalf("the same seed gave %v, then %v", q, again[k][i])
			}
			switch k {
			case KindTerm, KindFacet, KindPhrase:
				if !strings.Contains(all, q.Text) {
					t.Errorf("%s query %q does not occur in the corpus", k, q.Text)
				}
			case KindPrefix:
				if len(q.Text) != 4 || q.Field != "title" {
					t.Errorf("prefix query %+v", q)
				}
			case KindFuzzy:
				if strings.Contains(all, " "+q.Text+" ") {
					t.Errorf("fuzzy query %q is spelt right", q.Text)
				}
			}
		}
	}
	if _, err := Generate(nil, 1, seed); err == nil {
		t.Fatal("Generate made queries from no documents")
	}
}

func TestESBody(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{KindTerm, "description", "audio"}, `{"_source":false,"query":{"match":{"description":"audio"}},"size":10}`},
		{Query{KindPhrase, "description", "audio player"}, `{"_source":false,"query":{"match_phrase":{"description":"audio player"}},"size":10}`},
		{Query{KindFuzzy, "description", "auido"}, `{"_source":false,"query":{"match":{"description":{"fuzziness":"AUTO","query":"auido"}}},"size":10}`},
		{Query{KindPrefix, "title", "audi"}, `{"_source":false,"query":{"prefix":{"title":"audi"}},"size":10}`},
		{Query{KindFacet, "description", "audio"}, `{"_source":false,"aggs":{"sections":{"terms":{"field":"section","size":10}}},"query":{"match":{"description":"audio"}},"size":10}`},
	} {
		if got := string(ESBody(tc.q)); got != tc.want {
			t.Errorf("ESBody(%+v)\n got %s\nwant %s", tc.q, got, tc.want)
		}
	}
	if n, err := esTotal([]byte(`{"hits":{"total":{"value":42,"relation":"eq"}}}`)); n != 42 || err != nil {
		t.Fatalf("esTotal = %d, %v", n, err)
	}
}

// scan is a Target that scans its documents: enough to drive Run.
type scan struct {
	mu       sync.Mutex // protects docs, refreshed
	docs     []Doc
	visible  int
	fuzzy    bool
	finished bool
	failAt   int // Index fails once this many documents are in (0: never)
}

func (s *scan) Name() string         { return "scan" }
func (s *scan) Supports(k Kind) bool { return k != KindFuzzy || s.fuzzy }
func (s *scan) Index(_ context.Context, docs []Doc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt > 0 && len(s.docs) >= s.failAt {
		return errors.New("disk full")
	}
	s.docs = append(s.docs, docs...)
	return nil
}
func (s *scan) Refresh(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visible = len(s.docs)
	return nil
}
func (s *scan) Search(_ context.Context, q Query) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, d := range s.docs[:s.visible] {
		if strings.Contains(strings.ToLower(d.Description), q.Text) {
			n++
		}
	}
	return n, nil
}
func (s *scan) Finish(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	return int64(len(s.docs)) * 100, nil
}

func TestRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs, cfg.Batch, cfg.Writers, cfg.Clients = 230, 7, 3, 4
	cfg.Warmup, cfg.Queries, cfg.QueriesPerKind, cfg.Seed = 20*time.Millisecond, 20, 10, nodetest.Seed(t)
	s := &scan{}
	res, err := Run(context.Background(), cfg, corpus50(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !s.finished || len(s.docs) != 230 || res.Docs != 230 || res.SizeBytes != 23000 || res.DocsPerSec <= 0 {
		t.Fatalf("indexed %d, finished %v, result %+v", len(s.docs), s.finished, res)
	}
	seen := map[string]bool{}
	for _, d := range s.docs {
		if seen[d.ID] {
			t.Fatalf("id %s indexed twice", d.ID)
		}
		seen[d.ID] = true
	}
	// Fuzzy is unsupported: the other four kinds ran, each about as often.
	if len(res.Kinds) != 4 || res.Errors != 0 || res.Latency.N != 4*20 || res.QPS <= 0 {
		t.Fatalf("result %+v", res)
	}
	for _, k := range res.Kinds {
		if k.Kind == KindFuzzy || k.Latency.N != 20 || k.MeanTotal == 0 {
			t.Fatalf("kind %+v", k)
		}
	}
	var out bytes.Buffer
	if err := WriteTable(&out, res); err != nil || !strings.Contains(out.String(), "phrase") {
		t.Fatalf("table %v:\n%s", err, out.String())
	}
	b, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(b), `"term_p99_ms":`) || !strings.Contains(string(b), `"docs":230`) || strings.Contains(string(b), "fuzzy_") {
		t.Fatalf("json %s: %v", b, err)
	}
}

func TestRunStopsAtAFailedBatch(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs, cfg.Batch, cfg.Writers, cfg.Duration = 100, 10, 2, 10*time.Millisecond
	s := &scan{failAt: 30}
	_, err := Run(context.Background(), cfg, corpus50(), s)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !s.finished {
		t.Fatalf("Run = %v, finished %v", err, s.finished)
	}
	cfg.Clients, cfg.Queries = 1, -1
	if _, err := Run(context.Background(), cfg, corpus50(), &scan{}); err == nil {
		t.Fatal("Run accepted -1 queries")
	}
	cfg.Clients, cfg.Queries = 0, 0
	if _, err := Run(context.Background(), cfg, corpus50(), &scan{}); err == nil {
		t.Fatal("Run accepted 0 clients")
	}
}

// TestLoadApt reads the first packages of this host's lists (cairn's
// machines are Debian: apt-cache is there).
func TestLoadApt(t *testing.T) {
	docs, withLong, err := loadApt(context.Background(), 300)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages, %d with a long description", len(docs), withLong)
	if len(docs) != 300 || docs[0].Package == "" || docs[0].Title == "" || docs[0].Section == "" {
		t.Fatalf("%d documents, first %+v", len(docs), docs[0])
	}
}
