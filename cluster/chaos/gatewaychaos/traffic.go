package gatewaychaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/cluster/faultproxy"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
)

// Operation kinds of the Traffic workload.
const (
	// KindSvc is a GET through the route to the upstreams (a write for the
	// framework: the run's recovery is the first one answered after a heal).
	KindSvc chaos.OpKind = "svc"
	// KindLimited is a GET through the globally rate-limited route.
	KindLimited chaos.OpKind = "limited"
	// Events: the workload's own upstream faults and configuration versions.
	KindUpstreamFail chaos.OpKind = "upstream-fail" // Key: target; Delete: healed
	KindUpstreamSlow chaos.OpKind = "upstream-slow"
	KindUpstreamKill chaos.OpKind = "upstream-kill"
	KindConfig       chaos.OpKind = "config" // Rev: the applied version
)

// The settings the checkers hold the gateway to; the configuration below
// uses them.
const (
	outlierFailures  = 3
	outlierEjection  = 3 * time.Second
	outlierMax       = 6 * time.Second
	breakerOpenFor   = 2 * time.Second
	limitRate        = 10 // per second
	limitBurst       = 20
	svcClientsPerGW  = 2
	configEvery      = 2 * time.Second
	requestTimeout   = 3 * time.Second
	failedTarget     = "b"
	slowedTarget     = "c"
	slowDelay        = 250 * time.Millisecond
	upstreamCount    = 3
	clientThinkTime  = 5 * time.Millisecond
	limitedThinkTime = 20 * time.Millisecond
)

// Traffic is the gateway workload (see the package doc). Its fields are
// filled by Run for the checkers.
type Traffic struct {
	mu          sync.Mutex // protects the fields below
	arrivals    []arrival
	windows     map[chaos.OpKind][2]time.Duration // upstream fault kind -> [start, end)
	lastVersion int64
	versions    int
}

// Name implements chaos.Workload.
func (w *Traffic) Name() string { return "gateway-traffic" }

// Kinds implements chaos.Workload.
func (w *Traffic) Kinds() chaos.Kinds {
	return chaos.Kinds{
		KindSvc: chaos.ClassWrite, KindLimited: chaos.ClassRead,
		KindUpstreamFail: chaos.ClassEvent, KindUpstreamSlow: chaos.ClassEvent,
		KindUpstreamKill: chaos.ClassEvent, KindConfig: chaos.ClassEvent,
	}
}

// Run implements chaos.Workload.
func (w *Traffic) Run(ctx context.Context, env *chaos.Env) error {
	ups, err := startUpstreams(upstreamCount, env.Now)
	if err != nil {
		return err
	}
	defer ups.close()
	admin, err := dialAdmin(env)
	if err != nil {
		return err
	}
	defer admin.Close()
	gen := 1
	v, err := applyConfig(ctx, admin, ups, gen)
	if err != nil {
		return fmt.Errorf("gatewaychaos: first configuration: %w", err)
	}
	env.History.Event(chaos.Op{Kind: KindConfig, Rev: v})
	w.setVersion(v)
	if err := waitVersion(ctx, env, v); err != nil {
		return err
	}

	httpc := chaos.HTTPClient(env.TLS, requestTimeout)
	defer httpc.CloseIdleConnections()
	var wg sync.WaitGroup
	client := 0
	for _, node := range env.Nodes() {
		n, ok := env.Node(node)
		if !ok || n.Ports["http"] == "" {
			return fmt.Errorf("gatewaychaos: node %s has no http port", node)
		}
		base := chaos.HTTPScheme(env.TLS) + n.Ports["http"]
		for i := 0; i < svcClientsPerGW; i++ {
			id := client
			client++
			wg.Go(func() { loop(ctx, env, httpc, id, node, base+"/svc/item", KindSvc, clientThinkTime) })
		}
		id := client
		client++
		wg.Go(func() { loop(ctx, env, httpc, id, node, base+"/limited", KindLimited, limitedThinkTime) })
	}
	wg.Go(func() { w.upstreamFaults(ctx, env, ups) })
	wg.Go(func() {
		t := time.NewTicker(configEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			gen++
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			v, err := applyConfig(actx, admin, ups, gen)
			cancel()
			if err != nil {
				env.Logger.Warn("gatewaychaos: apply configuration", "gen", gen, "err", err)
				continue
			}
			env.History.Event(chaos.Op{Kind: KindConfig, Rev: v})
			w.setVersion(v)
		}
	})
	wg.Wait()
	w.mu.Lock()
	w.arrivals = ups.log()
	w.mu.Unlock()
	return nil
}

func (w *Traffic) setVersion(v int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastVersion = max(w.lastVersion, v)
	w.versions++
}

// upstreamFaults runs the workload's own schedule of upstream faults over
// the fault phase: target b answers 500s, then target c is slowed, then
// every target is killed; each is recorded as an event with its heal.
func (w *Traffic) upstreamFaults(ctx context.Context, env *chaos.Env, u *upstreams) {
	p := env.Phase
	byName := map[string]*target{}
	for _, t := range u.targets {
		byName[t.name] = t
	}
	steps := []struct {
		kind       chaos.OpKind
		at, length time.Duration
		begin, end func()
	}{
		{KindUpstreamFail, p * 15 / 100, p * 25 / 100,
			func() { byName[failedTarget].mode.Store(modeFail) },
			func() { byName[failedTarget].mode.Store(modeOK) }},
		{KindUpstreamSlow, p * 45 / 100, p * 15 / 100,
			func() { byName[slowedTarget].proxy.Set(faultproxy.Faults{Delay: slowDelay}) },
			func() { byName[slowedTarget].proxy.Set(faultproxy.Faults{}) }},
		{KindUpstreamKill, p * 65 / 100, p * 15 / 100,
			func() {
				for _, t := range u.targets {
					t.kill()
				}
			},
			func() {
				for _, t := range u.targets {
					if err := t.restart(ctx, u); err != nil {
						env.Logger.Warn("gatewaychaos: restart upstream", "target", t.name, "err", err)
					}
				}
			}},
	}
	start := env.Now()
	for _, s := range steps {
		if !sleepUntil(ctx, env, start+s.at) {
			return
		}
		s.begin()
		began := env.Now()
		env.History.Event(chaos.Op{Kind: s.kind})
		if !sleepUntil(ctx, env, began+s.length) {
			s.end()
			w.window(s.kind, began, env.Now())
			return
		}
		s.end()
		ended := env.Now()
		env.History.Event(chaos.Op{Kind: s.kind, Delete: true})
		w.window(s.kind, began, ended)
	}
}

func (w *Traffic) window(kind chaos.OpKind, from, to time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.windows == nil {
		w.windows = map[chaos.OpKind][2]time.Duration{}
	}
	w.windows[kind] = [2]time.Duration{from, to}
}

// sleepUntil waits until the run's clock reaches t.
func sleepUntil(ctx context.Context, env *chaos.Env, t time.Duration) bool {
	d := t - env.Now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// loop sends GETs to url through one gateway node until ctx ends, one at a
// time, recording each: Rev is the status, Value "target|fallback|gen".
func loop(ctx context.Context, env *chaos.Env, c *http.Client, id int, node, url string, kind chaos.OpKind, think time.Duration) {
	for seq := 0; ctx.Err() == nil; seq++ {
		rid := fmt.Sprintf("chaos-%d-%d", id, seq)
		op := env.History.Invoke(chaos.Op{Client: id, Via: node, Kind: kind, Key: rid})
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		req.Header.Set("X-Request-Id", rid)
		resp, err := c.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		switch {
		case err == nil:
			env.History.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
				o.Rev = int64(resp.StatusCode)
				o.Value = resp.Header.Get("X-Target") + "|" + resp.Header.Get("X-Fallback") + "|" + resp.Header.Get("X-Config-Gen")
			})
		case ctx.Err() != nil:
			env.History.Complete(op, chaos.Unknown, errors.New("workload stopped"), nil)
			return
		default:
			env.History.Complete(op, chaos.Unknown, err, nil)
			// A node that is down refuses at once: do not spin on it.
			if !chaos.Hold(ctx, 100*time.Millisecond) {
				return
			}
		}
		if !chaos.Hold(ctx, think) {
			return
		}
	}
}

// dialAdmin connects to the gateway nodes' admin API (any node serves it).
func dialAdmin(env *chaos.Env) (*grpc.ClientConn, error) {
	eps := env.Endpoints()
	return grpc.NewClient("passthrough:///"+eps[0], grpc.WithTransportCredentials(env.TransportCredentials()))
}

// applyConfig stores generation gen of the workload's configuration.
func applyConfig(ctx context.Context, conn *grpc.ClientConn, u *upstreams, gen int) (int64, error) {
	resp, err := gatewaydv1.NewGatewayServiceClient(conn).ApplyConfig(ctx, &gatewaydv1.ApplyConfigRequest{Yaml: []byte(configDoc(u, gen))})
	if err != nil {
		return 0, err
	}
	return resp.GetVersion(), nil
}

// waitVersion waits until every gateway node serves version v or later.
func waitVersion(ctx context.Context, env *chaos.Env, v int64) error {
	for _, node := range env.Nodes() {
		n, _ := env.Node(node)
		conn, err := grpc.NewClient("passthrough:///"+n.GRPCAddr, grpc.WithTransportCredentials(env.TransportCredentials()))
		if err != nil {
			return err
		}
		ok := chaos.WaitFor(30*time.Second, func() bool {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			resp, err := gatewaydv1.NewGatewayServiceClient(conn).GetConfig(cctx, &gatewaydv1.GetConfigRequest{})
			return err == nil && resp.GetVersion() >= v
		})
		conn.Close()
		if !ok {
			return fmt.Errorf("gatewaychaos: %s did not apply configuration version %d within 30s", node, v)
		}
	}
	return nil
}

// configDoc is generation gen of the gateway configuration: the three
// upstreams (through their fault proxies), the outlier and breaker rules the
// checkers hold the gateway to, a route to them with a fallback, and a
// globally rate-limited route. Each generation tags responses with its
// number (X-Config-Gen).
func configDoc(u *upstreams, gen int) string {
	var targets []string
	for _, t := range u.targets {
		targets = append(targets, "      - address: "+t.proxy.Addr())
	}
	return `version: 1
upstreams:
  - name: app
    targets:
` + strings.Join(targets, "\n") + `
    timeouts:
      connect: 500ms
      response_header: 2s
      total: 3s
    retries:
      attempts: 1
      on: [connect_failure]
    circuit_breaker:
      window: 5s
      min_requests: 10
      error_rate: 0.9
      consecutive_failures: 10
      open_for: ` + breakerOpenFor.String() + `
      half_open_requests: 2
    outlier:
      consecutive_failures: ` + strconv.Itoa(outlierFailures) + `
      base_ejection: ` + outlierEjection.String() + `
      max_ejection: ` + outlierMax.String() + `
      max_ejected_percent: 50
routes:
  - name: svc
    match:
      paths:
        - prefix: /svc
    upstream: app
    response:
      headers:
        add:
          X-Config-Gen: "` + strconv.Itoa(gen) + `"
    fallback:
      status: 503
      body: "fallback\n"
      headers:
        X-Fallback: "1"
  - name: limited
    match:
      paths:
        - prefix: /limited
    upstream: app
    rate_limits:
      - by: route
        limit: ` + strconv.Itoa(limitRate) + `
        per: 1s
        burst: ` + strconv.Itoa(limitBurst) + `
        scope: global
`
}
