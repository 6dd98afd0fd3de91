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
	if suite.binary, err = buildBinary(suite.root); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn with -tags failpoints:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// buildBinary builds cairn with -tags failpoints into a directory shared by
// the scenario packages of the checkout at root and returns its path. The
// packages' test binaries build one after another under a file lock, and go
// build leaves an up-to-date binary alone, so one `go test ./cluster/chaos/...`
// links cairn once instead of once per package. A binary a running cluster
// uses is never rewritten in place: go build replaces the file.
func buildBinary(root string) (string, error) {
	h := fnv.New64a()
	h.Write([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-chaos-bin-%x", h.Sum64()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	bin := filepath.Join(dir, "cairn")
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	build := exec.Command(gobin, "build", "-tags", "failpoints", "-o", bin, "cairn.dev/cairn/cmd/cairn")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", err
	}
	return bin, nil
}

// Test runs sc as test t and fails the test unless the run passes: the short
// version by default, the long one with -chaos.duration or
// CAIRN_CHAOS_DURATION. CAIRN_CHAOS_BASE_PORT fixes the cluster's base port
// (default: a free port lane, see Options.BasePort). It logs the seed and the
// command that replays the run, and appends the report to summary.txt in the
// output directory. At most CAIRN_CHAOS_PARALLEL scenarios of one checkout run
// at once, even from the test binaries of several packages (default 2, or 1
// when built with -tags chaostiming, whose scenarios measure timings, or when
// CAIRN_CHAOS_BASE_PORT fixes the ports), and a Scenario.Alone runs with no
// other; each starts its own cluster on its own port lane. The package's TestMain must be Main.
func Test(t *testing.T, sc Scenario) *Report {
	t.Helper()
	if suite.binary == "" {
		t.Fatal("chaos.Test needs chaos.Main as the package's TestMain")
	}
	seed, phase, out := settings(t)
	t.Logf("seed=%d; replay with: CAIRN_CHAOS_SEED=%d go test ./%s -run '^%s$' -count=1 -v", seed, seed, filepath.ToSlash(suite.pkg), t.Name())
	unlock := runSlot(t, sc.Alone)
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

// runSlot waits until fewer than parallelRuns() other scenarios of this
// checkout run (`go test ./...` runs the daemon packages' test binaries in
// parallel), or none when alone, and returns the function that frees its
// slots. The slots are file locks, released by the kernel if the process dies;
// the port lanes keep concurrent runs' ports apart. A run alone takes every
// slot in order, holding the first ones while it waits for the next, so two
// of them cannot deadlock.
func runSlot(t *testing.T, alone bool) (release func()) {
	t.Helper()
	n := parallelRuns(t)
	h := fnv.New64a()
	h.Write([]byte(suite.root))
	slot := func(i int) string {
		return filepath.Join(os.TempDir(), fmt.Sprintf("cairn-chaos-%x-%d.lock", h.Sum64(), i))
	}
	var held []*os.File
	release = func() {
		for _, f := range held {
			f.Close() // closing the file releases the lock
		}
	}
	var lockErr error
	ok := WaitFor(slotWait, func() bool {
		for i := range n {
			if alone && i < len(held) {
				continue
			}
			f, got, err := tryLock(slot(i))
			if err != nil {
				lockErr = err
				return true
			}
			if got {
				held = append(held, f)
				if !alone || len(held) == n {
					return true
				}
				continue
			}
			if alone {
				return false // wait for slot i before taking the next ones
			}
		}
		return false
	})
	switch {
	case lockErr != nil:
		release()
		t.Fatalf("chaos: run slot: %v", lockErr)
	case !ok:
		release()
		t.Fatalf("chaos: no run slot free in %v (%d scenarios of this checkout run at once; CAIRN_CHAOS_PARALLEL)", slotWait, n)
	}
	return release
}

// slotWait bounds how long a scenario test waits for a run slot.
const slotWait = 30 * time.Minute

// parallelRuns returns how many scenarios of one checkout may run at once:
// CAIRN_CHAOS_PARALLEL, else 1 when CAIRN_CHAOS_BASE_PORT gives every run the
// same ports, else defaultParallel.
func parallelRuns(t *testing.T) int {
	t.Helper()
	s := os.Getenv("CAIRN_CHAOS_PARALLEL")
	if s == "" {
		if os.Getenv("CAIRN_CHAOS_BASE_PORT") != "" {
			return 1
		}
		return defaultParallel
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > laneCount {
		t.Fatalf("CAIRN_CHAOS_PARALLEL=%q: want a number of runs in 1..%d", s, laneCount)
	}
	return n
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
