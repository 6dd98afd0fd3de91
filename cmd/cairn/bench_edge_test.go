package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/edge/edgebench"
)

// runBenchEdge runs `cairn bench edge args...` and returns its stdout.
func runBenchEdge(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newBenchCmd()
	cmd.SetArgs(append([]string{"edge"}, args...))
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(new(strings.Builder))
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), err
}

func TestBenchEdgeCmdRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{}, // no --target
		{"--target", "ftp://127.0.0.1:1"},
		{"--target", "http://127.0.0.1:1", "--output", "yaml"},
		{"--target", "http://127.0.0.1:1", "--sizes", "1KiB:0"},
		{"--target", "http://127.0.0.1:1", "--objects", "0"},
		{"--target", "http://127.0.0.1:1", "--zipf", "-1"},
		{"--target", "http://127.0.0.1:1", "--concurrency", "0"},
		{"--target", "http://127.0.0.1:1", "--path-prefix", "nope"},
		{"--target", "http://127.0.0.1:1", "extra"},
		{"origin", "--objects", "0"},
		{"origin", "--max-size", "3GiB"},
		{"origin", "--max-age", "1.5s"},
	} {
		if _, err := runBenchEdge(t, args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestBenchEdgeRun loads the origin directly (no cache: every request
// reaches it, none is a hit) and checks the JSON line, then a storm.
func TestBenchEdgeRun(t *testing.T) {
	o, err := edgebench.StartOrigin("127.0.0.1:0", edgebench.DefaultOriginConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	base := "http://" + o.Addr()
	out, err := runBenchEdge(t, "--target", base, "--origin-stats", base+"/stats", "--objects", "50",
		"--sizes", "1KiB:3,10KiB:1", "--concurrency", "2", "--warmup", "0s", "--duration", "200ms", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res["mode"] != "load" || res["errors"] != 0.0 || res["requests"].(float64) < 1 || res["hit_ratio"] != 0.0 ||
		res["origin_requests"].(float64) < res["requests"].(float64) || res["sizes"] != "1KiB:3,10KiB:1" {
		t.Errorf("result %s", out)
	}
	out, err = runBenchEdge(t, "--target", base, "--origin-stats", base+"/stats", "--storm", "--concurrency", "8",
		"--storm-object", "3", "-o", "json")
	res = nil
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res["mode"] != "storm" || res["origin_requests"] != 8.0 {
		t.Errorf("storm: %v\n%s", err, out)
	}
	out, err = runBenchEdge(t, "--target", base, "--objects", "5", "--concurrency", "1", "--warmup", "0s", "--duration", "50ms")
	if err != nil || !strings.Contains(out, "edge load") || !strings.Contains(out, "hit ratio") {
		t.Errorf("table: %v\n%s", err, out)
	}
}

func TestServeEdgeOrigin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &lockedWriter{}
	done := make(chan error, 1)
	cfg := edgebench.DefaultOriginConfig()
	cfg.MaxAge = 30 * time.Second
	go func() { done <- serveEdgeOrigin(ctx, "127.0.0.1:0", cfg, w) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(w.String(), "origin ") {
		if time.Now().After(deadline) {
			t.Fatal("the origin did not print its address")
		}
		time.Sleep(5 * time.Millisecond) // polling for the line, with the deadline above
	}
	addr := strings.TrimSpace(strings.TrimPrefix(w.String(), "origin "))
	resp, err := http.Get("http://" + addr + "/1024/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=30" {
		t.Errorf("GET: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveEdgeOrigin: %v", err)
	}
}
