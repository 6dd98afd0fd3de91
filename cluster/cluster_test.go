package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/lbd/lbconfig"
)

// testLogWriter sends log lines to t.Log until the test's cleanup starts, so that
// reaper goroutines logging late cannot fail the run.
type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeOptions returns Options that run fake nodes (this test binary) in a fresh
// directory on free ports.
func fakeOptions(t *testing.T, nodes int) Options {
	t.Helper()
	t.Setenv(fakeNodeEnv, "1")
	bin, err := os.Executable()
	require.NoError(t, err)
	return Options{
		Dir:         t.TempDir(),
		Binary:      bin,
		Services:    []string{"raftkv"},
		Nodes:       nodes,
		BasePort:    freeBasePort(t, nodes),
		Logger:      testLogger(t),
		StopTimeout: 5 * time.Second,
	}
}

// killLeftovers SIGKILLs whatever the state file in dir still records, so a
// failed test leaves no process behind.
func killLeftovers(t *testing.T, dir string) {
	t.Cleanup(func() {
		s, err := LoadState(dir)
		if err != nil {
			return
		}
		procs := s.Nodes
		if s.Proxy != nil {
			procs = append(procs, proxyNode(s.Proxy))
		}
		for _, n := range procs {
			if processAlive(n.PID, n.StartTicks) {
				t.Logf("cleanup: killing leftover %s (pid %d)", n.Name, n.PID)
				_ = signalGroup(n.PID, syscall.SIGKILL)
			}
		}
	})
}

func upFake(t *testing.T, opts Options) *Cluster {
	t.Helper()
	killLeftovers(t, opts.Dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Up(ctx, opts)
	require.NoError(t, err)
	return c
}

// requireGone polls until pid and its process group no longer exist.
func requireGone(t *testing.T, pid int) {
	t.Helper()
	gone := pollUntil(10*time.Second, func() bool {
		return !processAlive(pid, 0) && errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH) || zombieOnly(pid)
	})
	require.True(t, gone, "pid %d still exists", pid)
}

// zombieOnly reports whether pid exists only as a zombie, waiting for a reaper
// in another process: it runs nothing any more.
func zombieOnly(pid int) bool {
	st, _, err := procStat(pid)
	return err == nil && st == 'Z'
}

func statusByName(t *testing.T, c *Cluster) map[string]NodeStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sts, err := c.Status(ctx)
	require.NoError(t, err)
	out := map[string]NodeStatus{}
	for _, st := range sts {
		out[st.Name] = st
	}
	return out
}

func TestLayout(t *testing.T) {
	nodes, err := Layout(Options{
		Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"raftkv"},
		ExtraArgs: map[string][]string{"raftkv": {"--snapshot-threshold", "10"}},
	})
	require.NoError(t, err)
	require.Len(t, nodes, 3)
	for i, n := range nodes {
		require.Equal(t, "raftkv-"+strconv.Itoa(i+1), n.Name)
		require.Equal(t, "raftkv", n.Service)
		require.Equal(t, "/bin/cairn", n.Binary)
		require.Zero(t, n.PID)
	}
	n := nodes[1]
	require.Equal(t, "127.0.0.1:7002", n.GRPCAddr)
	require.Equal(t, "127.0.0.1:7003", n.AdminAddr)
	require.Equal(t, "/c/data/raftkv-2", n.DataDir)
	require.Equal(t, "/c/logs/raftkv-2.log", n.LogFile)
	require.Equal(t, []string{
		"raftkv",
		"--id", "raftkv-2",
		"--grpc-addr", "127.0.0.1:7002",
		"--admin-addr", "127.0.0.1:7003",
		"--data-dir", "/c/data/raftkv-2",
		"--peers", "raftkv-1=127.0.0.1:7000,raftkv-2=127.0.0.1:7002,raftkv-3=127.0.0.1:7004",
		"--sql-addr", "127.0.0.1:7021",
		"--tls-cert", "/c/tls/raftkv-2.pem", "--tls-key", "/c/tls/raftkv-2-key.pem", "--tls-ca", "/c/tls/ca.pem",
		"--snapshot-threshold", "10",
	}, n.Args)

	insecure, err := Layout(Options{Dir: "/c", Services: []string{"raftkv"}, Insecure: true})
	require.NoError(t, err)
	require.Equal(t, "--insecure", insecure[0].Args[len(insecure[0].Args)-1])

	nodes, err = Layout(Options{Dir: "/c", Nodes: 5, Services: []string{"raftkv"}})
	require.NoError(t, err)
	require.Len(t, nodes, 5)
	require.Equal(t, "127.0.0.1:7008", nodes[4].GRPCAddr, "default base port")
}

func TestNodePorts(t *testing.T) {
	for _, tc := range []struct {
		base        int
		service     string
		index       int
		grpc, admin int
	}{
		{7000, "raftkv", 1, 7000, 7001},
		{7000, "raftkv", 3, 7004, 7005},
		{7000, "lockd", 2, 7102, 7103},
		{7000, "gatewayd", 1, 7700, 7701},
		{7000, "edge", 50, 7998, 7999},
		{20000, "cached", 1, 20200, 20201},
	} {
		g, a, err := NodePorts(tc.base, tc.service, tc.index)
		require.NoError(t, err, "%+v", tc)
		require.Equal(t, tc.grpc, g, "%+v", tc)
		require.Equal(t, tc.admin, a, "%+v", tc)
	}
}

func TestLayoutErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"unknown service", Options{Services: []string{"nosuch"}}, `unknown service "nosuch"`},
		{"duplicate service", Options{Services: []string{"raftkv", "raftkv"}}, "listed twice"},
		{"too many nodes", Options{Nodes: MaxNodes + 1}, "out of range"},
		{"negative nodes", Options{Nodes: -1}, "out of range"},
		{"port overflow", Options{BasePort: 65535}, "outside 1..65535"},
		{"extra args for unknown service", Options{ExtraArgs: map[string][]string{"nosuch": {"-x"}}}, "nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Dir = "/c"
			_, err := Layout(tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestServiceTable(t *testing.T) {
	for _, svc := range services {
		require.Contains(t, portOrder, svc.Name, "every service needs a port block")
		require.Positive(t, svc.DefaultNodes)
		require.NotNil(t, svc.Args)
		if svc.Replicated {
			require.NotNil(t, svc.Role, "%s: replicated services need a role probe", svc.Name)
		}
	}
}

func TestStateSaveLoad(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadState(dir)
	require.ErrorIs(t, err, ErrNoCluster)
	require.ErrorContains(t, err, "cairn cluster up")

	s := &State{
		Dir: dir, BasePort: 7000, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Nodes: []NodeState{{
			Name: "raftkv-1", Service: "raftkv", PID: 42, GRPCAddr: "127.0.0.1:7000",
			AdminAddr: "127.0.0.1:7001", DataDir: dir + "/data/raftkv-1", LogFile: dir + "/logs/raftkv-1.log",
			Binary: "/bin/cairn", Args: []string{"raftkv", "--id", "raftkv-1"}, StartTicks: 99,
		}},
	}
	require.NoError(t, s.Save())
	got, err := LoadState(dir)
	require.NoError(t, err)
	require.Equal(t, s, got)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left: %v", entries)

	cp := got.clone()
	cp.Nodes[0].Args[0] = "changed"
	require.Equal(t, "raftkv", got.Nodes[0].Args[0], "clone is deep")

	require.NoError(t, os.WriteFile(filepath.Join(dir, StateFileName), []byte("{"), 0o644))
	_, err = LoadState(dir)
	require.ErrorContains(t, err, "parse")
}

func TestProcessAlive(t *testing.T) {
	require.True(t, processAlive(os.Getpid(), 0))
	_, ticks, err := procStat(os.Getpid())
	require.NoError(t, err)
	require.True(t, processAlive(os.Getpid(), ticks))
	require.False(t, processAlive(os.Getpid(), ticks+1), "recycled pid")
	require.False(t, processAlive(0, 0))

	// A child that exited but was not reaped yet is a zombie: not alive.
	cmd := exec.Command(os.Args[0], "raftkv", "--exit=0")
	cmd.Env = append(os.Environ(), fakeNodeEnv+"=1")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	require.True(t, pollUntil(10*time.Second, func() bool { return zombieOnly(pid) }))
	require.False(t, processAlive(pid, 0))
	require.NoError(t, cmd.Wait())
	require.False(t, processAlive(pid, 0))
}

func TestDirLock(t *testing.T) {
	dir := t.TempDir()
	l, err := lockDir(dir, time.Second)
	require.NoError(t, err)
	_, err = lockDir(dir, 50*time.Millisecond)
	require.ErrorIs(t, err, ErrLocked)

	got := make(chan error, 1)
	go func() {
		l2, err := lockDir(dir, 10*time.Second)
		if err == nil {
			l2.unlock()
		}
		got <- err
	}()
	l.unlock()
	require.NoError(t, <-got)
}

func TestOpenNoCluster(t *testing.T) {
	_, err := Open(t.TempDir())
	require.ErrorIs(t, err, ErrNoCluster)
}

func TestLifecycle(t *testing.T) {
	opts := fakeOptions(t, 3)
	c := upFake(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Up recorded every node in the state file.
	s, err := LoadState(opts.Dir)
	require.NoError(t, err)
	require.Equal(t, c.State(), *s)
	require.Len(t, s.Nodes, 3)
	pids := map[string]int{}
	for _, n := range s.Nodes {
		require.True(t, processAlive(n.PID, n.StartTicks), n.Name)
		require.NotZero(t, n.StartTicks)
		pids[n.Name] = n.PID
		pgid, err := syscall.Getpgid(n.PID)
		require.NoError(t, err)
		require.Equal(t, n.PID, pgid, "%s leads its own process group", n.Name)
		log, err := os.ReadFile(n.LogFile)
		require.NoError(t, err)
		require.Contains(t, string(log), "fake raftkv node "+n.Name+" starting")
		require.Equal(t, 1, bootCount(t, n.DataDir))
	}

	st := statusByName(t, c)
	for name, ns := range st {
		require.True(t, ns.Alive, name)
		require.Equal(t, HealthServing, ns.Health, name)
		require.Equal(t, pids[name], ns.PID)
	}
	require.Equal(t, "leader", st["raftkv-1"].Role)
	require.Equal(t, "follower", st["raftkv-2"].Role)
	leader, err := c.Leader(ctx, "raftkv")
	require.NoError(t, err)
	require.Equal(t, "raftkv-1", leader)

	// A second cluster in the same directory is refused.
	_, err = Up(ctx, opts)
	require.ErrorIs(t, err, ErrClusterRunning)
	require.Equal(t, pids["raftkv-1"], c.State().Nodes[0].PID, "refused Up touched nothing")

	// Unknown names list the valid ones.
	err = c.Kill("raftkv-9")
	require.ErrorIs(t, err, ErrUnknownNode)
	require.ErrorContains(t, err, "raftkv-1, raftkv-2, raftkv-3")

	// Kill the leader: the others elect a new one.
	require.NoError(t, c.Kill("raftkv-1"))
	requireGone(t, pids["raftkv-1"])
	state := c.State()
	n1, _ := state.Node("raftkv-1")
	require.Zero(t, n1.PID)
	require.ErrorIs(t, c.Kill("raftkv-1"), ErrNotRunning)
	require.NoError(t, c.WaitReady(ctx))
	leader, err = c.WaitLeader(ctx, "raftkv")
	require.NoError(t, err)
	require.Equal(t, "raftkv-2", leader)
	st = statusByName(t, c)
	require.False(t, st["raftkv-1"].Alive)
	require.Equal(t, HealthUnreachable, st["raftkv-1"].Health)
	require.Zero(t, st["raftkv-1"].PID)

	// Start brings it back on the same data dir.
	require.NoError(t, c.Start("raftkv-1"))
	require.ErrorIs(t, c.Start("raftkv-1"), ErrAlreadyRunning)
	require.NoError(t, c.WaitReady(ctx))
	require.Equal(t, 2, bootCount(t, n1.DataDir))

	// Restart a running node: new process, same data, serving when it returns.
	require.NoError(t, c.Restart(ctx, "raftkv-2"))
	requireGone(t, pids["raftkv-2"])
	state = c.State()
	n2, _ := state.Node("raftkv-2")
	require.NotEqual(t, pids["raftkv-2"], n2.PID)
	require.Equal(t, 2, bootCount(t, n2.DataDir))
	require.Equal(t, HealthServing, statusByName(t, c)["raftkv-2"].Health)
	log, err := os.ReadFile(n2.LogFile)
	require.NoError(t, err)
	require.Contains(t, string(log), "SIGTERM, stopping", "Restart stops gracefully; log is appended")

	// Stop is graceful.
	require.NoError(t, c.Stop("raftkv-3"))
	require.ErrorIs(t, c.Stop("raftkv-3"), ErrNotRunning)
	require.NoError(t, c.Restart(ctx, "raftkv-3"), "Restart starts a stopped node")

	// Down leaves no process and the directory marks every node stopped.
	final := c.State()
	require.NoError(t, c.Down())
	for _, n := range final.Nodes {
		requireGone(t, n.PID)
	}
	s, err = LoadState(opts.Dir)
	require.NoError(t, err)
	for _, n := range s.Nodes {
		require.Zero(t, n.PID, n.Name)
	}
	require.NoError(t, c.Down(), "Down is idempotent")

	// The directory can be brought back up, on the old data.
	c = upFake(t, opts)
	require.Equal(t, 3, bootCount(t, s.Nodes[0].DataDir))
	require.NoError(t, c.Down())
}

func TestOpenDrivesClusterStartedElsewhere(t *testing.T) {
	opts := fakeOptions(t, 3)
	c := upFake(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	o, err := Open(opts.Dir)
	require.NoError(t, err)
	require.Equal(t, c.State(), o.State())

	require.NoError(t, o.Stop("raftkv-3"))
	require.False(t, statusByName(t, c)["raftkv-3"].Alive, "other handles see the change")
	require.NoError(t, o.Start("raftkv-3"))
	require.NoError(t, c.WaitReady(ctx))

	// Down through the second handle stops processes the first one started
	// (and reaps) as well as its own.
	all := o.State()
	require.NoError(t, o.Down())
	for _, n := range all.Nodes {
		requireGone(t, n.PID)
	}
	c.reapers.Wait()
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	opts := fakeOptions(t, 1)
	opts.ExtraArgs = map[string][]string{"raftkv": {"--ignore-sigterm"}}
	opts.StopTimeout = 300 * time.Millisecond
	c := upFake(t, opts)
	pid := c.State().Nodes[0].PID

	start := time.Now()
	require.NoError(t, c.Stop("raftkv-1"))
	require.GreaterOrEqual(t, time.Since(start), opts.StopTimeout)
	requireGone(t, pid)
	require.NoError(t, c.Down())
}

func TestUpFailsWhenNodeExits(t *testing.T) {
	opts := fakeOptions(t, 3)
	opts.ExtraArgs = map[string][]string{"raftkv": {"--exit=3"}}
	killLeftovers(t, opts.Dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := Up(ctx, opts)
	require.ErrorIs(t, err, ErrNodeExited)
	require.ErrorContains(t, err, "exiting with 3 on purpose", "error carries the log tail")
	s, err := LoadState(opts.Dir)
	require.NoError(t, err)
	for _, n := range s.Nodes {
		require.Zero(t, n.PID)
	}
}

func TestUpTimesOutWhenNotServing(t *testing.T) {
	opts := fakeOptions(t, 2)
	opts.ExtraArgs = map[string][]string{"raftkv": {"--not-serving"}}
	killLeftovers(t, opts.Dir)
	// Up waits for SERVING, so it only ends with its context. How long the
	// nodes take to start and answer depends on the machine's load, so instead
	// of a deadline the test ends Up's wait once Up itself has seen a node
	// answer NOT_SERVING (its debug log says so); the minute is only a bound.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts.Logger = slog.New(onWaiting{Handler: opts.Logger.Handler(), match: HealthNotServing, fire: cancel})
	_, err := Up(ctx, opts)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, HealthNotServing)
	s, err := LoadState(opts.Dir)
	require.NoError(t, err)
	for _, n := range s.Nodes {
		require.Zero(t, n.PID, "failed Up stops what it started")
	}
}

// onWaiting is a log handler that calls fire when the harness logs a wait
// whose last error contains match.
type onWaiting struct {
	slog.Handler
	match string
	fire  func()
}

func (h onWaiting) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "waiting" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "last" && strings.Contains(a.Value.String(), h.match) {
				h.fire()
			}
			return true
		})
	}
	return h.Handler.Handle(ctx, r)
}

func (h onWaiting) WithAttrs(attrs []slog.Attr) slog.Handler {
	return onWaiting{Handler: h.Handler.WithAttrs(attrs), match: h.match, fire: h.fire}
}

func (h onWaiting) WithGroup(name string) slog.Handler {
	return onWaiting{Handler: h.Handler.WithGroup(name), match: h.match, fire: h.fire}
}

func TestUpRefusesBusyPort(t *testing.T) {
	opts := fakeOptions(t, 3)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(opts.BasePort+2))
	require.NoError(t, err)
	defer ln.Close()
	_, err = Up(context.Background(), opts)
	require.ErrorIs(t, err, ErrPortInUse)
	require.ErrorContains(t, err, "raftkv-2")
	_, err = LoadState(opts.Dir)
	require.ErrorIs(t, err, ErrNoCluster, "nothing started")
}

func TestCleanRemovesOldData(t *testing.T) {
	opts := fakeOptions(t, 1)
	c := upFake(t, opts)
	require.NoError(t, c.Down())
	opts.Clean = true
	c = upFake(t, opts)
	require.Equal(t, 1, bootCount(t, c.State().Nodes[0].DataDir))
	require.NoError(t, c.Down())
}

func TestLayoutDefaultsToEveryService(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000})
	require.NoError(t, err)
	services := map[string]int{}
	for _, n := range nodes {
		services[n.Service]++
	}
	require.Equal(t, map[string]int{"raftkv": 3, "lockd": 3, "cached": 3, "queued": 3, "streamd": 3, "blobd": 5, "searchd": 3, "gatewayd": 3, "lbd": 2, "edge": 3}, services)
	lockd1 := nodes[3]
	require.Equal(t, "lockd-1", lockd1.Name)
	require.Equal(t, "127.0.0.1:7100", lockd1.GRPCAddr, "lockd's block starts 100 ports above raftkv's")
}

// The lbd pair shares the virtual address's ports, elects its active node
// in lockd, follows raftkv, and reads the lb file the harness writes: a
// document lbd accepts, naming those ports.
func TestLayoutLBD(t *testing.T) {
	dir := t.TempDir()
	nodes, err := Layout(Options{Dir: dir, Binary: "/bin/cairn", BasePort: 7000, Services: []string{"lbd"}})
	require.NoError(t, err)
	var lbs []NodeState
	for _, n := range nodes {
		if n.Service == "lbd" {
			lbs = append(lbs, n)
		}
	}
	require.Len(t, lbs, 2)
	require.Equal(t, lbs[0].Ports, lbs[1].Ports, "the frontends float: every node has the same addresses")
	require.Equal(t, LBVirtualIP+":7820", lbs[0].Ports["http"])
	for _, n := range lbs {
		args := strings.Join(n.Args, " ")
		require.Contains(t, args, "lbd --id "+n.Name)
		require.Contains(t, args, "--vip "+LBVirtualIP)
		require.Contains(t, args, "--lockd 127.0.0.1:7100")
		require.Contains(t, args, "--registry 127.0.0.1:7000")
		require.Contains(t, args, "--lb-file "+filepath.Join(dir, LBFileName))
	}
	require.NoError(t, ensureLBFile(dir, nodes, false))
	doc, err := lbconfig.Load(filepath.Join(dir, LBFileName))
	require.NoError(t, err)
	require.Equal(t, lbs[0].Ports["http"], doc.Frontends[0].Listen)
	require.Equal(t, "cluster", doc.Frontends[0].TLS)
	require.Equal(t, lbs[0].Ports["tcp"], doc.Frontends[1].Listen)
	// A user's edits survive: an existing file is left alone.
	require.NoError(t, os.WriteFile(filepath.Join(dir, LBFileName), []byte("# mine\n"), 0o644))
	require.NoError(t, ensureLBFile(dir, nodes, true))
	b, err := os.ReadFile(filepath.Join(dir, LBFileName))
	require.NoError(t, err)
	require.Equal(t, "# mine\n", string(b))
}

// The edges serve on one loopback address per region (127.0.<i>.1), which
// their certificates name, and find blobd, raftkv and each other.
func TestLayoutEdge(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"edge"}})
	require.NoError(t, err)
	var edges []NodeState
	for _, n := range nodes {
		if n.Service == "edge" {
			edges = append(edges, n)
		}
	}
	require.Len(t, edges, 3)
	for i, e := range edges {
		host, _, err := net.SplitHostPort(e.Ports["http"])
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("127.0.%d.1", i+1), host)
		args := strings.Join(e.Args, " ")
		require.Contains(t, args, "gatewayd --role edge --id "+e.Name)
		require.Contains(t, args, "--region "+EdgeRegions[i])
		require.Contains(t, args, "--blobd-endpoints ")
		require.Contains(t, args, "--registry ")
		require.Contains(t, args, "--shields edge-1=127.0.1.1:")
		require.Contains(t, args, "tokyo=127.0.1.0/24@127.0.1.1;frankfurt=127.0.2.0/24@127.0.2.1")
	}
	services := map[string]bool{}
	for _, n := range nodes {
		services[n.Service] = true
	}
	require.True(t, services["raftkv"] && services["blobd"], "the edges require raftkv and blobd")
}

func TestLayoutQueued(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"queued"}})
	require.NoError(t, err)
	require.Len(t, nodes, 3)
	q2 := nodes[1]
	require.Equal(t, "queued-2", q2.Name)
	require.Equal(t, "127.0.0.1:7302", q2.GRPCAddr, "queued is slot 3")
	require.Equal(t, "127.0.0.1:7321", q2.Ports["sqs"], "the SQS API is extra port 0: 7000 + 300 + 20 + 1")
	args := strings.Join(q2.Args, " ")
	require.Contains(t, args, "queued --id queued-2 --grpc-addr 127.0.0.1:7302 --admin-addr 127.0.0.1:7303")
	require.Contains(t, args, "--peers queued-1=127.0.0.1:7300,queued-2=127.0.0.1:7302,queued-3=127.0.0.1:7304")
	require.Contains(t, args, "--sqs-addr 127.0.0.1:7321 --sqs-credentials-file /c/access-key --sqs-region us-east-1")
	require.NotContains(t, args, "AKCA", "no secret on a command line")
	svc, ok := LookupService("queued")
	require.True(t, ok)
	require.True(t, svc.Replicated)
	require.NotContains(t, strings.Join(svc.JoinArgs(q2.Args), " "), "queued-1=")
}

func TestLayoutBlobd(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"blobd"}})
	require.NoError(t, err)
	require.Len(t, nodes, 5, "five nodes: 3 replicas of a hot chunk, 3+2 shards of a cool one")
	b5 := nodes[4]
	require.Equal(t, "blobd-5", b5.Name)
	require.Equal(t, "127.0.0.1:7508", b5.GRPCAddr, "blobd is slot 5")
	require.Equal(t, "127.0.0.1:7524", b5.Ports["s3"], "the S3 API is extra port 0: 7000 + 500 + 20 + 4")
	args := strings.Join(b5.Args, " ")
	require.Contains(t, args, "blobd --id blobd-5 --grpc-addr 127.0.0.1:7508 --admin-addr 127.0.0.1:7509 --data-dir /c/data/blobd-5")
	require.Contains(t, args, "--peers blobd-1=127.0.0.1:7500,blobd-2=127.0.0.1:7502,blobd-3=127.0.0.1:7504,blobd-4=127.0.0.1:7506,blobd-5=127.0.0.1:7508")
	require.Contains(t, args, "--s3-addr 127.0.0.1:7524 --s3-credentials-file /c/access-key --s3-region us-east-1")
	svc, ok := LookupService("blobd")
	require.True(t, ok)
	require.True(t, svc.Replicated)
	require.True(t, svc.Peered)
	require.NotContains(t, strings.Join(svc.JoinArgs(b5.Args), " "), "blobd-1=")
}

func TestLayoutSearchdStartsStreamdFirst(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"searchd"}})
	require.NoError(t, err)
	require.Len(t, nodes, 6, "searchd requires streamd: three of each")
	require.Equal(t, "streamd-1", nodes[0].Name, "a required service starts before the service needing it")
	s2 := nodes[4]
	require.Equal(t, "searchd-2", s2.Name)
	require.Equal(t, "127.0.0.1:7602", s2.GRPCAddr, "searchd is slot 6")
	require.Equal(t, "127.0.0.1:7621", s2.Ports["http"], "the HTTP API is extra port 0: 7000 + 600 + 20 + 1")
	args := strings.Join(s2.Args, " ")
	require.Contains(t, args, "searchd --id searchd-2 --grpc-addr 127.0.0.1:7602 --admin-addr 127.0.0.1:7603 --data-dir /c/data/searchd-2")
	require.Contains(t, args, "--peers searchd-1=127.0.0.1:7600,searchd-2=127.0.0.1:7602,searchd-3=127.0.0.1:7604")
	require.Contains(t, args, "--http-addr 127.0.0.1:7621 --streamd-endpoints 127.0.0.1:7400,127.0.0.1:7402,127.0.0.1:7404")
	both, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"streamd", "searchd"}})
	require.NoError(t, err)
	require.Len(t, both, 6, "a required service listed already is not added twice")
	svc, ok := LookupService("searchd")
	require.True(t, ok)
	require.True(t, svc.Replicated)
	require.True(t, svc.Peered)
	require.Equal(t, []string{"streamd"}, svc.Requires)
}

func TestExtraPorts(t *testing.T) {
	p, err := ExtraPort(7000, "cached", 2, 0)
	require.NoError(t, err)
	require.Equal(t, 7221, p, "cached is slot 2: 7000 + 200 + 20 + 1")
	_, err = ExtraPort(7000, "cached", 11, 0)
	require.Error(t, err)
	_, err = ExtraPort(7000, "cached", 1, 3)
	require.Error(t, err)
	// Extra ports never collide with node, proxy or control ports of any block.
	used := map[int]string{}
	for _, svc := range portOrder {
		for i := 1; i <= 5; i++ {
			g, a, err := NodePorts(7000, svc, i)
			require.NoError(t, err)
			ports := []int{g, a}
			for k := 0; k < 3; k++ {
				e, err := ExtraPort(7000, svc, i, k)
				require.NoError(t, err)
				ports = append(ports, e)
			}
			for _, port := range ports {
				require.Empty(t, used[port], "port %d used twice", port)
				used[port] = svc
			}
			for j := 1; j <= 5; j++ {
				if j != i {
					pp, err := ProxyPort(7000, svc, i, j)
					require.NoError(t, err)
					require.Empty(t, used[pp], "proxy port %d collides", pp)
					used[pp] = svc
				}
			}
		}
	}
	require.Empty(t, used[7099], "control port is free")
}

func TestCachedLayoutUsesRESPPortAndRegistry(t *testing.T) {
	nodes, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"raftkv", "cached"}})
	require.NoError(t, err)
	var c2 NodeState
	for _, n := range nodes {
		if n.Name == "cached-2" {
			c2 = n
		}
	}
	require.Equal(t, "127.0.0.1:7221", c2.Ports["resp"])
	args := strings.Join(c2.Args, " ")
	require.Contains(t, args, "--resp-addr 127.0.0.1:7221")
	require.Contains(t, args, "--peers cached-1=127.0.0.1:7200/127.0.0.1:7220,cached-2=127.0.0.1:7202/127.0.0.1:7221,cached-3=127.0.0.1:7204/127.0.0.1:7222")
	require.Contains(t, args, "--registry 127.0.0.1:7000,127.0.0.1:7002,127.0.0.1:7004")
	require.Contains(t, args, "--resp-loop-spin 0s", "nodes sharing the host's CPUs do not busy-poll")

	alone, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"cached"}})
	require.NoError(t, err)
	require.NotContains(t, strings.Join(alone[0].Args, " "), "--registry", "static peers only without raftkv")

	one, err := Layout(Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"cached"}, Nodes: 1})
	require.NoError(t, err)
	require.NotContains(t, strings.Join(one[0].Args, " "), "--resp-loop-spin", "a lone node keeps the default poll")
}

func TestAccessKey(t *testing.T) {
	dir := t.TempDir()
	st, err := ensureAccessKey(dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, AccessKeyFileName), st.CredentialsFile)
	fi, err := os.Stat(st.CredentialsFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	id, secret, err := st.AccessKey()
	require.NoError(t, err)
	require.Regexp(t, `^AKCA[A-Z2-7]{16}$`, id)
	require.Len(t, secret, 40)

	again, err := ensureAccessKey(dir)
	require.NoError(t, err)
	id2, secret2, err := again.AccessKey()
	require.NoError(t, err)
	require.Equal(t, id+secret, id2+secret2, "made once per cluster directory")

	other, err := ensureAccessKey(t.TempDir())
	require.NoError(t, err)
	id3, _, err := other.AccessKey()
	require.NoError(t, err)
	require.NotEqual(t, id, id3)
}

// TestAccessKeyOfAnOlderCluster: a cluster directory made when the key was
// queued's alone keeps its key, and its state file still loads.
func TestAccessKeyOfAnOlderCluster(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, SQSCredentialsFileName)
	require.NoError(t, os.WriteFile(legacy, []byte("AKCAOLDOLDOLDOLDOLDO c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0 cluster\n"), 0o600))
	old := `{"dir":"` + dir + `","nodes":[],"sqs":{"credentials_file":"` + legacy + `","region":"us-east-1"}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, StateFileName), []byte(old), 0o644))
	loaded, err := LoadState(dir)
	require.NoError(t, err)
	require.NotNil(t, loaded.AccessKey)
	id, _, err := loaded.AccessKey.AccessKey()
	require.NoError(t, err)
	require.Equal(t, "AKCAOLDOLDOLDOLDOLDO", id)

	st, err := ensureAccessKey(dir)
	require.NoError(t, err)
	id, _, err = st.AccessKey()
	require.NoError(t, err)
	require.Equal(t, "AKCAOLDOLDOLDOLDOLDO", id, "the old key file is renamed, not replaced")
	_, err = os.Stat(legacy)
	require.ErrorIs(t, err, os.ErrNotExist)
}
