package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/failpoint"
)

// DaemonConfig is what the Raft-daemon skeleton needs of a daemon's Config:
// who the member is, where its data lives, its gRPC/admin server and its Raft
// settings. Every Raft daemon's Config holds these fields (raftkv and lockd
// embed Settings and node.ServerConfig) and builds a DaemonConfig from them.
type DaemonConfig struct {
	// Name is the daemon's name ("raftkv"): it prefixes log lines and errors.
	Name string
	// ID is the member id; DataDir holds the Raft log, snapshots and whatever
	// the daemon keeps beside them.
	ID      string
	DataDir string
	// DialOverrides routes dials to peers through other addresses (the
	// harness's fault proxies); see node.ParseDialOverrides.
	DialOverrides string
	Server        node.ServerConfig
	Settings      Settings
}

// Daemon is the skeleton every Raft daemon is built on: the gRPC and admin
// server, the Raft node, the membership service, Raft metrics, truthful
// health and one lifecycle.
//
// A daemon's New calls NewDaemon, opens its own stores (registering their
// cleanup with OnRelease), calls StartRaft with its state machine, registers
// its services on GRPC and its background loops with RunWhileServing. Its
// Serve and Close are the Daemon's. The lifecycle:
//
//   - Serve runs once: it starts Raft, serves gRPC, runs the background loops,
//     and keeps readiness and gRPC health in step with the member's health
//     (Node.ReportHealth) until its context ends, Shutdown is called, the
//     state machine fails, or the server fails. Then it stops in order:
//     readiness off, Stopping closed, background loops cancelled and awaited,
//     Raft closed (a leader hands over first), RPCs drained within the shutdown timeout, OnRelease functions
//     run (last registered first), listeners closed.
//   - Close makes a running Serve stop and waits for it; on a daemon never
//     served it releases what New opened. Close is idempotent and safe to
//     call concurrently with Serve.
//
// Its methods are safe for concurrent use.
type Daemon struct {
	cfg    DaemonConfig
	logger *slog.Logger
	srv    *node.Server
	node   *Node // set by StartRaft

	loops []func(ctx context.Context) // started by Serve

	stop     chan struct{} // closed when shutdown begins
	stopOnce sync.Once
	ready    chan struct{} // closed once Serve serves
	done     chan struct{} // closed when Serve has finished, or Close released
	doneOnce sync.Once
	served   atomic.Bool // Serve, or Close without Serve, has claimed the daemon

	mu       sync.Mutex // protects loops, release and released
	release  []func()
	released bool
}

// NewDaemon creates the daemon's server and binds its listeners (so ports
// from ":0" are known through Addr) and creates the data directory. It serves
// nothing until Serve. The daemon's own Config.Validate runs before it.
func NewDaemon(cfg DaemonConfig, logger *slog.Logger) (*Daemon, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv, err := node.NewServer(cfg.Server, logger)
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		srv.Close()
		return nil, fmt.Errorf("%s: data_dir: %w", cfg.Name, err)
	}
	return &Daemon{
		cfg:    cfg,
		logger: logger,
		srv:    srv,
		stop:   make(chan struct{}),
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
	}, nil
}

// RaftOptions are the daemon-specific parts of StartRaft.
type RaftOptions struct {
	// OnLeadership, if set, is called with true when this member becomes
	// leader and false when it stops being leader (see Config.OnLeadership).
	OnLeadership func(isLeader bool)
	// ToStatus is the daemon's one error mapper; the membership service
	// returns its errors through it. Required.
	ToStatus func(error) error
}

// StartRaft creates the Raft node over sm and registers on the gRPC server
// the Raft transport and forwarding service (node-to-node), the membership
// service (cairn.cluster.v1) and the Raft metrics, plus the failpoint admin
// handler in failpoint builds. A state machine failure stops the daemon. Call
// it once, from the daemon's New, before Serve. On error the caller releases
// the daemon with Close.
func (d *Daemon) StartRaft(sm StateMachine, opts RaftOptions) (*Node, error) {
	if opts.ToStatus == nil {
		return nil, errors.New("raftnode: RaftOptions.ToStatus is required")
	}
	rc := d.cfg.Settings.Config(d.cfg.ID, d.cfg.DataDir, d.cfg.Server.GRPCAddr)
	if d.cfg.Settings.Advertise == "" {
		rc.Advertise = d.srv.GRPCAddr()
	}
	dial := node.DialConfig{TLS: d.cfg.Server.TLS, MaxMsgBytes: d.cfg.Server.MaxRecvMsgBytes}
	overrides, err := node.ParseDialOverrides(d.cfg.DialOverrides)
	if err != nil {
		return nil, fmt.Errorf("%s: dial_overrides: %w", d.cfg.Name, err)
	}
	rc.Dial = func(target string) (*grpc.ClientConn, error) { return overrides.Dial(target, dial) }
	rc.OnLeadership = opts.OnLeadership
	rc.OnFatal = func(err error) {
		d.logger.Error("state machine failed; stopping", "err", err)
		d.Shutdown()
	}
	n, err := New(rc, sm, d.logger)
	if err != nil {
		return nil, err
	}
	if err := n.RegisterMetrics(d.srv.Registry()); err != nil {
		return nil, err
	}
	if failpoint.Enabled {
		d.srv.HandleAdmin("/debug/failpoints/", http.StripPrefix("/debug/failpoints", failpoint.Handler()))
		d.srv.HandleAdmin("/debug/failpoints", failpoint.Handler())
	}
	g := d.srv.GRPC()
	n.Register(g)
	n.RegisterMembership(g, opts.ToStatus)
	d.node = n
	return n, nil
}

// GRPC is the gRPC server: register the daemon's services on it before Serve.
func (d *Daemon) GRPC() *grpc.Server { return d.srv.GRPC() }

// Server is the daemon's node.Server (registry, admin handlers).
func (d *Daemon) Server() *node.Server { return d.srv }

// Node is the Raft node (nil before StartRaft).
func (d *Daemon) Node() *Node { return d.node }

// Logger is the daemon's logger.
func (d *Daemon) Logger() *slog.Logger { return d.logger }

// Addr is the bound gRPC address.
func (d *Daemon) Addr() string { return d.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (d *Daemon) AdminAddr() string { return d.srv.AdminAddr() }

// ReadyNotify is closed once Serve serves and has started Raft. It says
// nothing about health: see /readyz and gRPC health for that.
func (d *Daemon) ReadyNotify() <-chan struct{} { return d.ready }

// Stopping is closed when shutdown begins: long-running handlers (watches,
// blocked waits, keep-alive streams) end on it.
func (d *Daemon) Stopping() <-chan struct{} { return d.stop }

// OnRelease registers f to run once Raft has stopped and RPCs have drained
// (or, on a daemon never served, when Close releases it): close stores there.
// Functions run last registered first.
func (d *Daemon) OnRelease(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.release = append(d.release, f)
}

// RunWhileServing registers a background loop that Serve starts once Raft is
// up and cancels (and waits for) at shutdown. Call it before Serve.
func (d *Daemon) RunWhileServing(loop func(ctx context.Context)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loops = append(d.loops, loop)
}

// Shutdown begins the stop without waiting for it: Serve returns once it has
// stopped. Idempotent.
func (d *Daemon) Shutdown() {
	d.stopOnce.Do(func() { close(d.stop) })
}

// ErrShuttingDown is returned by Serve when the daemon was closed before it
// served.
var ErrShuttingDown = errors.New("raftnode: daemon is shutting down")

// Serve runs the daemon until ctx ends, Shutdown or Close is called, the state
// machine fails or the server fails, then stops gracefully (see Daemon). It
// returns the server's error, if any. A second call returns an error at once.
func (d *Daemon) Serve(ctx context.Context) error {
	if !d.served.CompareAndSwap(false, true) {
		select {
		case <-d.done:
			return ErrShuttingDown
		default:
			return fmt.Errorf("%s: Serve called twice", d.cfg.Name)
		}
	}
	defer d.doneOnce.Do(func() { close(d.done) })
	return d.serve(ctx)
}

func (d *Daemon) serve(ctx context.Context) error {
	defer d.releaseAll()
	select {
	case <-d.stop:
		return ErrShuttingDown
	default:
	}
	if d.node == nil {
		return fmt.Errorf("%s: Serve before StartRaft", d.cfg.Name)
	}
	if err := d.node.Start(); err != nil {
		if cerr := d.node.Close(); cerr != nil {
			d.logger.Warn("raft close", "err", cerr)
		}
		return err
	}
	srvCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(srvCtx) }()

	loopCtx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	d.mu.Lock()
	for _, loop := range d.loops {
		loops.Go(func() { loop(loopCtx) })
	}
	d.mu.Unlock()
	stopHealth := d.node.ReportHealth(d.srv, d.serviceNames()...)
	close(d.ready)
	d.logger.Info(d.cfg.Name+" serving", "grpc", d.Addr(), "admin", d.AdminAddr())

	var serveErr error
	select {
	case <-ctx.Done():
	case <-d.stop:
	case serveErr = <-errc:
	}
	d.logger.Info(d.cfg.Name + " stopping")
	stopHealth()
	d.srv.SetReady(false)
	d.Shutdown()
	stopLoops()
	loops.Wait()
	if err := d.node.Close(); err != nil {
		d.logger.Warn("raft close", "err", err)
	}
	stopServing()
	if serveErr == nil {
		serveErr = <-errc
	}
	return serveErr
}

// serviceNames are the services the daemon registered, whose gRPC health
// follows the member's: every one but gRPC's own (health, reflection).
func (d *Daemon) serviceNames() []string {
	var out []string
	for name := range d.srv.GRPC().GetServiceInfo() {
		if !strings.HasPrefix(name, "grpc.") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// releaseAll runs the OnRelease functions, last first, then closes the
// server. Idempotent.
func (d *Daemon) releaseAll() {
	d.mu.Lock()
	if d.released {
		d.mu.Unlock()
		return
	}
	d.released = true
	fns := d.release
	d.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	d.srv.Close()
}

// Close stops the daemon: a running Serve stops as if its context ended and
// Close waits for it to return; a daemon never served releases what New and
// StartRaft opened. Idempotent; safe to call concurrently with Serve.
func (d *Daemon) Close() {
	d.Shutdown()
	if !d.served.CompareAndSwap(false, true) {
		<-d.done // Serve runs or ran: wait for it
		return
	}
	if d.node != nil {
		if err := d.node.Close(); err != nil {
			d.logger.Warn("raft close", "err", err)
		}
	}
	d.releaseAll()
	d.doneOnce.Do(func() { close(d.done) })
}

// Propose marshals cmd, commits it through apply (Node.Apply, ApplyAsLeader,
// or a daemon's batching wrapper around them) and decodes the state machine's
// result into a new R. Errors are apply's (raftnode sentinels) or a decode
// failure; a domain error the state machine recorded in the result is the
// caller's to read.
func Propose[R any, PR interface {
	*R
	proto.Message
}](ctx context.Context, apply func(context.Context, []byte) ([]byte, error), cmd proto.Message) (PR, error) {
	b, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("raftnode: encode command: %w", err)
	}
	out, err := apply(ctx, b)
	if err != nil {
		return nil, err
	}
	res := PR(new(R))
	if err := proto.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("raftnode: decode result: %w", err)
	}
	return res, nil
}
