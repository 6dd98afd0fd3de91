package lbchaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/lbd"
	"cairn.dev/cairn/node/registry"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Operation kinds of the Traffic workload.
const (
	// KindGet is an idempotent GET through the virtual address (a write for
	// the framework: the run's recovery is the first one answered after a
	// heal). Key: the request id; Value: the backend that answered; Rev:
	// the status.
	KindGet chaos.OpKind = "get"
	// Events: the workload's backend faults (Key: the backend; Delete: the
	// fault healed) and the nodes' roles as the monitor saw them change.
	KindBackendKill  chaos.OpKind = "backend-kill"
	KindBackendPause chaos.OpKind = "backend-pause"
	KindBackendSlow  chaos.OpKind = "backend-slow"
	KindBackendDrain chaos.OpKind = "backend-drain"
	KindRole         chaos.OpKind = "role" // Key: node; Value: role/active
)

// The settings the checkers hold lbd to; poolDoc writes them.
const (
	poolName     = "chaos"
	registryName = "lbchaos"
	backendCount = 3
	// The checks tolerate a stall of the test process (which runs the
	// backends, under -race on a loaded host) of about interval + timeout:
	// with 200/150 ms every backend was once marked down at once.
	checkInterval  = 500 * time.Millisecond
	checkTimeout   = 400 * time.Millisecond
	checkJitterPct = 10 // the checks' jitter, percent
	checkRise      = 2
	checkFall      = 2
	retries        = 2
	attemptTimeout = 2 * time.Second // the pool's timeout: a paused backend's requests are retried after it
	baseEjection   = time.Second
	maxEjection    = 4 * time.Second
	drainTimeout   = 30 * time.Second
	haTTL          = lbd.DefaultHATTL // the harness runs lbd with the default

	fastClients     = 3
	slowClients     = 2
	slowPath        = "/slow?ms=1200"
	slowDelay       = 400 * time.Millisecond // added by a slowed backend
	requestTimeout  = 10 * time.Second
	thinkTime       = 10 * time.Millisecond
	errorPause      = 20 * time.Millisecond // after a failed request: fine-grained takeover measurement
	monitorEvery    = 100 * time.Millisecond
	cycle           = 40 * time.Second // one round of backend faults
	drainInflightOK = 100 * time.Millisecond
)

// Traffic is the lbd workload (see the package doc). Run fills its fields
// for the checkers.
type Traffic struct {
	mu       sync.Mutex // protects the fields below
	arrivals []arrival
	windows  []window
	roles    []roleSample
	stats    []statSample
}

// window is one backend fault of the workload.
type window struct {
	Kind    chaos.OpKind
	Backend string
	// Invoked is when the fault was asked for (a drain's SetBackendState
	// call); Start when it was in place (the call returned); End when the
	// heal was asked for, -1 if never.
	Invoked, Start, End time.Duration
	Err                 string // the fault could not be put in place
}

// roleSample is one GetStatus answer of an lbd node.
type roleSample struct {
	Node   string
	At     time.Duration
	Role   string
	Active string
}

// statSample is one backend of the pool as an lbd node reported it.
type statSample struct {
	Node    string
	At      time.Duration
	Backend string
	Total   int64
	Healthy bool
	Admin   lbdv1.AdminState
}

// Name implements chaos.Workload.
func (w *Traffic) Name() string { return "lb-traffic" }

// Kinds implements chaos.Workload.
func (w *Traffic) Kinds() chaos.Kinds {
	return chaos.Kinds{
		KindGet:         chaos.ClassWrite,
		KindBackendKill: chaos.ClassEvent, KindBackendPause: chaos.ClassEvent,
		KindBackendSlow: chaos.ClassEvent, KindBackendDrain: chaos.ClassEvent,
		KindRole: chaos.ClassEvent,
	}
}

// Run implements chaos.Workload.
func (w *Traffic) Run(ctx context.Context, env *chaos.Env) error {
	bs, err := startBackends(backendCount, env.Now)
	if err != nil {
		return err
	}
	defer func() {
		bs.close()
		w.mu.Lock()
		w.arrivals = bs.log()
		w.mu.Unlock()
	}()
	st := env.Cluster.State()
	kc := kvclient.Config{Endpoints: st.Endpoints("raftkv"), RequestTimeout: 5 * time.Second}
	if env.TLS != nil {
		kc.TLS = env.TLS.Clone()
	}
	kv, err := kvclient.New(kc)
	if err != nil {
		return fmt.Errorf("lbchaos: registry client: %w", err)
	}
	defer kv.Close()
	for _, b := range bs.list {
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		dereg, err := registry.Register(rctx, kv, "", registryName, b.name, b.addr, 1, 10*time.Second)
		cancel()
		if err != nil {
			return fmt.Errorf("lbchaos: register %s: %w", b.name, err)
		}
		defer dereg()
	}
	nodes, err := dialNodes(env)
	if err != nil {
		return err
	}
	defer func() {
		for _, n := range nodes {
			n.conn.Close()
		}
	}()
	vip, err := writePoolDoc(env)
	if err != nil {
		return err
	}
	if err := waitPool(ctx, nodes); err != nil {
		return err
	}
	env.Logger.Info("lbchaos: every lbd node balances the pool", "pool", poolName, "vip", vip)

	httpc := chaos.HTTPClient(env.TLS, requestTimeout)
	defer httpc.CloseIdleConnections()
	base := chaos.HTTPScheme(env.TLS) + vip
	var wg sync.WaitGroup
	wg.Go(func() { w.monitor(ctx, env, nodes) })
	for i := 0; i < fastClients+slowClients; i++ {
		path := "/item"
		if i >= fastClients {
			path = slowPath
		}
		wg.Go(func() { loop(ctx, env, httpc, i, base, path) })
	}
	wg.Go(func() { w.backendFaults(ctx, env, bs, nodes) })
	wg.Wait()
	return nil
}

// lbNode is a connection to one lbd node's admin API.
type lbNode struct {
	name string
	conn *grpc.ClientConn
	api  lbdv1.LBServiceClient
}

// dialNodes connects to every lbd node, reconnecting within a fraction of a
// second after a restart (gRPC's default backoff would leave a restarted
// node unobserved for seconds).
func dialNodes(env *chaos.Env) ([]*lbNode, error) {
	bc := backoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = 50*time.Millisecond, 250*time.Millisecond
	var out []*lbNode
	for _, name := range env.Nodes() {
		n, ok := env.Node(name)
		if !ok {
			return nil, fmt.Errorf("lbchaos: no node %s", name)
		}
		conn, err := grpc.NewClient("passthrough:///"+n.GRPCAddr, grpc.WithTransportCredentials(env.TransportCredentials()),
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: time.Second}))
		if err != nil {
			for _, o := range out {
				o.conn.Close()
			}
			return nil, err
		}
		out = append(out, &lbNode{name: name, conn: conn, api: lbdv1.NewLBServiceClient(conn)})
	}
	return out, nil
}

// writePoolDoc replaces the cluster's lb file (the lbd nodes reload it
// within their reload interval) with the pool the checkers hold lbd to,
// keeping the frontends' addresses, and returns the HTTP frontend's.
func writePoolDoc(env *chaos.Env) (string, error) {
	names := env.Nodes()
	if len(names) == 0 {
		return "", errors.New("lbchaos: no lbd node")
	}
	n, _ := env.Node(names[0])
	httpAddr, tcpAddr := n.Ports["http"], n.Ports["tcp"]
	if httpAddr == "" || tcpAddr == "" {
		return "", fmt.Errorf("lbchaos: %s has no http or tcp port", names[0])
	}
	tlsMode := "cluster"
	if env.TLS == nil {
		tlsMode = "none"
	}
	path := filepath.Join(env.Cluster.Dir(), cluster.LBFileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(poolDoc(httpAddr, tcpAddr, tlsMode)), 0o644); err != nil {
		return "", err
	}
	return httpAddr, os.Rename(tmp, path)
}

// poolDoc is the lb file of the scenario: the harness's two frontends, on
// one pool of the registry service the workload's backends join.
func poolDoc(httpAddr, tcpAddr, tlsMode string) string {
	return fmt.Sprintf(`# lbchaos: written by the chaos workload.
frontends:
  - name: web
    mode: http
    listen: %s
    tls: %s
    pool: %s
  - name: tcp
    mode: tcp
    listen: %s
    pool: %s
pools:
  - name: %s
    algorithm: round_robin
    service: %s
    health: {type: http, path: /healthz, interval: %v, timeout: %v, jitter: %v, rise: %d, fall: %d}
    outlier: {consecutive_failures: 3, base_ejection: %v, max_ejection: %v}
    drain_timeout: %v
    retries: %d
    timeout: %v
`, httpAddr, tlsMode, poolName, tcpAddr, poolName, poolName, registryName,
		checkInterval, checkTimeout, float64(checkJitterPct)/100, checkRise, checkFall,
		baseEjection, maxEjection, drainTimeout, retries, attemptTimeout)
}

// waitPool waits until every lbd node has the scenario's pool with every
// backend healthy.
func waitPool(ctx context.Context, nodes []*lbNode) error {
	for _, n := range nodes {
		var last string
		ok := chaos.WaitFor(60*time.Second, func() bool {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			resp, err := n.api.ListPools(cctx, &lbdv1.ListPoolsRequest{Pool: poolName})
			if err != nil {
				last = err.Error()
				return false
			}
			healthy := 0
			for _, p := range resp.GetPools() {
				for _, b := range p.GetBackends() {
					if b.GetHealthy() {
						healthy++
					}
				}
			}
			last = fmt.Sprintf("%d of %d backends healthy", healthy, backendCount)
			return healthy == backendCount
		})
		if !ok {
			return fmt.Errorf("lbchaos: %s did not balance pool %s over %d healthy backends within 60s (last: %s)", n.name, poolName, backendCount, last)
		}
	}
	return nil
}

// monitor records every node's role and the pool's backends every
// monitorEvery until ctx ends.
func (w *Traffic) monitor(ctx context.Context, env *chaos.Env, nodes []*lbNode) {
	last := map[string]string{}
	t := time.NewTicker(monitorEvery)
	defer t.Stop()
	for {
		for _, n := range nodes {
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			status, err := n.api.GetStatus(cctx, &lbdv1.GetStatusRequest{})
			at := env.Now()
			var pools *lbdv1.ListPoolsResponse
			if err == nil {
				pools, err = n.api.ListPools(cctx, &lbdv1.ListPoolsRequest{Pool: poolName})
			}
			cancel()
			if err != nil {
				continue
			}
			r := roleSample{Node: n.name, At: at, Role: status.GetRole(), Active: status.GetActive()}
			if v := r.Role + "/" + r.Active; last[n.name] != v {
				last[n.name] = v
				env.History.Event(chaos.Op{Kind: KindRole, Key: n.name, Value: v})
			}
			var ss []statSample
			for _, p := range pools.GetPools() {
				for _, b := range p.GetBackends() {
					ss = append(ss, statSample{Node: n.name, At: at, Backend: b.GetName(), Total: b.GetTotal(), Healthy: b.GetHealthy(), Admin: b.GetAdminState()})
				}
			}
			w.mu.Lock()
			w.roles = append(w.roles, r)
			w.stats = append(w.stats, ss...)
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backendFaults runs the workload's own faults, one round per cycle of the
// fault phase (at least one): a backend killed (2–8 s into the round), one
// paused (10–15 s), one slowed (17–22 s), and one drained through the admin
// API while slow requests to it are in flight (from ~23 s for 6 s), then
// enabled. Backends are drawn from the seed.
func (w *Traffic) backendFaults(ctx context.Context, env *chaos.Env, bs *backends, nodes []*lbNode) {
	// Start with the run's faults: once the load gets through.
	if !chaos.WaitFor(30*time.Second, func() bool { _, ok := env.History.FirstWriteOK(0); return ok }) || ctx.Err() != nil {
		return
	}
	rng := env.Rand(chaos.Stream(w.Name()+"/faults", 0))
	pick := func() *backend { return bs.list[rng.IntN(len(bs.list))] }
	start := env.Now()
	for round := 0; round == 0 || time.Duration(round+1)*cycle <= env.Phase; round++ {
		at := start + time.Duration(round)*cycle
		steps := []struct {
			kind       chaos.OpKind
			off, dur   time.Duration
			begin, end func(*backend)
		}{
			{KindBackendKill, 2 * time.Second, 6 * time.Second,
				func(b *backend) { b.kill() },
				func(b *backend) {
					if err := b.restart(ctx, bs); err != nil {
						env.Logger.Warn("lbchaos: restart backend", "backend", b.name, "err", err)
					}
				}},
			{KindBackendPause, 10 * time.Second, 5 * time.Second,
				func(b *backend) { b.setMode(modePaused) },
				func(b *backend) { b.setMode(modeUp) }},
			{KindBackendSlow, 17 * time.Second, 5 * time.Second,
				func(b *backend) { b.setMode(modeSlow) },
				func(b *backend) { b.setMode(modeUp) }},
		}
		for _, s := range steps {
			if !sleepUntil(ctx, env, at+s.off) {
				return
			}
			b := pick()
			s.begin(b)
			began := env.Now()
			env.History.Event(chaos.Op{Kind: s.kind, Key: b.name})
			env.Logger.Info("lbchaos: backend fault", "fault", s.kind, "backend", b.name)
			w.addWindow(window{Kind: s.kind, Backend: b.name, Invoked: began, Start: began, End: -1})
			ok := sleepUntil(ctx, env, began+s.dur)
			s.end(b)
			w.endWindow(s.kind, b.name, env.Now())
			env.History.Event(chaos.Op{Kind: s.kind, Key: b.name, Delete: true})
			if !ok {
				return
			}
		}
		if !sleepUntil(ctx, env, at+23*time.Second) || !w.drain(ctx, env, bs, nodes, rng) {
			return
		}
	}
}

// drain drains a backend that has slow requests in flight (waiting up to
// 5 s for one), keeps it drained for 6 s and enables it again. It reports
// whether the run goes on.
func (w *Traffic) drain(ctx context.Context, env *chaos.Env, bs *backends, nodes []*lbNode, rng *rand.Rand) bool {
	var b *backend
	chaos.WaitFor(5*time.Second, func() bool {
		for _, i := range rng.Perm(len(bs.list)) {
			if len(bs.inflight(bs.list[i].name, drainInflightOK)) > 0 {
				b = bs.list[i]
				return true
			}
		}
		return ctx.Err() != nil
	})
	if ctx.Err() != nil {
		return false
	}
	if b == nil {
		b = bs.list[rng.IntN(len(bs.list))]
		env.Logger.Warn("lbchaos: no backend had a slow request in flight; draining one anyway", "backend", b.name)
	}
	invoked := env.Now()
	err := setState(ctx, nodes, b.name, lbdv1.AdminState_ADMIN_STATE_DRAINING)
	win := window{Kind: KindBackendDrain, Backend: b.name, Invoked: invoked, Start: env.Now(), End: -1}
	if err != nil {
		win.Err = err.Error()
	}
	env.History.Event(chaos.Op{Kind: KindBackendDrain, Key: b.name})
	env.Logger.Info("lbchaos: backend drained", "backend", b.name, "inflight", len(bs.inflight(b.name, 0)), "err", err)
	w.addWindow(win)
	ok := chaos.Hold(ctx, 6*time.Second)
	enabled := env.Now()
	// Enable even when the run ends, so that a replay's cluster is clean.
	ectx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := setState(ectx, nodes, b.name, lbdv1.AdminState_ADMIN_STATE_ENABLED); err != nil {
		env.Logger.Warn("lbchaos: enable backend", "backend", b.name, "err", err)
	}
	w.endWindow(KindBackendDrain, b.name, enabled)
	env.History.Event(chaos.Op{Kind: KindBackendDrain, Key: b.name, Delete: true})
	return ok
}

// setState sets a backend's admin state through the first lbd node that
// answers (the state is shared through raftkv), retrying for 15 s.
func setState(ctx context.Context, nodes []*lbNode, backend string, state lbdv1.AdminState) error {
	var last error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, n := range nodes {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := n.api.SetBackendState(cctx, &lbdv1.SetBackendStateRequest{Pool: poolName, Backend: backend, State: state})
			cancel()
			if err == nil {
				return nil
			}
			last = fmt.Errorf("%s: %w", n.name, err)
		}
		chaos.Hold(ctx, 100*time.Millisecond)
	}
	return errors.Join(ctx.Err(), last)
}

func (w *Traffic) addWindow(win window) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.windows = append(w.windows, win)
}

// endWindow records the heal of the last open window of kind on backend.
func (w *Traffic) endWindow(kind chaos.OpKind, backend string, at time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.windows) - 1; i >= 0; i-- {
		if win := &w.windows[i]; win.Kind == kind && win.Backend == backend && win.End < 0 {
			win.End = at
			return
		}
	}
}

// sleepUntil waits until the run's clock reaches t; false when ctx ended.
func sleepUntil(ctx context.Context, env *chaos.Env, t time.Duration) bool {
	if d := t - env.Now(); d > 0 {
		return chaos.Hold(ctx, d)
	}
	return ctx.Err() == nil
}

// loop sends GETs of path through the virtual address until ctx ends, one
// at a time, each with its own X-Request-Id, recording each.
func loop(ctx context.Context, env *chaos.Env, c *http.Client, id int, base, path string) {
	for seq := 0; ctx.Err() == nil; seq++ {
		rid := fmt.Sprintf("c%d-%d", id, seq)
		op := env.History.Invoke(chaos.Op{Client: id, Kind: KindGet, Key: rid})
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+path, nil)
		req.Header.Set("X-Request-Id", rid)
		resp, err := c.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		switch {
		case err == nil:
			env.History.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
				o.Rev = int64(resp.StatusCode)
				o.Value = resp.Header.Get("X-Backend")
				if o.Value == "" && resp.StatusCode != http.StatusOK {
					o.Err = strings.TrimSpace(string(body))
				}
			})
		case ctx.Err() != nil:
			env.History.Complete(op, chaos.Unknown, errors.New("workload stopped"), nil)
			return
		default:
			env.History.Complete(op, chaos.Unknown, err, nil)
			if !chaos.Hold(ctx, errorPause) {
				return
			}
		}
		if !chaos.Hold(ctx, thinkTime) {
			return
		}
	}
}
