package engine

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSynonymsFromSearchAnalyzer: a search analyzer with synonyms makes
// "laptop" find notebooks, while the index keeps the words as written.
func TestSynonymsFromSearchAnalyzer(t *testing.T) {
	analysisJSON := `{"filter":{"syn":{"type":"synonym","synonyms":["laptop, notebook"]}},
		"analyzer":{"syn_search":{"tokenizer":"standard","filter":["lowercase","syn"]},"plain":{"tokenizer":"standard","filter":["lowercase"]}}}`
	mappingJSON := `{"properties":{"title":{"type":"text","analyzer":"plain","search_analyzer":"syn_search"}}}`
	ix, err := Open(filepath.Join(t.TempDir(), "syn"), []byte(mappingJSON), Settings{Shards: 2, AnalysisJSON: []byte(analysisJSON)})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	put(t, ix, "1", `{"title":"Notebook computer"}`)
	put(t, ix, "2", `{"title":"laptop bag"}`)
	put(t, ix, "3", `{"title":"paper notes"}`)
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	r := search(t, ix, `{"query":{"match":{"title":"laptop"}},"sort":["_id"]}`)
	if got := strings.Join(hitIDs(r), ","); got != "1,2" {
		t.Fatalf("laptop found %s", got)
	}
	r = search(t, ix, `{"query":{"match_phrase":{"title":"notebook computer"}}}`)
	if got := strings.Join(hitIDs(r), ","); got != "1" {
		t.Fatalf("phrase found %s", got)
	}
	r = search(t, ix, `{"query":{"match":{"title":{"query":"laptop","analyzer":"plain"}}}}`)
	if got := strings.Join(hitIDs(r), ","); got != "2" {
		t.Fatalf("analyzer override found %s", got)
	}
}

// TestKeywordNormalizer: term, prefix and range values on a normalized
// keyword field go through its normalizer.
func TestKeywordNormalizer(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "norm"), []byte(`{"properties":{"brand":{"type":"keyword","normalizer":"lowercase"}}}`), Settings{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	put(t, ix, "1", `{"brand":"Sony"}`)
	put(t, ix, "2", `{"brand":"LG"}`)
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		`{"term":{"brand":"SONY"}}`:                "1",
		`{"prefix":{"brand":"So"}}`:                "1",
		`{"match":{"brand":"lg"}}`:                 "2",
		`{"range":{"brand":{"gte":"L","lt":"M"}}}`: "2",
		`{"terms":{"brand":["sONY","Lg"]}}`:        "1,2",
	} {
		r := search(t, ix, `{"sort":["_id"],"query":`+q+`}`)
		if got := strings.Join(hitIDs(r), ","); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}
