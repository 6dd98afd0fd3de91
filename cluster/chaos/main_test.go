package chaos

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

var (
	// cairnBin is the cairn binary, built with -tags failpoints by TestMain.
	cairnBin string

	durationFlag = flag.Duration("chaos.duration", 0, "length of each scenario's fault phase (default: the short version; env CAIRN_CHAOS_DURATION)")
	seedFlag     = flag.Uint64("chaos.seed", 0, "seed of every scenario (default: from the clock; env CAIRN_CHAOS_SEED)")
	outFlag      = flag.String("chaos.out", "", "directory for run directories (default: a temporary one; env CAIRN_CHAOS_OUT)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "cairn-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	build := exec.Command(gobin, "build", "-tags", "failpoints", "-o", cairnBin, "cairn.dev/cairn/cmd/cairn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn with -tags failpoints:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// settings returns the seed, the fault phase (0: the scenario's short default)
// and the output directory of a scenario test, from the flags or the
// environment.
func settings(t *testing.T) (seed uint64, phase time.Duration, out string) {
	t.Helper()
	seed, phase, out = *seedFlag, *durationFlag, *outFlag
	if s := os.Getenv("CAIRN_CHAOS_SEED"); seed == 0 && s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	if s := os.Getenv("CAIRN_CHAOS_DURATION"); phase == 0 && s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("CAIRN_CHAOS_DURATION=%q: %v", s, err)
		}
		phase = d
	}
	if out == "" {
		out = os.Getenv("CAIRN_CHAOS_OUT")
	}
	if out == "" {
		out = t.TempDir()
	}
	if abs, err := filepath.Abs(out); err == nil {
		out = abs
	}
	return seed, phase, out
}

// runScenario runs sc and fails the test unless the run passes.
func runScenario(t *testing.T, sc Scenario) *Report {
	t.Helper()
	seed, phase, out := settings(t)
	t.Logf("seed=%d; replay with: CAIRN_CHAOS_SEED=%d go test ./cluster/chaos -run '^%s$' -count=1 -v", seed, seed, t.Name())
	rep, err := Run(sc, Options{Seed: seed, Duration: phase, OutDir: out, Binary: cairnBin, Logger: nodetest.Logger(t)})
	if err != nil {
		t.Fatalf("seed=%d: run: %v", seed, err)
	}
	t.Logf("\n%s", rep)
	if !rep.Pass {
		t.Fatalf("seed=%d: scenario %s failed; run dir %s", seed, sc.Name, rep.Dir)
	}
	return rep
}
