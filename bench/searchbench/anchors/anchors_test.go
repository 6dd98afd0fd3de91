package anchors

import (
	"context"
	"path/filepath"
	"testing"

	"cairn.dev/cairn/bench/searchbench"
	"cairn.dev/cairn/node/nodetest"
)

// corpus is 60 documents made of a few topics, enough for the query mix.
func corpus() []searchbench.Doc {
	topics := []string{"wireless network manager", "audio player library", "python bindings for graphics",
		"network monitoring daemon", "documentation for the compiler", "graphics driver for wireless cards"}
	var docs []searchbench.Doc
	for i := range 60 {
		title := topics[i%len(topics)]
		id := "pkg" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		docs = append(docs, searchbench.Doc{ID: id, Package: id, Title: title,
			Description: title + "\n\nThis helps with " + topics[(i+1)%len(topics)] + " tasks.",
			Section:     []string{"net", "sound", "python"}[i%3], Priority: "optional", InstalledSize: int64(i)})
	}
	return docs
}

func smallRun(t *testing.T) searchbench.Config {
	cfg := searchbench.DefaultConfig()
	cfg.Docs, cfg.Batch, cfg.Writers, cfg.Clients = 150, 20, 2, 2
	cfg.Warmup, cfg.Queries, cfg.QueriesPerKind, cfg.Seed = 0, 20, 10, nodetest.Seed(t)
	return cfg
}

// checkResult asserts that every kind the target supports ran without
// errors and found documents.
func checkResult(t *testing.T, res searchbench.Result, kinds int) {
	t.Helper()
	if res.Docs != 150 || res.SizeBytes <= 0 || res.Errors != 0 || len(res.Kinds) != kinds {
		t.Fatalf("result %+v", res)
	}
	for _, k := range res.Kinds {
		if k.Latency.N == 0 || (k.Kind != searchbench.KindFuzzy && k.MeanTotal == 0) {
			t.Errorf("%s: %+v", k.Kind, k)
		}
	}
}

func TestBleve(t *testing.T) {
	b, err := NewBleve(filepath.Join(t.TempDir(), "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := searchbench.Run(context.Background(), smallRun(t), corpus(), b)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 5)
}
