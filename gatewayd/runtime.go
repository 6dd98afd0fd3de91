package gatewayd

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
	"cairn.dev/cairn/gatewayd/ratelimit"
	"cairn.dev/cairn/gatewayd/route"
	"cairn.dev/cairn/gatewayd/transcode"
	"cairn.dev/cairn/gatewayd/transform"
)

// runtime is one applied version of the configuration document, compiled:
// the router, each route's plugins and the upstream pools. A request runs
// entirely on the runtime it started with (acquire/release), so a new
// version applies atomically and requests in flight finish on the old one;
// the old one's resources that the new one does not reuse are closed when
// its last request ends.
type runtime struct {
	doc       *gwconfig.Document
	yaml      []byte
	version   int64
	source    string // "raftkv", "file" or "none"
	appliedAt time.Time

	router    *route.Router
	routes    []*liveRoute // parallel to doc.Routes
	pools     map[string]*pool
	consumers map[string]*gwconfig.Consumer
	verifier  *jwt.Verifier // nil when no provider

	active   atomic.Int64 // requests running on this runtime
	retired  atomic.Bool  // a newer runtime replaced it
	owned    []*pool      // pools this runtime closes when retired (not carried over)
	closeOne sync.Once
}

// liveRoute is a route with its plugins compiled.
type liveRoute struct {
	spec       *gwconfig.Route
	name       string
	split      []splitShare // one share per upstream (one with weight 1 without a split)
	splitTotal int
	limits     []ratelimit.Policy
	limitBy    []string
	request    *transform.Transform
	response   *transform.Transform
	transcode  *transcode.Service
	maxBody    int64
	timeout    time.Duration
	headers    http.Header // set on every answer
	stats      *routeStats
}

// splitShare is one upstream of a route and its cumulative weight.
type splitShare struct {
	pool  *pool
	cumul int
}

// emptyRuntime serves 404 for everything: a node before its first document.
func emptyRuntime() *runtime {
	r, _ := route.New(nil)
	return &runtime{doc: &gwconfig.Document{Version: 1}, source: "none", router: r, pools: map[string]*pool{}, consumers: map[string]*gwconfig.Consumer{}}
}

// build compiles doc into a runtime, reusing prev's pools whose upstream
// spec is unchanged (their connections, breaker and ejections carry over).
func (s *Server) build(doc *gwconfig.Document, raw []byte, version int64, source string, prev *runtime) (*runtime, error) {
	rt := &runtime{doc: doc, yaml: raw, version: version, source: source, appliedAt: time.Now(),
		pools: map[string]*pool{}, consumers: map[string]*gwconfig.Consumer{}}
	fail := func(err error) (*runtime, error) {
		for _, p := range rt.owned {
			p.close()
		}
		if rt.verifier != nil {
			rt.verifier.Close()
		}
		return nil, err
	}
	for i := range doc.Consumers {
		c := &doc.Consumers[i]
		rt.consumers[c.Name] = c
	}
	reused := map[*pool]bool{}
	for i := range doc.Upstreams {
		spec := doc.Upstreams[i]
		fp := gwconfig.Fingerprint(spec)
		if prev != nil {
			if old, ok := prev.pools[spec.Name]; ok && old.fingerprint == fp {
				rt.pools[spec.Name] = old
				reused[old] = true
				continue
			}
		}
		p, err := s.newPool(spec, fp)
		if err != nil {
			return fail(fmt.Errorf("%w: upstreams[%d] (%s): %v", ErrInvalidConfig, i, spec.Name, err))
		}
		rt.pools[spec.Name] = p
		rt.owned = append(rt.owned, p)
	}
	if prev != nil {
		// The previous runtime closes what this one does not reuse.
		var drop []*pool
		for _, p := range prev.pools {
			if !reused[p] {
				drop = append(drop, p)
			}
		}
		prev.owned = drop
	}
	if len(doc.JWTProviders) > 0 {
		v, err := jwt.NewVerifier(doc.JWTProviders, jwt.Options{ClusterKey: s.clusterKey, Logger: s.logger})
		if err != nil {
			return fail(fmt.Errorf("%w: jwt_providers: %v", ErrInvalidConfig, err))
		}
		rt.verifier = v
	}
	router, err := route.New(doc.Routes)
	if err != nil {
		return fail(fmt.Errorf("%w: routes: %v", ErrInvalidConfig, err))
	}
	rt.router = router
	for i := range doc.Routes {
		lr, err := s.compileRoute(rt, &doc.Routes[i])
		if err != nil {
			return fail(fmt.Errorf("%w: routes[%d] (%s): %v", ErrInvalidConfig, i, doc.Routes[i].Name, err))
		}
		rt.routes = append(rt.routes, lr)
	}
	return rt, nil
}

// compileRoute builds one route's plugins.
func (s *Server) compileRoute(rt *runtime, spec *gwconfig.Route) (*liveRoute, error) {
	lr := &liveRoute{spec: spec, name: spec.Name, maxBody: int64(spec.MaxBody), timeout: spec.Timeout, stats: s.stats.route(spec.Name)}
	if spec.Upstream != "" {
		lr.split = []splitShare{{pool: rt.pools[spec.Upstream], cumul: 1}}
		lr.splitTotal = 1
	}
	for _, sp := range spec.Split {
		lr.splitTotal += sp.Weight
		lr.split = append(lr.split, splitShare{pool: rt.pools[sp.Upstream], cumul: lr.splitTotal})
	}
	for i, rl := range spec.RateLimits {
		lr.limits = append(lr.limits, ratelimit.PolicyFor(spec.Name, i, rl))
		lr.limitBy = append(lr.limitBy, rl.By)
	}
	var err error
	if spec.Request != nil {
		if lr.request, err = transform.Compile(spec.Request); err != nil {
			return nil, fmt.Errorf("request: %v", err)
		}
	}
	if spec.Response != nil {
		if lr.response, err = transform.Compile(spec.Response); err != nil {
			return nil, fmt.Errorf("response: %v", err)
		}
	}
	if spec.Transcode != nil {
		if lr.transcode, err = s.transcoder.Service(spec.Transcode.Service); err != nil {
			return nil, fmt.Errorf("transcode.service: %v", err)
		}
	}
	if len(spec.Headers) > 0 {
		lr.headers = http.Header{}
		for k, v := range spec.Headers {
			lr.headers.Set(k, v)
		}
	}
	return lr, nil
}

// acquire returns the live runtime, counted as in use until release.
func (s *Server) acquire() *runtime {
	for {
		rt := s.live.Load()
		rt.active.Add(1)
		if s.live.Load() == rt {
			return rt
		}
		s.releaseRuntime(rt) // replaced meanwhile: use the new one
	}
}

// releaseRuntime ends a request's use of rt; the last request on a retired runtime
// closes what it owned.
func (s *Server) releaseRuntime(rt *runtime) {
	if rt.active.Add(-1) == 0 && rt.retired.Load() {
		rt.closeOwned()
	}
}

// install makes rt the live runtime and retires the previous one.
func (s *Server) install(rt *runtime) {
	prev := s.live.Swap(rt)
	if prev == nil {
		return
	}
	prev.retired.Store(true)
	if prev.active.Load() == 0 {
		prev.closeOwned()
	}
}

// closeOwned releases the pools the retired runtime did not hand on and its
// verifier. Once.
func (rt *runtime) closeOwned() {
	rt.closeOne.Do(func() {
		for _, p := range rt.owned {
			p.close()
		}
		if rt.verifier != nil {
			rt.verifier.Close()
		}
	})
}
