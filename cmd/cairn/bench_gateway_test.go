package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/bench/gatewaybench"
	"cairn.dev/cairn/cluster"
)

// runBenchGateway runs `cairn bench gateway args...` and returns its stdout.
func runBenchGateway(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newBenchCmd()
	cmd.SetArgs(append([]string{"gateway"}, args...))
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(new(strings.Builder))
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), err
}

func TestBenchGatewayCmdRejectsBadFlags(t *testing.T) {
	t.Setenv(cluster.EnvDir, t.TempDir())
	for _, args := range [][]string{
		{"mixed", "--url", "http://127.0.0.1:1"},
		{"plain", "extra"},
		{"--url", "http://127.0.0.1:1", "--output", "yaml"},
		{"--url", "http://127.0.0.1:1", "--conns", "0"},
		{"--url", "ftp://127.0.0.1:1"},
		{"--print-config"},
		{"--print-config", "--upstream", "no-port"},
		{"--print-config", "--print-token"},
		{"--print-token", "--jwt-secret", "c2hvcnQ="},
		{"plain", "--print-token"},
		{"plain"}, // no --url and no cluster
	} {
		if _, err := runBenchGateway(t, args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestBenchGatewayPrints(t *testing.T) {
	out, err := runBenchGateway(t, "--print-config", "--upstream", "127.0.0.1:28500", "--rate-limit", "777")
	if err != nil || !strings.Contains(out, `address: "127.0.0.1:28500"`) || !strings.Contains(out, "limit: 777,") {
		t.Fatalf("--print-config: %v\n%s", err, out)
	}
	out, err = runBenchGateway(t, "--print-token", "--jwt-subject", "alice")
	if err != nil || strings.Count(strings.TrimSpace(out), ".") != 2 {
		t.Fatalf("--print-token: %q, %v", out, err)
	}
}

// TestBenchGatewayRun runs the auth scenario against the upstream directly
// (it takes any path and ignores the token) and checks the JSON line.
func TestBenchGatewayRun(t *testing.T) {
	up, err := gatewaybench.StartUpstream("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	out, err := runBenchGateway(t, "auth", "--url", "http://"+up.Addr(), "--conns", "2", "--warmup", "0s",
		"--duration", "200ms", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res["scenario"] != "auth" || res["errors"] != 0.0 || res["requests"].(float64) < 1 ||
		res["url"] != "http://"+up.Addr()+"/auth/plain" {
		t.Fatalf("result %s", out)
	}
}

// lockedWriter lets the test read what the server goroutine writes.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestServeBenchUpstream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var w lockedWriter
	done := make(chan error, 1)
	go func() { done <- serveBenchUpstream(ctx, "127.0.0.1:0", &w) }()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if time.Now().After(deadline) {
			t.Fatal("the upstream never printed its address")
		}
		if s := w.String(); strings.HasSuffix(s, "\n") {
			addr = strings.TrimSpace(strings.TrimPrefix(s, "upstream "))
		} else {
			time.Sleep(10 * time.Millisecond) // polling for the line, with the deadline above
		}
	}
	resp, err := http.Get("http://" + addr + "/x/cacheable")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != gatewaybench.Body || resp.Header.Get("Cache-Control") != gatewaybench.CacheControl {
		t.Fatalf("answer %q, Cache-Control %q", body, resp.Header.Get("Cache-Control"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestGatewayURLFromState(t *testing.T) {
	dir := t.TempDir()
	st := &cluster.State{Dir: dir, Nodes: []cluster.NodeState{
		{Name: "raftkv-1", Service: "raftkv", GRPCAddr: "127.0.0.1:7000"},
		{Name: "gatewayd-1", Service: "gatewayd", GRPCAddr: "127.0.0.1:7700", Ports: map[string]string{"http": "127.0.0.1:7720"}},
	}}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	if u, err := gatewayURL(dir); err != nil || u != "http://127.0.0.1:7720" {
		t.Fatalf("plaintext cluster: %q, %v", u, err)
	}
	st.TLS = &cluster.TLSState{}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	if u, err := gatewayURL(dir); err != nil || u != "https://127.0.0.1:7720" {
		t.Fatalf("TLS cluster: %q, %v", u, err)
	}
	st.Nodes = st.Nodes[:1]
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := gatewayURL(dir); err == nil {
		t.Fatal("a cluster without gatewayd gave a URL")
	}
}
