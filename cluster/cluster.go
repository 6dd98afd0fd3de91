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
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors returned by the harness; test them with errors.Is.
var (
	// ErrClusterRunning is returned by Up when the directory already holds a
	// cluster with live nodes.
	ErrClusterRunning = errors.New("cluster: a cluster is already running")
	// ErrUnknownNode is returned for a node name the state file does not list;
	// the message lists the valid names.
	ErrUnknownNode = errors.New("cluster: unknown node")
	// ErrUnknownService is returned for a service the harness does not know.
	ErrUnknownService = errors.New("cluster: unknown service")
	// ErrNotRunning is returned by Kill and Stop for a node that is not running.
	ErrNotRunning = errors.New("cluster: node is not running")
	// ErrAlreadyRunning is returned by Start for a node that is running.
	ErrAlreadyRunning = errors.New("cluster: node is already running")
	// ErrNodeExited is returned by the waits when a node that should run has
	// exited; the message carries the end of its log.
	ErrNodeExited = errors.New("cluster: node exited")
	// ErrNoLeader is returned by Leader when the live nodes of a service do not
	// agree on exactly one leader.
	ErrNoLeader = errors.New("cluster: no agreed leader")
	// ErrLocked is returned when another command holds the cluster directory lock
	// for too long.
	ErrLocked = errors.New("cluster: cluster directory is locked")
	// ErrPortInUse is returned by Up when a port of the layout is taken.
	ErrPortInUse = errors.New("cluster: port in use")
)

// DefaultStopTimeout is how long Stop and Down wait after SIGTERM before SIGKILL.
const DefaultStopTimeout = 15 * time.Second

// killTimeout is how long the harness waits for a SIGKILLed process to vanish.
const killTimeout = 10 * time.Second

// Options configures Up (and, for Dir, Logger and StopTimeout, Attach).
type Options struct {
	// Dir is the cluster directory: state file, data/<node>, logs/<node>.log.
	// Required; see ResolveDir.
	Dir string
	// Binary is the cairn executable the nodes run. Required by Up.
	Binary string
	// Services to run, in start order; empty means KnownServices().
	Services []string
	// Nodes per service; 0 means each service's default (3 for raftkv).
	Nodes int
	// BasePort is the first port of the layout; 0 means DefaultBasePort.
	BasePort int
	// Logger receives the harness's own logs; nil discards them. Node logs go to
	// their log files.
	Logger *slog.Logger
	// ExtraArgs are appended to the command line of every node of a service.
	ExtraArgs map[string][]string
	// StopTimeout is the SIGTERM-to-SIGKILL delay of Stop and Down; 0 means
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// Clean removes the data and log directories of a previous cluster in Dir
	// before starting. Without it nodes restart from their old data.
	Clean bool
	// NoFaultProxy starts the nodes with direct peer links: no fault proxy
	// process, no network faults (Partition, Delay, … return ErrNoFaultProxy).
	// Benchmarks use it. By default every peer link goes through a fault proxy.
	NoFaultProxy bool
	// Seed seeds the fault proxies' random choices (drops, jitter); 0 picks one
	// from the clock, logged and recorded in the state file.
	Seed uint64
	// Insecure runs every node in plaintext (--insecure). By default Up makes
	// (or reuses) a CA and certificates in <Dir>/tls and every node runs mutual
	// TLS; the state file records the client certificate (State.TLS).
	Insecure bool
}

// Cluster is a handle on the cluster recorded in one directory. Methods may be
// called concurrently, also from several processes: commands that change the
// cluster take the directory lock and re-read the state file first, so a handle
// sees the changes other handles made. Processes started through a handle are
// reaped by it while its process lives; they are their own process groups and
// outlive it.
//
// Lock order: the directory lock (flock on <dir>/.lock), then mu. mu is held only
// for memory accesses, never across I/O or waits.
type Cluster struct {
	dir         string
	logger      *slog.Logger
	stopTimeout time.Duration

	mu       sync.Mutex        // protects the fields below
	state    State             // as of the last read or write of the state file
	children map[string]*child // by node name: processes this handle started
	reapers  sync.WaitGroup    // one per entry ever put in children
}

func newCluster(opts Options) *Cluster {
	c := &Cluster{
		dir:         opts.Dir,
		logger:      opts.Logger,
		stopTimeout: opts.StopTimeout,
		children:    map[string]*child{},
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.stopTimeout <= 0 {
		c.stopTimeout = DefaultStopTimeout
	}
	return c
}

// Open attaches to the cluster whose state file is in dir. It returns an error
// wrapping ErrNoCluster if there is none.
func Open(dir string) (*Cluster, error) {
	return Attach(Options{Dir: dir})
}

// Attach is Open with a logger and a stop timeout taken from opts (only Dir,
// Logger and StopTimeout are used).
func Attach(opts Options) (*Cluster, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	s, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	c := newCluster(opts)
	c.state = s.clone()
	return c, nil
}

// Up creates a cluster in opts.Dir and starts every node, each as its own process
// group with stdout and stderr appended to logs/<node>.log, recording each in the
// state file as it starts. Unless opts.Insecure, it first makes (or reuses) the
// cluster's CA and certificates in <Dir>/tls, and the nodes run mutual TLS; then it waits, within ctx, until the cluster is ready
// (see WaitReady). It refuses with ErrClusterRunning when the directory's state
// file lists live nodes, and with ErrPortInUse when a port is taken. If starting
// or waiting fails, Up stops every node it started before returning the error.
// ctx bounds only the startup: the nodes keep running after Up returns.
func Up(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("cluster: Options.Dir is empty")
	}
	if opts.Binary == "" {
		return nil, errors.New("cluster: Options.Binary is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if opts.BasePort == 0 {
		opts.BasePort = DefaultBasePort
	}
	nodes, err := Layout(opts)
	if err != nil {
		return nil, err
	}
	links, err := LayoutProxy(opts, nodes)
	if err != nil {
		return nil, err
	}
	var proxy *ProxyState
	if !opts.NoFaultProxy {
		if opts.Seed == 0 {
			opts.Seed = uint64(time.Now().UnixNano())
		}
		proxy = newProxyState(dir, opts.Binary, opts.BasePort, opts.Seed, links)
	}
	c := newCluster(opts)
	if err := c.start(nodes, proxy, opts); err != nil {
		return nil, errors.Join(err, c.downIfStarted())
	}
	if err := c.WaitReady(ctx); err != nil {
		return nil, errors.Join(err, c.downIfStarted())
	}
	return c, nil
}

// start does the locked part of Up: the fault proxy process first (if proxy is
// not nil), then the nodes.
func (c *Cluster) start(nodes []NodeState, proxy *ProxyState, opts Options) error {
	l, err := lockDir(c.dir, lockTimeout)
	if err != nil {
		return err
	}
	defer l.unlock()

	old, err := LoadState(c.dir)
	switch {
	case errors.Is(err, ErrNoCluster):
	case err != nil:
		return err
	default:
		var live []string
		for _, n := range old.Nodes {
			if processAlive(n.PID, n.StartTicks) {
				live = append(live, fmt.Sprintf("%s (pid %d)", n.Name, n.PID))
			}
		}
		if old.Proxy != nil && processAlive(old.Proxy.PID, old.Proxy.StartTicks) {
			live = append(live, fmt.Sprintf("fault proxy (pid %d)", old.Proxy.PID))
		}
		if len(live) > 0 {
			return fmt.Errorf("%w in %s: %s; stop it with 'cairn cluster down'", ErrClusterRunning, c.dir, strings.Join(live, ", "))
		}
	}
	if err := portsFree(nodes, proxy); err != nil {
		return err
	}
	if opts.Clean {
		for _, sub := range []string{"data", "logs"} {
			if err := os.RemoveAll(filepath.Join(c.dir, sub)); err != nil {
				return fmt.Errorf("cluster: clean: %w", err)
			}
		}
	}
	for _, n := range nodes {
		if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(n.LogFile), 0o755); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
	}
	s := &State{Dir: c.dir, BasePort: opts.BasePort, StartedAt: time.Now().UTC(), Nodes: nodes, Proxy: proxy}
	if !opts.Insecure {
		if err := ensureCerts(c.dir, nodes); err != nil {
			return err
		}
		s.TLS = newTLSState(c.dir)
	}
	for _, n := range nodes {
		if n.Service == "gatewayd" {
			if err := ensureTokenKey(c.dir); err != nil {
				return err
			}
			break
		}
	}
	if err := ensureLBFile(c.dir, nodes, opts.Insecure); err != nil {
		return err
	}
	for _, n := range nodes {
		if usesAccessKey(n.Service) {
			if s.AccessKey, err = ensureAccessKey(c.dir); err != nil {
				return err
			}
			break
		}
	}
	c.setState(s)
	if err := s.Save(); err != nil {
		return fmt.Errorf("cluster: save state: %w", err)
	}
	if proxy != nil {
		err := c.ensureProxy(s)
		c.setState(s)
		if serr := s.Save(); err == nil && serr != nil {
			err = fmt.Errorf("cluster: save state: %w", serr)
		}
		if err != nil {
			return err
		}
	}
	for i := range s.Nodes {
		err := c.spawn(&s.Nodes[i])
		c.setState(s)
		if serr := s.Save(); err == nil && serr != nil {
			err = fmt.Errorf("cluster: save state: %w", serr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// downIfStarted stops what a failed Up started.
func (c *Cluster) downIfStarted() error {
	c.mu.Lock()
	started := len(c.children) > 0
	c.mu.Unlock()
	if !started {
		return nil
	}
	return c.Down()
}

// portsFree checks that every port of nodes and of the fault proxy (if not nil)
// can be bound on its address now.
func portsFree(nodes []NodeState, proxy *ProxyState) error {
	free := func(addr, what string) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%w: %s of %s: %v (pick other ports with --base-port)", ErrPortInUse, addr, what, err)
		}
		return ln.Close()
	}
	for _, n := range nodes {
		for _, addr := range []string{n.GRPCAddr, n.AdminAddr} {
			if err := free(addr, n.Name); err != nil {
				return err
			}
		}
	}
	if proxy != nil {
		if err := free(proxy.ControlAddr, "the fault proxy control API"); err != nil {
			return err
		}
		for _, l := range proxy.Links {
			if err := free(l.Listen, "the fault proxy of link "+l.From+"→"+l.To); err != nil {
				return err
			}
		}
	}
	return nil
}

// spawn starts n and records its pid in n. The caller holds the directory lock.
// A node that Wipe emptied starts with its service's JoinArgs until its data
// directory holds data again.
func (c *Cluster) spawn(n *NodeState) error {
	args := n.Args
	if n.Wiped {
		if dirEmpty(n.DataDir) {
			if svc, ok := LookupService(n.Service); ok && svc.JoinArgs != nil {
				args = svc.JoinArgs(args)
			}
		} else {
			n.Wiped = false
		}
	}
	pid, ticks, err := c.startProcess(n.Name, n.Binary, args, n.LogFile)
	if err != nil {
		return err
	}
	n.PID, n.StartTicks = pid, ticks
	c.logger.Info("started node", "node", n.Name, "pid", pid, "grpc", n.GRPCAddr, "log", n.LogFile)
	return nil
}

// dirEmpty reports whether dir has no entries (a missing dir is empty).
func dirEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0 || errors.Is(err, os.ErrNotExist)
}

// startProcess starts binary with args as its own process group, stdout and
// stderr appended to logFile, and reaps it on a goroutine of c. name keys the
// reaper record (a node name, or proxydName).
func (c *Cluster) startProcess(name, binary string, args []string, logFile string) (int, uint64, error) {
	if binary == "" {
		return 0, 0, fmt.Errorf("cluster: no binary recorded for %s", name)
	}
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		return 0, 0, fmt.Errorf("cluster: %w", err)
	}
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "--- %s cairn cluster: starting %s: %s %s\n",
		time.Now().UTC().Format(time.RFC3339), name, binary, strings.Join(args, " "))

	cmd := exec.Command(binary, args...)
	cmd.Dir = c.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Its own process group: Ctrl-C in the terminal does not reach it, it outlives
	// `cairn cluster up --detach`, and Kill can signal everything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("cluster: start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	_, ticks, _ := procStat(pid)

	ch := &child{pid: pid, done: make(chan struct{})}
	c.mu.Lock()
	c.children[name] = ch
	c.reapers.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.reapers.Done()
		err := cmd.Wait()
		c.mu.Lock()
		expected := ch.expected
		c.mu.Unlock()
		if !expected {
			c.logger.Warn("process exited", "name", name, "pid", pid, "err", err)
		}
		close(ch.done)
	}()
	return pid, ticks, nil
}

func (c *Cluster) setState(s *State) {
	c.mu.Lock()
	c.state = s.clone()
	c.mu.Unlock()
}

// State returns a copy of the cluster state as this handle last read or wrote it.
func (c *Cluster) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.clone()
}

// Dir returns the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// refresh re-reads the state file; if it cannot, it keeps the last known state.
func (c *Cluster) refresh() State {
	if s, err := LoadState(c.dir); err == nil {
		c.setState(s)
	}
	return c.State()
}

// update runs fn on a fresh copy of the state file under the directory lock and
// saves the result, even when fn fails (it may have stopped some nodes).
func (c *Cluster) update(fn func(s *State) error) error {
	l, err := lockDir(c.dir, lockTimeout)
	if err != nil {
		return err
	}
	defer l.unlock()
	s, err := LoadState(c.dir)
	if err != nil {
		return err
	}
	ferr := fn(s)
	c.setState(s)
	if err := s.Save(); err != nil {
		return errors.Join(ferr, fmt.Errorf("cluster: save state: %w", err))
	}
	return ferr
}

// lookup finds a node by name or says which names are valid.
func lookup(s *State, name string) (*NodeState, error) {
	if n, ok := s.Node(name); ok {
		return n, nil
	}
	names := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		names[i] = n.Name
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownNode, name, strings.Join(names, ", "))
}

// ownChild returns the reaper record of n's current process if this handle
// started it.
func (c *Cluster) ownChild(n *NodeState) *child {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.children[n.Name]; ch != nil && ch.pid == n.PID {
		return ch
	}
	return nil
}

// waitGone waits up to timeout for n's process to be gone.
func (c *Cluster) waitGone(n *NodeState, timeout time.Duration) bool {
	if ch := c.ownChild(n); ch != nil {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ch.done:
			return true
		case <-t.C:
			return false
		}
	}
	return pollUntil(timeout, func() bool { return !processAlive(n.PID, n.StartTicks) })
}

// halt stops n's process group: SIGTERM and up to grace for it to exit when
// grace > 0, then SIGKILL. It clears n.PID. It returns ErrNotRunning (after
// clearing a stale pid) when there was nothing to stop.
func (c *Cluster) halt(n *NodeState, grace time.Duration) error {
	if !processAlive(n.PID, n.StartTicks) {
		n.PID, n.StartTicks = 0, 0
		return fmt.Errorf("%w: %s", ErrNotRunning, n.Name)
	}
	if ch := c.ownChild(n); ch != nil {
		c.mu.Lock()
		ch.expected = true
		c.mu.Unlock()
	}
	if grace > 0 {
		if err := signalGroup(n.PID, syscall.SIGTERM); err != nil {
			return err
		}
		// A paused (SIGSTOPped) process handles SIGTERM only once continued.
		if err := signalGroup(n.PID, syscall.SIGCONT); err != nil {
			return err
		}
		if c.waitGone(n, grace) {
			c.logger.Info("stopped node", "node", n.Name, "pid", n.PID)
			n.PID, n.StartTicks = 0, 0
			return nil
		}
		c.logger.Warn("node ignored SIGTERM; killing it", "node", n.Name, "pid", n.PID, "waited", grace)
	}
	if err := signalGroup(n.PID, syscall.SIGKILL); err != nil {
		return err
	}
	_ = signalGroup(n.PID, syscall.SIGCONT) // SIGKILL needs none; harmless

	if !c.waitGone(n, killTimeout) {
		return fmt.Errorf("cluster: %s (pid %d) still exists %v after SIGKILL", n.Name, n.PID, killTimeout)
	}
	c.logger.Info("killed node", "node", n.Name, "pid", n.PID)
	n.PID, n.StartTicks = 0, 0
	return nil
}

// Kill sends SIGKILL to the node's process group, waits until the process is
// gone and records it as stopped. It returns ErrNotRunning if it was not running.
func (c *Cluster) Kill(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		return c.haltNode(s, n, 0)
	})
}

// Stop sends SIGTERM to the node's process group, waits up to the stop timeout
// (15s by default) for it to exit, then SIGKILLs it, and records it as stopped.
// It returns ErrNotRunning if it was not running.
func (c *Cluster) Stop(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		return c.haltNode(s, n, c.stopTimeout)
	})
}

// Start starts a stopped node again with its recorded binary, arguments and data
// directory. It does not wait for it to be healthy (Restart does). It returns
// ErrAlreadyRunning if the node runs.
func (c *Cluster) Start(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		if processAlive(n.PID, n.StartTicks) {
			return fmt.Errorf("%w: %s (pid %d)", ErrAlreadyRunning, name, n.PID)
		}
		if err := c.ensureProxy(s); err != nil {
			return err
		}
		return c.spawn(n)
	})
}

// Restart stops the node gracefully if it runs, starts it again and waits, within
// ctx, until its gRPC health is SERVING.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	err := c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		if err := c.haltNode(s, n, c.stopTimeout); err != nil && !errors.Is(err, ErrNotRunning) {
			return err
		}
		if err := c.ensureProxy(s); err != nil {
			return err
		}
		return c.spawn(n)
	})
	if err != nil {
		return err
	}
	return c.WaitNode(ctx, name)
}

// haltNode is halt for a node of s; the node is no longer paused afterwards.
func (c *Cluster) haltNode(s *State, n *NodeState, grace time.Duration) error {
	err := c.halt(n, grace)
	if n.PID == 0 {
		s.removeFaults(func(f Fault) bool { return f.Kind == FaultPause && f.on(n.Name) })
	}
	return err
}

// Down resumes paused nodes, stops every node (SIGTERM, then SIGKILL for those
// still running after the stop timeout) in parallel, then the fault proxy
// process, waits until none of these processes is left and records them all as
// stopped. It clears every fault. It keeps the directory, so Start or Up can
// bring the nodes back on their data. Down on a stopped cluster does nothing.
func (c *Cluster) Down() error {
	err := c.update(func(s *State) error {
		for _, f := range s.Faults {
			if f.Kind != FaultPause {
				continue
			}
			if n, ok := s.Node(f.Nodes[0]); ok && processAlive(n.PID, n.StartTicks) {
				_ = signalGroup(n.PID, syscall.SIGCONT)
			}
		}
		errs := make([]error, len(s.Nodes)+1)
		var wg sync.WaitGroup
		for i := range s.Nodes {
			wg.Go(func() {
				if err := c.halt(&s.Nodes[i], c.stopTimeout); err != nil && !errors.Is(err, ErrNotRunning) {
					errs[i] = err
				}
			})
		}
		wg.Wait()
		errs[len(s.Nodes)] = c.haltProxy(s, c.stopTimeout)
		s.Faults = nil
		return errors.Join(errs...)
	})
	if err != nil {
		return err
	}
	// Every process this handle started is gone; let the reapers finish.
	c.reapers.Wait()
	return nil
}
