package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cairn.dev/cairn/bench/searchbench"
	"cairn.dev/cairn/cluster"
)

func TestBenchSearchCmdRejectsBadFlags(t *testing.T) {
	t.Setenv(cluster.EnvDir, t.TempDir())
	for _, args := range [][]string{
		{"search", "extra"},
		{"search", "--in-process", "--output", "yaml"},
		{"search", "--in-process", "--kinds", "term,wildcard"},
		{"search", "--in-process", "--clients", "0"},
		{"search", "--in-process", "--docs", "0"},
		{"search", "--dir", "/tmp/x"},
		{"search", "--in-process", "--corpus", "/nonexistent/corpus.jsonl"},
		{"search", "--corpus", "/nonexistent/corpus.jsonl", "--endpoints", "127.0.0.1:1"},
	} {
		cmd := newBenchCmd()
		cmd.SetArgs(args)
		cmd.SetOut(new(strings.Builder))
		cmd.SetErr(new(strings.Builder))
		cmd.SilenceUsage = true
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestBenchSearchInProcess runs a small benchmark of the engine in-process
// from a corpus file and checks the JSON line.
func TestBenchSearchInProcess(t *testing.T) {
	dir := t.TempDir()
	var docs []searchbench.Doc
	for i, title := range []string{"wireless network manager", "audio player library", "python bindings for graphics",
		"network monitoring daemon", "documentation for the compiler"} {
		for j := range 8 {
			id := title[:3] + string(rune('a'+i)) + string(rune('a'+j))
			docs = append(docs, searchbench.Doc{ID: id, Package: id, Title: title, Description: title + " with extra words",
				Section: []string{"net", "sound"}[j%2], Priority: "optional"})
		}
	}
	f, err := os.Create(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := searchbench.WriteCorpus(f, docs); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := newBenchCmd()
	var out strings.Builder
	cmd.SetArgs([]string{"search", "--in-process", "--dir", filepath.Join(dir, "index"), "--corpus", f.Name(),
		"--docs", "100", "--clients", "2", "--warmup", "0s", "--queries", "10", "--queries-per-kind", "5", "--output", "json"})
	cmd.SetOut(&out)
	cmd.SetErr(new(strings.Builder))
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res["target"] != "cairn" || res["docs"] != 100.0 || res["errors"] != 0.0 || res["size_bytes"].(float64) <= 0 || res["facet_n"].(float64) == 0 {
		t.Fatalf("result %s", out.String())
	}
}
