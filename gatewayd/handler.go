package gatewayd

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/gatewayd/ratelimit"
	"cairn.dev/cairn/gatewayd/respcache"
	"cairn.dev/cairn/gatewayd/route"
	"cairn.dev/cairn/gatewayd/upstream"
	"cairn.dev/cairn/node/httpproxy"
)

// ServeHTTP is the gateway's request pipeline: request id → route match →
// authentication → authorization → rate limits → request transform →
// response cache → transcoding or proxying (balancing, breaker, retries) →
// response transform → cache store. Every answer the gateway makes itself
// is the JSON error of httpproxy.WriteError.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := httpproxy.RequestID(r)
	sw := httpproxy.NewStatusWriter(w)
	sw.Header().Set("X-Request-Id", rid)
	r.Header.Add("Via", viaValue(r))
	rt := s.acquire()
	defer s.releaseRuntime(rt)
	var (
		lr     *liveRoute
		upName string
	)
	defer func() { s.observe(lr, upName, r, sw, start) }()

	escaped := r.URL.EscapedPath()
	path, ok := route.CleanPath(escaped)
	if !ok {
		httpproxy.WriteError(sw, r, http.StatusBadRequest, "bad_request", "the request path is not valid")
		return
	}
	m := rt.router.Match(r.Host, r.Method, path, r.Header)
	if !m.Matched {
		if m.MethodNotAllowed {
			sw.Header().Set("Allow", strings.Join(m.Allow, ", "))
			httpproxy.WriteError(sw, r, http.StatusMethodNotAllowed, "method_not_allowed", "the route does not accept "+r.Method)
			return
		}
		httpproxy.WriteError(sw, r, http.StatusNotFound, "no_route", "no route matches "+r.Method+" "+path)
		return
	}
	lr = rt.routes[m.Route]
	lr.stats.requests.Add(1)
	for k, v := range lr.headers {
		sw.Header()[k] = v
	}
	if r.ContentLength > lr.maxBody {
		httpproxy.WriteError(sw, r, http.StatusRequestEntityTooLarge, "body_too_large",
			"the request body is "+strconv.FormatInt(r.ContentLength, 10)+" bytes, the route's limit (max_body) is "+strconv.FormatInt(lr.maxBody, 10))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(sw, r.Body, lr.maxBody)
	}

	caller, err := s.authenticate(rt, lr, r)
	if err != nil {
		lr.stats.unauthorized.Add(1)
		s.challenge(sw, r, lr, err)
		return
	}
	if err := authorize(lr.spec.Authorize, caller); err != nil {
		lr.stats.forbidden.Add(1)
		httpproxy.WriteError(sw, r, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	if !s.rateLimit(sw, r, lr, caller) {
		return
	}
	stripIdentity(r.Header)
	if caller != nil {
		r.Header.Set(headerConsumer, caller.consumer)
		if len(caller.groups) > 0 {
			r.Header.Set(headerGroups, strings.Join(caller.groups, ","))
		}
	}
	if lr.request != nil {
		if err := lr.request.ApplyRequest(r); err != nil {
			httpproxy.WriteError(sw, r, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	// The path sent upstream (escaped form): "" keeps the client's when
	// cleaning and rewriting changed nothing.
	upPath := ""
	if path != escaped {
		upPath = path
	}
	if rw := lr.spec.Rewrite; rw.StripPrefix != "" || rw.Path != "" {
		upPath = route.Rewrite(rw, path, m.Params)
	}

	var cacheKey string
	if lr.spec.Cache != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		cacheKey = respcache.Key(lr.name, r, lr.spec.Cache)
		if e, ok := s.rcache.Lookup(r.Context(), cacheKey, r); ok {
			lr.stats.cacheHits.Add(1)
			e.Serve(sw, r)
			return
		}
		lr.stats.cacheMisses.Add(1)
	}

	share := lr.pick()
	if share == nil {
		s.fallback(sw, r, lr, "the route has no upstream")
		return
	}
	upName = share.pool.spec.Name
	if lr.transcode != nil {
		s.transcodeCall(sw, r, lr, share.pool, caller, path)
		return
	}
	s.proxy(sw, r, lr, share.pool, upPath, cacheKey)
}

// pick chooses the upstream of a request by the route's split weights.
func (lr *liveRoute) pick() *splitShare {
	switch len(lr.split) {
	case 0:
		return nil
	case 1:
		return &lr.split[0]
	}
	n := rand.IntN(lr.splitTotal)
	for i := range lr.split {
		if n < lr.split[i].cumul {
			return &lr.split[i]
		}
	}
	return &lr.split[len(lr.split)-1]
}

// rateLimit applies the route's limits; it answers 429 itself and reports
// false when one refuses.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, lr *liveRoute, c *caller) bool {
	if len(lr.limits) == 0 {
		return true
	}
	var buf [4]ratelimit.Decision
	ds := buf[:0]
	allowed := true
	for i, p := range lr.limits {
		key := limitKey(lr.limitBy[i], c, r, lr.name)
		d := s.limiter.Allow(r.Context(), p, key)
		ds = append(ds, d)
		if !d.Allowed {
			allowed = false
			break
		}
	}
	ratelimit.SetHeaders(w.Header(), ds...)
	if !allowed {
		lr.stats.rateLimited.Add(1)
		httpproxy.WriteError(w, r, http.StatusTooManyRequests, "rate_limited", "rate limit exceeded")
	}
	return allowed
}

// limitKey is the bucket a request counts against.
func limitKey(by string, c *caller, r *http.Request, routeName string) string {
	switch by {
	case "consumer":
		if c != nil {
			return "c:" + c.consumer
		}
		// An anonymous caller (a route with optional auth) counts by its
		// address, not in one bucket shared by every anonymous caller.
		return "anon:" + httpproxy.ClientIP(r)
	case "ip":
		return "ip:" + httpproxy.ClientIP(r)
	default:
		return "route:" + routeName
	}
}

// fallback answers for an upstream that cannot be reached: the route's
// fallback response, or 503.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request, lr *liveRoute, why string) {
	lr.stats.fallbacks.Add(1)
	fb := lr.spec.Fallback
	if fb == nil {
		httpproxy.WriteError(w, r, http.StatusServiceUnavailable, "upstream_unavailable", why)
		return
	}
	for k, v := range fb.Headers {
		w.Header().Set(k, v)
	}
	status := fb.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(fb.Body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(fb.Body))
	}
}

// pickTarget chooses a target of p, answering the fallback itself when
// none is available (breaker open, every target ejected or none known).
func (s *Server) pickTarget(w http.ResponseWriter, r *http.Request, lr *liveRoute, p *pool) (upstream.Target, upstream.Release, bool) {
	t, rel, err := p.targets.Pick("")
	if err != nil {
		why := "no target of upstream " + p.spec.Name + " is available"
		if errors.Is(err, upstream.ErrCircuitOpen) {
			why = "the circuit of upstream " + p.spec.Name + " is open"
		}
		s.fallback(w, r, lr, why)
		return upstream.Target{}, nil, false
	}
	return t, rel, true
}

// routeTimeout is the deadline of a request on lr to p.
func routeTimeout(lr *liveRoute, p *pool) time.Duration {
	if lr.timeout > 0 {
		return lr.timeout
	}
	return p.spec.Timeouts.Total
}

// withTimeout bounds ctx by d when d > 0.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// viaValue is the Via entry the gateway adds to a request it forwards (RFC
// 9110 §7.6.3), by the protocol the request came in.
func viaValue(r *http.Request) string {
	if r.ProtoMajor == 2 {
		return "2 cairn-gateway"
	}
	return "1.1 cairn-gateway"
}
