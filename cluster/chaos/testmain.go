package chaos

import (
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

// suite is the state of the scenario tests of one test binary, set by Main
// before any test runs and only read afterwards.
var suite struct {
	binary   string // cairn built with -tags failpoints
	root     string // the module's root directory
	pkg      string // the test package's directory, relative to root
	duration *time.Duration
	seed     *uint64
	out      *string
}

// Main is the TestMain of a package of scenario tests (one per daemon):
//
//	func TestMain(m *testing.M) { chaos.Main(m) }
//
// It registers the -chaos.duration, -chaos.seed and -chaos.out flags, builds
// cairn with -tags failpoints for Test, runs the tests and exits with their
// status. Call it once, from TestMain only.
func Main(m *testing.M) {
	suite.duration = flag.Duration("chaos.duration", 0, "length of each scenario's fault phase (default: the short version; env CAIRN_CHAOS_DURATION)")
	suite.seed = flag.Uint64("chaos.seed", 0, "seed of every scenario (default: from the clock; env CAIRN_CHAOS_SEED)")
	suite.out = flag.String("chaos.out", "", "directory for run directories (default: a temporary one; env CAIRN_CHAOS_OUT)")
	flag.Parse()
	wd, err := os.Getwd()
	if err == nil {
		suite.root, err = moduleRoot(wd)
	}
	if err == nil {
		suite.pkg, err = filepath.Rel(suite.root, wd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "cairn-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	suite.binary = filepath.Join(dir, "cairn")
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	build := exec.Command(gobin, "build", "-tags", "failpoints", "-o", suite.binary, "cairn.dev/cairn/cmd/cairn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn with -tags failpoints:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Test runs sc as test t and fails the test unless the run passes: the short
// version by default, the long one with -chaos.duration or
// CAIRN_CHAOS_DURATION. CAIRN_CHAOS_BASE_PORT fixes the cluster's base port
// (default: drawn from the seed). It logs the seed and the command that replays the run,
// and appends the report to summary.txt in the output directory. Scenarios of
// one checkout run one at a time, even from the test binaries of several
// packages, since each starts its own cluster and a killed node's ports must
// stay free until it restarts. The package's TestMain must be Main.
func Test(t *testing.T, sc Scenario) *Report {
	t.Helper()
	if suite.binary == "" {
		t.Fatal("chaos.Test needs chaos.Main as the package's TestMain")
	}
	seed, phase, out := settings(t)
	t.Logf("seed=%d; replay with: CAIRN_CHAOS_SEED=%d go test ./%s -run '^%s$' -count=1 -v", seed, seed, filepath.ToSlash(suite.pkg), t.Name())
	unlock := lockRuns(t)
	opts := Options{Seed: seed, Duration: phase, OutDir: out, Binary: suite.binary, Logger: nodetest.Logger(t)}
	if s := os.Getenv("CAIRN_CHAOS_BASE_PORT"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("CAIRN_CHAOS_BASE_PORT=%q: %v", s, err)
		}
		opts.BasePort = p
	}
	rep, err := Run(sc, opts)
	unlock()
	if err != nil {
		t.Fatalf("seed=%d: run: %v", seed, err)
	}
	t.Logf("\n%s", rep)
	if !rep.Pass {
		t.Fatalf("seed=%d: scenario %s failed; run dir %s", seed, sc.Name, rep.Dir)
	}
	return rep
}

// settings returns the seed, the fault phase (0: the scenario's short default)
// and the output directory of a scenario test, from the flags or the
// environment.
func settings(t *testing.T) (seed uint64, phase time.Duration, out string) {
	t.Helper()
	seed, phase, out = *suite.seed, *suite.duration, *suite.out
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

// lockRuns waits until no other test binary of this checkout runs a scenario
// (`go test ./...` runs the daemon packages in parallel) and returns the
// function that lets the next one go. The lock is a file lock, released by
// the kernel if the process dies.
func lockRuns(t *testing.T) (unlock func()) {
	t.Helper()
	h := fnv.New64a()
	h.Write([]byte(suite.root))
	path := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-chaos-%x.lock", h.Sum64()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("chaos: run lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("chaos: run lock %s: %v", path, err)
	}
	return func() { f.Close() } // closing the file releases the lock
}

// moduleRoot returns the directory of the go.mod at or above dir.
func moduleRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
