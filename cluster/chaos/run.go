package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"cairn.dev/cairn/cluster"
)

// Options configures Run.
type Options struct {
	// Seed drives every random choice of the run: the fault schedule, the
	// workloads' choices and the cluster's ports. Required (log it; 0 is a
	// valid seed, but callers usually draw one from the clock).
	Seed uint64
	// Duration is the length of the fault phase; 0 means the scenario's Phase.
	Duration time.Duration
	// OutDir receives the run directory <OutDir>/<scenario>-<seed>. Required.
	OutDir string
	// Binary is the cairn executable, built with -tags failpoints when the
	// scenario arms failpoints. Required.
	Binary string
	// Logger receives the run's log (it is also written to chaos.log in the run
	// directory); nil logs only to the file.
	Logger *slog.Logger
	// BasePort, when not 0, is the cluster's base port (see cluster.Options),
	// tried once; 0 takes a free port lane in 10000-19999 (the first one tried
	// drawn from the seed), which no other run uses meanwhile.
	BasePort int
}

// Scenario is one chaos experiment: a topology, workloads, a fault schedule
// and checkers.
type Scenario struct {
	// Name names the scenario and its run directories.
	Name string
	// Service is the replicated service under test ("raftkv", "lockd", …).
	// Required.
	Service string
	// Companions are other services the cluster runs beside Service (e.g.
	// raftkv as the fenced resource of the lockd scenarios). Faults target
	// Service only.
	Companions []string
	// Nodes is the node count; 0 means the service's default.
	Nodes int
	// ExtraArgs are appended to the command line of every node of a service.
	ExtraArgs map[string][]string
	// ClientProxies puts an in-process fault proxy in front of every node's gRPC
	// address; clients pinned to a node dial through them (Env.Via).
	ClientProxies bool
	// Workloads run concurrently from before the first fault until the schedule
	// is over and the cluster has recovered.
	Workloads []Workload
	// Schedule generates the faults from the seed.
	Schedule Schedule
	// Membership dials a client of the service's Raft membership over
	// endpoints (the nodes of the service other than the one being replaced).
	// Required when the schedule has FaultMemberReplace steps.
	Membership func(env *Env, endpoints []string) (Membership, error)
	// Phase is the default length of the fault phase (the short version).
	Phase time.Duration
	// RestartBeforeCheck stops every node (SIGTERM) and starts the cluster again
	// before the checkers run, so that they read what survived a full restart.
	RestartBeforeCheck bool
	// Checkers judge the run.
	Checkers []Checker
	// Targets resolves the targets the daemon package defines beside the
	// framework's (leader, follower, node, all), by name.
	Targets map[Target]TargetFunc
	// Tampers are the tampers kill steps may name in Params.Tamper.
	Tampers map[string]TamperFunc
	// RecoveryBound is how soon after each heal a write must succeed; default
	// DefaultRecoveryBound.
	RecoveryBound time.Duration
	// Alone makes Test run the scenario with no other scenario of the
	// checkout beside it (it takes every run slot; see Test): for a scenario
	// whose checks judge timings that another cluster on the host upsets.
	Alone bool
	// Tail is how long the workloads keep running after the last fault ends,
	// at least, for checkers that judge what happens within a bound of a heal
	// (a restarted node rejoining, say). The run always goes on until a write
	// succeeds after the last fault, and one second more.
	Tail time.Duration
}

// upTimeout bounds cluster startup, and restart before the checks.
const upTimeout = 90 * time.Second

// Run runs scenario sc with opts and returns its report; the run passes when
// Report.Pass is true. It returns an error only when the run could not be carried
// out (no cluster could be started, the run directory cannot be written). Either
// way it leaves the run directory in place and the cluster stopped.
func Run(sc Scenario, opts Options) (*Report, error) {
	wallStart := time.Now()
	if sc.Name == "" || sc.Service == "" || sc.Schedule == nil {
		return nil, errors.New("chaos: Scenario needs a Name, a Service and a Schedule")
	}
	if opts.OutDir == "" || opts.Binary == "" {
		return nil, errors.New("chaos: Options needs an OutDir and a Binary")
	}
	kinds := Kinds{}
	for _, w := range sc.Workloads {
		if err := kinds.merge(w.Kinds()); err != nil {
			return nil, err
		}
	}
	if sc.RecoveryBound <= 0 {
		sc.RecoveryBound = DefaultRecoveryBound
	}
	phase := opts.Duration
	if phase <= 0 {
		phase = sc.Phase
	}
	dir := filepath.Join(opts.OutDir, fmt.Sprintf("%s-%d", sc.Name, opts.Seed))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "chaos.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	handlers := []slog.Handler{slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if opts.Logger != nil {
		handlers = append(handlers, opts.Logger.Handler())
	}
	logger := slog.New(slog.NewMultiHandler(handlers...)).With("scenario", sc.Name)

	if err := os.WriteFile(filepath.Join(dir, "seed"), fmt.Appendf(nil, "%d\n", opts.Seed), 0o644); err != nil {
		return nil, err
	}
	steps := sc.Schedule(rand.New(rand.NewPCG(opts.Seed, Stream("schedule", 0))), phase)
	for _, s := range steps {
		if s.Fault == FaultMemberReplace && sc.Membership == nil {
			return nil, errors.New("chaos: Scenario schedules member-replace faults but has no Membership")
		}
		if s.Params.Tamper != "" && sc.Tampers[s.Params.Tamper] == nil {
			return nil, fmt.Errorf("chaos: Scenario schedules tamper %q but has no such Tamper", s.Params.Tamper)
		}
	}
	if err := writeJSON(filepath.Join(dir, "schedule.json"), steps); err != nil {
		return nil, err
	}
	logger.Info("chaos: run", "seed", opts.Seed, "phase", phase, "steps", len(steps), "dir", dir)
	for i, s := range steps {
		logger.Info("chaos: scheduled", "step", i, "at", s.At, "fault", s.String())
	}

	clusterDir, err := os.MkdirTemp("", "cairn-chaos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(clusterDir)
	c, releaseLane, err := upCluster(sc, opts, clusterDir, logger)
	if err != nil {
		copyLogs(filepath.Join(clusterDir, "logs"), filepath.Join(dir, "logs"))
		return nil, err
	}
	defer releaseLane() // after Down, below: the nodes' ports are free again
	defer func() { _ = c.Down() }()

	h := NewHistory(time.Now(), kinds)
	tc, err := c.ClientTLS()
	if err != nil {
		return nil, err
	}
	env := &Env{Cluster: c, Service: sc.Service, Seed: opts.Seed, Logger: logger, History: h,
		Timeline: &Timeline{}, Dir: dir, Phase: phase, TLS: tc}
	if sc.ClientProxies {
		closeProxies, err := startClientProxies(env)
		if err != nil {
			return nil, err
		}
		defer closeProxies()
	}

	var problems []string
	var pmu sync.Mutex // protects problems while workloads run
	problem := func(format string, args ...any) {
		pmu.Lock()
		defer pmu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
		logger.Error("chaos: " + fmt.Sprintf(format, args...))
	}

	wctx, stopWorkloads := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range sc.Workloads {
		wg.Go(func() {
			if err := w.Run(wctx, env); err != nil {
				problem("workload %s: %v", w.Name(), err)
			}
		})
	}
	// Faults start once the workload makes progress.
	if !WaitFor(30*time.Second, func() bool { _, ok := h.FirstWriteOK(0); return ok }) {
		problem("no write succeeded in the 30s before the first fault")
	}
	nctx, cancel := context.WithTimeout(context.Background(), phase+30*time.Minute)
	(&nemesis{env: env, membership: sc.Membership, targets: sc.Targets, tampers: sc.Tampers}).run(nctx, time.Now(), steps)
	cancel()
	// Let the workload show that the cluster recovered from the last fault, then
	// run a little longer.
	last := time.Duration(0)
	for _, r := range env.Timeline.Records() {
		last = max(last, r.End)
	}
	WaitFor(sc.RecoveryBound+5*time.Second, func() bool { _, ok := h.FirstWriteOK(last); return ok })
	Hold(context.Background(), max(time.Second, last+sc.Tail-h.Now()))
	stopWorkloads()
	wg.Wait()
	logger.Info("chaos: workloads stopped", "ops", len(h.Ops()))

	if sc.RestartBeforeCheck {
		if err := restartAll(c, logger); err != nil {
			problem("full restart before the checks: %v", err)
		}
	}
	verdicts := make([]Verdict, 0, len(sc.Checkers))
	for _, ch := range sc.Checkers {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		v := ch.Check(cctx, env)
		cancel()
		v.Checker = ch.Name()
		logger.Info("chaos: checked", "checker", v.Checker, "pass", v.Pass(), "summary", v.Summary, "violations", v.Count, "err", v.Err)
		verdicts = append(verdicts, v)
	}

	ops := h.Ops()
	rep := buildReport(sc.Name, opts.Seed, ops, kinds, env.Timeline.Records(), verdicts, sc.RecoveryBound)
	rep.Problems = append(problems, rep.Problems...)
	if len(problems) > 0 {
		rep.Pass = false
	}
	rep.Dir = dir
	if err := c.Down(); err != nil {
		logger.Warn("chaos: down", "err", err)
	}
	rep.Wall = time.Since(wallStart)
	copyLogs(filepath.Join(clusterDir, "logs"), filepath.Join(dir, "logs"))
	return rep, writeRunDir(dir, opts.OutDir, rep, ops, env.Timeline.Records())
}

// upCluster starts the scenario's cluster: on opts.BasePort when set, else on
// a port lane (lanes.go) drawn from the seed, trying the other lanes when one
// is held by another run or has a port taken. It returns the function that
// frees the lane, to call once the cluster is down.
func upCluster(sc Scenario, opts Options, dir string, logger *slog.Logger) (*cluster.Cluster, func(), error) {
	rng := rand.New(rand.NewPCG(opts.Seed, Stream("ports", 0)))
	copts := cluster.Options{
		Dir:         dir,
		Binary:      opts.Binary,
		Services:    append([]string{sc.Service}, sc.Companions...),
		Nodes:       sc.Nodes,
		Logger:      logger.With("component", "cluster"),
		ExtraArgs:   sc.ExtraArgs,
		StopTimeout: 10 * time.Second,
		Clean:       true,
		Seed:        opts.Seed,
	}
	up := func() (*cluster.Cluster, error) {
		ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
		defer cancel()
		return cluster.Up(ctx, copts)
	}
	if opts.BasePort != 0 {
		copts.BasePort = opts.BasePort
		c, err := up()
		if err != nil {
			return nil, nil, fmt.Errorf("chaos: start cluster: %w", err)
		}
		logger.Info("chaos: cluster up", "base_port", copts.BasePort, "dir", dir)
		return c, func() {}, nil
	}
	start := rng.IntN(laneCount)
	tried := map[int]bool{}
	var err error
	for attempt := 0; attempt < laneCount; attempt++ {
		lane, release, lerr := acquireLane(os.TempDir(), laneWait, start, tried)
		if lerr != nil {
			return nil, nil, errors.Join(lerr, err)
		}
		tried[lane] = true
		copts.BasePort = lanePort(lane)
		var c *cluster.Cluster
		c, err = up()
		if err == nil {
			logger.Info("chaos: cluster up", "base_port", copts.BasePort, "lane", lane, "dir", dir)
			return c, release, nil
		}
		release()
		logger.Warn("chaos: cluster up failed; trying another lane", "base_port", copts.BasePort, "err", err)
		if !errors.Is(err, cluster.ErrPortInUse) && attempt >= 2 {
			break
		}
	}
	return nil, nil, fmt.Errorf("chaos: start cluster: %w", err)
}

// restartAll stops every node gracefully and starts the cluster again.
func restartAll(c *cluster.Cluster, logger *slog.Logger) error {
	logger.Info("chaos: full restart before the checks")
	if err := c.Down(); err != nil {
		return err
	}
	for _, n := range c.State().Nodes {
		if err := c.Start(n.Name); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	return c.WaitReady(ctx)
}

// WaitFor polls cond every 50ms until it holds or timeout passes, and reports
// whether it held.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeRunDir writes the results of a run: history.json, timeline.json,
// verdict.json and report.txt in dir, and the report's tables appended to
// summary.txt in outDir.
func writeRunDir(dir, outDir string, rep *Report, ops []Op, timeline []FaultRecord) error {
	hb, err := writeHistoryJSON(ops)
	if err != nil {
		return err
	}
	table := rep.String()
	errs := []error{
		os.WriteFile(filepath.Join(dir, "history.json"), hb, 0o644),
		writeJSON(filepath.Join(dir, "timeline.json"), timeline),
		writeJSON(filepath.Join(dir, "verdict.json"), rep),
		os.WriteFile(filepath.Join(dir, "report.txt"), []byte(table), 0o644),
	}
	f, err := os.OpenFile(filepath.Join(outDir, "summary.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		_, err = io.WriteString(f, table+"\n")
		errs = append(errs, err, f.Close())
	}
	errs = append(errs, err)
	return errors.Join(errs...)
}

// copyLogs copies the node logs of the cluster into the run directory.
func copyLogs(from, to string) {
	entries, err := os.ReadDir(from)
	if err != nil {
		return
	}
	_ = os.MkdirAll(to, 0o755)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err == nil {
			_ = os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
		}
	}
}
