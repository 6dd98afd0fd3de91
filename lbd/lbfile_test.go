package lbd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

// testConfig is the configuration startLB uses, for tests that call New
// themselves.
func testConfig(file string) Config {
	cfg := DefaultConfig()
	cfg.ID = "lbd-test"
	cfg.LBFile = file
	cfg.ReloadInterval = 100 * time.Millisecond
	cfg.Server.GRPCAddr, cfg.Server.AdminAddr, cfg.Server.Insecure, cfg.Server.ShutdownTimeout = "127.0.0.1:0", "", true, 2*time.Second
	return cfg
}

func TestNewRejectsABadLBFileNamingItAndTheProblem(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeLB(t, bad, `frontends:
  - {name: raw, mode: tcp, listen: "127.0.0.1:0", pool: app}
pools:
  - name: app
    health: {type: tcp, fall: 500}
    backends:
      - {name: e1, address: "127.0.0.1:1"}
`)
	cases := []struct {
		name, file string
		want       []string
	}{
		{"invalid value", bad, []string{bad, "pools[0].health.fall", "500", "line 5"}},
		{"missing file", filepath.Join(dir, "missing.yaml"), []string{filepath.Join(dir, "missing.yaml"), "lb_file"}},
	}
	for _, tc := range cases {
		s, err := New(testConfig(tc.file), nodetest.Logger(t))
		if err == nil {
			s.Close()
			t.Fatalf("%s: New accepted %s", tc.name, tc.file)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: New's error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestABadReloadKeepsTheRunningConfiguration(t *testing.T) {
	names := []string{"e1", "e2"}
	addrs := []string{startTCPEcho(t, "e1"), startTCPEcho(t, "e2")}
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, tcpLB("200ms", "5s", "round_robin", names[:1], addrs[:1]))
	s := startLB(t, file)
	raw := frontendAddr(t, s, "raw")
	nodetest.WaitFor(t, 10*time.Second, "e1 healthy", func() bool { return healthyIn(s, "app") == 1 })
	live := s.live.Load()

	// The new file moves app to e2, but one of its pools is invalid: none
	// of it applies.
	doc := tcpLB("200ms", "5s", "round_robin", names[1:], addrs[1:]) + "    retries: 99\n"
	writeLB(t, file, doc)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the bad file read", func() bool {
		s.applyMu.Lock()
		defer s.applyMu.Unlock()
		return s.fileMod.Equal(st.ModTime())
	})
	if s.live.Load() != live {
		t.Fatal("a bad lb file replaced the running configuration")
	}
	for i := range 3 {
		if name, err := dialLines(t, raw).echo("after the bad reload"); err != nil || name != "e1" {
			t.Fatalf("connection %d after the bad reload reached %q (err %v), want e1", i, name, err)
		}
	}

	// The file is fixed: the next reload applies it.
	writeLB(t, file, tcpLB("200ms", "5s", "round_robin", names[1:], addrs[1:]))
	nodetest.WaitFor(t, 10*time.Second, "the fixed file applied and e2 healthy", func() bool {
		return s.live.Load() != live && healthyIn(s, "app") == 1
	})
	if name, err := dialLines(t, raw).echo("after the fix"); err != nil || name != "e2" {
		t.Fatalf("a connection after the fixed reload reached %q (err %v), want e2", name, err)
	}
}
