package edgechaos

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"cairn.dev/cairn/cluster/chaos"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
)

// Operation kinds of the Traffic workload.
const (
	// KindGet is a GET through one edge (a write for the framework: the
	// run's recovery is the first one answered after a heal). Key: the
	// path; Rev: the status; Value: "rid=<request id> enc=<gzip|identity>
	// xc=<X-Cache>" and, for a 200, "ver=<n>" (/pv), "ok=1" (/sie) or
	// "got=<request id named>" (private), or "bad=1" with Err saying why.
	KindGet chaos.OpKind = "get"
	// KindPurge is a PurgeAll through one edge. Key: the spec
	// ("url:/pv/g0/1", "tag:grp-g2", "prefix:/pv/g1/"); Value:
	// "<path>=<version>,…|<applied edges>|<pending edges>", the versions
	// the origin holds since just before the purge was sent; Rev: its seq.
	// OK means acknowledged by every live edge.
	KindPurge chaos.OpKind = "purge"
	// KindCaughtUp records, after the load, whether an edge reached the
	// last purge's seq (Rev: its last_purge; Fail with Err when it did not
	// in time). Via: the edge.
	KindCaughtUp chaos.OpKind = "caught-up"
	// KindFinal is a GET of a /pv object after every edge caught up; as
	// KindGet.
	KindFinal chaos.OpKind = "final"
	// KindOrigin marks the origin's own faults: Key "down" or "slow";
	// Delete: healed.
	KindOrigin chaos.OpKind = "origin"
)

// Settings of the workload.
const (
	clientsPerEdge = 4
	clientThink    = 10 * time.Millisecond
	requestTimeout = 10 * time.Second
	purgers        = 2
	purgeTimeout   = 25 * time.Second
	flushTimeout   = 60 * time.Second
	catchUpTimeout = 60 * time.Second
	slowDelay      = 300 * time.Millisecond
	// maxOutage caps the origin's outage, well inside the stale-if-error
	// window, however long the phase.
	maxOutage = 20 * time.Second
)

// Traffic is the edge workload (see the package doc). Build it with
// EdgeFaults, which binds its origin.
type Traffic struct {
	origin *origin
}

// Name implements chaos.Workload.
func (w *Traffic) Name() string { return "edge-traffic" }

// Kinds implements chaos.Workload.
func (w *Traffic) Kinds() chaos.Kinds {
	return chaos.Kinds{
		KindGet: chaos.ClassWrite, KindPurge: chaos.ClassWrite,
		KindFinal:    chaos.ClassRead,
		KindCaughtUp: chaos.ClassEvent, KindOrigin: chaos.ClassEvent,
	}
}

// edgeConn is one edge: its name, HTTP base URL and admin client.
type edgeConn struct {
	name  string
	base  string
	conn  *grpc.ClientConn
	admin edgev1.EdgeServiceClient
}

// Run implements chaos.Workload.
func (w *Traffic) Run(ctx context.Context, env *chaos.Env) error {
	if w.origin == nil {
		return errors.New("edgechaos: Traffic has no origin (build the scenario with EdgeFaults)")
	}
	defer w.origin.close()
	if err := w.origin.start(); err != nil {
		return err
	}
	edges, err := dialEdges(env)
	if err != nil {
		return err
	}
	defer func() {
		for _, e := range edges {
			e.conn.Close()
		}
	}()
	httpc := chaos.HTTPClient(env.TLS, requestTimeout)
	defer httpc.CloseIdleConnections()

	var wg sync.WaitGroup
	wg.Go(func() { w.originFaults(ctx, env) })
	id := 0
	for _, e := range edges {
		for range clientsPerEdge {
			c := &client{id: id, edge: e, http: httpc, env: env, rng: env.Rand(chaos.Stream("edge-client", id))}
			id++
			wg.Go(func() { c.loop(ctx) })
		}
	}
	for i := range purgers {
		p := &purger{id: i, edges: edges, origin: w.origin, env: env, rng: env.Rand(chaos.Stream("edge-purger", i))}
		for g := i; g < pvGroups; g += purgers {
			p.groups = append(p.groups, g)
		}
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
	w.final(env, edges, httpc)
	return nil
}

// dialEdges connects to every edge's admin API and finds its HTTP address.
func dialEdges(env *chaos.Env) ([]*edgeConn, error) {
	var out []*edgeConn
	for _, name := range env.Nodes() {
		n, ok := env.Node(name)
		if !ok || n.Ports["http"] == "" {
			return nil, fmt.Errorf("edgechaos: node %s has no http port", name)
		}
		bc := backoff.DefaultConfig
		bc.MaxDelay = 500 * time.Millisecond // a restarted edge is used again at once
		conn, err := grpc.NewClient("passthrough:///"+n.GRPCAddr, grpc.WithTransportCredentials(env.TransportCredentials()),
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 2 * time.Second}))
		if err != nil {
			return nil, err
		}
		out = append(out, &edgeConn{name: name, base: chaos.HTTPScheme(env.TLS) + n.Ports["http"], conn: conn, admin: edgev1.NewEdgeServiceClient(conn)})
	}
	if len(out) == 0 {
		return nil, errors.New("edgechaos: no edge node")
	}
	return out, nil
}

// originFaults runs the workload's own origin faults over the fault phase:
// added latency over 10–30% of it, then the origin killed over 45–75%
// (at most maxOutage). Each is recorded with its heal; a fault still on
// when ctx ends is healed then.
func (w *Traffic) originFaults(ctx context.Context, env *chaos.Env) {
	p := env.Phase
	start := env.Now()
	if !sleepUntil(ctx, env, start+p*10/100) {
		return
	}
	w.origin.slow(slowDelay)
	env.History.Event(chaos.Op{Kind: KindOrigin, Key: "slow"})
	sleepUntil(ctx, env, start+p*30/100)
	w.origin.slow(0)
	env.History.Event(chaos.Op{Kind: KindOrigin, Key: "slow", Delete: true})
	if !sleepUntil(ctx, env, start+p*45/100) {
		return
	}
	w.origin.kill()
	down := env.Now()
	env.History.Event(chaos.Op{Kind: KindOrigin, Key: "down"})
	sleepUntil(ctx, env, down+min(p*30/100, maxOutage))
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := w.origin.restart(rctx)
	cancel()
	if err != nil {
		env.Logger.Error("edgechaos: origin restart", "err", err)
		env.History.Event(chaos.Op{Kind: KindOrigin, Key: "down", Delete: true, Outcome: chaos.Fail, Err: err.Error()})
		return
	}
	env.History.Event(chaos.Op{Kind: KindOrigin, Key: "down", Delete: true})
}

// sleepUntil waits until the run's clock reaches t; false when ctx ended.
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

// client sends GETs through one edge, one at a time.
type client struct {
	id   int
	edge *edgeConn
	http *http.Client
	env  *chaos.Env
	rng  *rand.Rand
}

// pick draws the next path: 30% /sie, 45% /pv, 25% private.
func (c *client) pick() string {
	switch n := c.rng.IntN(100); {
	case n < 30:
		return siePath(c.rng.IntN(sieObjects))
	case n < 75:
		return pvPath(c.rng.IntN(pvGroups), c.rng.IntN(pvPerGroup))
	case n < 88:
		return privPath(c.rng.IntN(privObjects))
	default:
		return noStorePath(c.rng.IntN(privObjects))
	}
}

func (c *client) loop(ctx context.Context) {
	gz := c.id%2 == 1 // odd clients accept gzip: the edges keep two variants
	for seq := 0; ctx.Err() == nil; seq++ {
		rid := fmt.Sprintf("c%d-%d", c.id, seq)
		ok := get(ctx, c.env, c.http, KindGet, c.id, c.edge, c.pick(), rid, gz)
		d := clientThink
		if !ok {
			d = 100 * time.Millisecond // a dead edge refuses at once: do not spin on it
		}
		if !chaos.Hold(ctx, d) {
			return
		}
	}
}

// get sends one GET of path through edge e and records it as kind; it
// reports whether an answer came.
func get(ctx context.Context, env *chaos.Env, hc *http.Client, kind chaos.OpKind, clientID int, e *edgeConn, path, rid string, gz bool) bool {
	enc := "identity"
	if gz {
		enc = "gzip"
	}
	op := env.History.Invoke(chaos.Op{Client: clientID, Via: e.name, Kind: kind, Key: path})
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, e.base+path, nil)
	req.Header.Set("X-Client", clientOf(rid))
	req.Header.Set("X-Request-Id", rid)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := hc.Do(req)
	var body []byte
	if err == nil {
		body, err = readBody(resp)
		resp.Body.Close()
	}
	base := "rid=" + rid + " enc=" + enc
	if err != nil {
		outcome := chaos.Unknown
		if ctx.Err() != nil {
			err = fmt.Errorf("workload stopped: %w", err)
		}
		env.History.Complete(op, outcome, err, func(o *chaos.Op) { o.Value = base })
		return false
	}
	value := base + " xc=" + resp.Header.Get("X-Cache") + " age=" + resp.Header.Get("Age")
	var bad error
	if resp.StatusCode == http.StatusOK {
		switch {
		case isSie(path):
			if string(body) == string(sieBody(path)) {
				value += " ok=1"
			} else {
				bad = fmt.Errorf("%d-byte body %.60q is not the content of %s", len(body), body, path)
			}
		case isPv(path):
			ver, err := parsePv(path, body)
			if err == nil {
				value += " ver=" + strconv.FormatInt(ver, 10)
			}
			bad = err
		case isPrivate(path):
			got, err := parsePriv(path, body)
			if err == nil {
				value += " got=" + got
			}
			bad = err
		}
	}
	if bad != nil {
		value += " bad=1"
	}
	env.History.Complete(op, chaos.OK, bad, func(o *chaos.Op) {
		o.Rev = int64(resp.StatusCode)
		o.Value = value
	})
	return true
}

// readBody reads a response body, decoding gzip.
func readBody(resp *http.Response) ([]byte, error) {
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	return io.ReadAll(io.LimitReader(r, 1<<20))
}

// purger bumps objects of its groups at the origin and purges them.
type purger struct {
	id     int
	groups []int
	edges  []*edgeConn
	origin *origin
	env    *chaos.Env
	rng    *rand.Rand
	n      int // purges so far: the kind rotates url, tag, prefix
}

// spec draws the next purge: its spec, its key in the history, and the
// paths it covers.
func (p *purger) spec() (*edgev1.PurgeSpec, string, []string) {
	g := p.groups[p.rng.IntN(len(p.groups))]
	i := p.rng.IntN(pvPerGroup)
	var group []string
	for j := range pvPerGroup {
		group = append(group, pvPath(g, j))
	}
	kind := p.n % 3
	p.n++
	switch kind {
	case 0:
		return &edgev1.PurgeSpec{Url: pvPath(g, i)}, "url:" + pvPath(g, i), []string{pvPath(g, i)}
	case 1:
		if p.n%2 == 0 {
			return &edgev1.PurgeSpec{Tag: objectTag(g, i)}, "tag:" + objectTag(g, i), []string{pvPath(g, i)}
		}
		return &edgev1.PurgeSpec{Tag: groupTag(g)}, "tag:" + groupTag(g), group
	default:
		return &edgev1.PurgeSpec{Prefix: groupPrefix(g)}, "prefix:" + groupPrefix(g), group
	}
}

func (p *purger) loop(ctx context.Context) {
	for {
		if !chaos.Hold(ctx, time.Duration(200+p.rng.IntN(600))*time.Millisecond) {
			return
		}
		spec, key, paths := p.spec()
		versions := p.origin.bump(paths)
		if p.publish(ctx, spec, key, versions) {
			continue
		}
		// The workload is stopping with the bump not acknowledged: finish
		// it, so that the origin's latest versions are all purged.
		fctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		p.publish(fctx, spec, key, versions)
		cancel()
		return
	}
}

// publish sends the purge through the edges in turn (from a random one)
// until one acknowledges it, recording every attempt; false when ctx
// ended first.
func (p *purger) publish(ctx context.Context, spec *edgev1.PurgeSpec, key string, versions map[string]int64) bool {
	paths := make([]string, 0, len(versions))
	for path := range versions {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	vs := make([]string, len(paths))
	for i, path := range paths {
		vs[i] = path + "=" + strconv.FormatInt(versions[path], 10)
	}
	first := p.rng.IntN(len(p.edges))
	for attempt := 0; ctx.Err() == nil; attempt++ {
		e := p.edges[(first+attempt)%len(p.edges)]
		op := p.env.History.Invoke(chaos.Op{Client: 1000 + p.id, Via: e.name, Kind: KindPurge, Key: key, Value: strings.Join(vs, ",") + "||"})
		cctx, cancel := context.WithTimeout(ctx, purgeTimeout)
		resp, err := e.admin.PurgeAll(cctx, &edgev1.PurgeAllRequest{Spec: spec})
		cancel()
		if err == nil && len(resp.GetPending()) == 0 {
			p.env.History.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
				o.Rev = resp.GetSeq()
				o.Value = strings.Join(vs, ",") + "|" + strings.Join(resp.GetApplied(), ",") + "|"
			})
			return true
		}
		if err == nil {
			err = fmt.Errorf("edges pending after %v: %v", purgeTimeout, resp.GetPending())
			p.env.History.Complete(op, chaos.Unknown, err, func(o *chaos.Op) {
				o.Rev = resp.GetSeq()
				o.Value = strings.Join(vs, ",") + "|" + strings.Join(resp.GetApplied(), ",") + "|" + strings.Join(resp.GetPending(), ",")
			})
		} else {
			p.env.History.Complete(op, chaos.Unknown, err, nil)
		}
		if !chaos.Hold(ctx, 100*time.Millisecond) {
			return false
		}
	}
	return false
}

// final waits until every edge applied the last acknowledged purge, then
// reads every /pv object through every edge in both encodings.
func (w *Traffic) final(env *chaos.Env, edges []*edgeConn, hc *http.Client) {
	var last int64
	for _, o := range env.History.Ops() {
		if o.Kind == KindPurge {
			last = max(last, o.Rev)
		}
	}
	ctx := context.Background()
	for _, e := range edges {
		var got int64
		var lastErr error
		ok := chaos.WaitFor(catchUpTimeout, func() bool {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			resp, err := e.admin.GetStats(cctx, &edgev1.GetStatsRequest{})
			if err != nil {
				lastErr = err
				return false
			}
			got = resp.GetLastPurge()
			return got >= last
		})
		op := chaos.Op{Kind: KindCaughtUp, Via: e.name, Rev: got, Value: "want=" + strconv.FormatInt(last, 10), Outcome: chaos.OK}
		if !ok {
			op.Outcome = chaos.Fail
			op.Err = fmt.Sprintf("last_purge %d after %v, want %d (last error: %v)", got, catchUpTimeout, last, lastErr)
		}
		env.History.Event(op)
	}
	for i, e := range edges {
		for _, path := range pvPaths() {
			for _, gz := range []bool{false, true} {
				get(ctx, env, hc, KindFinal, 2000+i, e, path, fmt.Sprintf("f%d-%s", i, path), gz)
			}
		}
	}
}

// nodesOf splits a comma-separated node list.
func nodesOf(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.Split(s, ",")
	slices.Sort(out)
	return out
}
