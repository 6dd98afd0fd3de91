package l7

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/lbd/balance"
	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/httpproxy"
)

// Pool is a pool as the frontend uses it: lbd's pool.Pool plus the transport
// to its members.
type Pool struct {
	*pool.Pool
	Transport http.RoundTripper
	Scheme    string // "http" or "https"
}

// Config is one HTTP frontend.
type Config struct {
	Name        string
	Routes      []lbconfig.Route
	DefaultPool string // "" when every request must match a route
	// Pools returns the current pool of a name, nil if there is none.
	Pools   func(name string) *Pool
	Proxy   *httpproxy.Proxy
	Metrics *httpproxy.Metrics // nil: not recorded
	Access  *httpproxy.AccessLogger
}

// Handler is an HTTP frontend. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	routes   atomic.Pointer[routing]
	requests atomic.Int64
	failed   atomic.Int64
}

type routing struct {
	routes      []lbconfig.Route
	defaultPool string
}

// New returns the frontend's handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg}
	h.SetRoutes(cfg.Routes, cfg.DefaultPool)
	return h
}

// SetRoutes replaces the routes and the default pool (a configuration
// reload); requests in flight finish with the routes they started with.
func (h *Handler) SetRoutes(routes []lbconfig.Route, defaultPool string) {
	h.routes.Store(&routing{routes: routes, defaultPool: defaultPool})
}

// Counters returns the requests served and those answered with a proxy
// failure (no backend, every attempt failed).
func (h *Handler) Counters() (requests, failed int64) {
	return h.requests.Load(), h.failed.Load()
}

// route returns the pool name for r.
func (h *Handler) route(r *http.Request) string {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	rs := h.routes.Load()
	for _, rt := range rs.routes {
		if matchHost(rt.Host, host) && matchPrefix(rt.PathPrefix, r.URL.Path) {
			return rt.Pool
		}
	}
	return rs.defaultPool
}

// matchHost matches pattern ("", "example.com" or "*.example.com") against
// host, case-insensitively.
func matchHost(pattern, host string) bool {
	if pattern == "" {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return strings.EqualFold(pattern, host)
}

// matchPrefix matches whole path segments: "/api" matches "/api" and
// "/api/x", not "/apix".
func matchPrefix(prefix, path string) bool {
	if prefix == "/" {
		return true
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// ServeHTTP forwards r to a member of its pool.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h.requests.Add(1)
	sw := httpproxy.NewStatusWriter(w)
	name := h.route(r)
	p := (*Pool)(nil)
	if name != "" {
		p = h.cfg.Pools(name)
	}
	var out httpproxy.Outcome
	if p == nil {
		httpproxy.WriteError(sw, r, http.StatusNotFound, "no_route", "no route matches "+r.Host+r.URL.Path)
		out.Status = http.StatusNotFound
	} else {
		out = h.forward(sw, r, p)
	}
	if out.Kind != httpproxy.None && out.Kind != httpproxy.Status5xx && out.Kind != httpproxy.ClientGone {
		h.failed.Add(1)
	}
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.ObserveRequest(h.cfg.Name, name, sw.Status(), time.Since(start))
	}
	if h.cfg.Access != nil {
		h.cfg.Access.Log(r.Context(), httpproxy.NewAccessRecord(r, sw, start, h.cfg.Name, name))
	}
	httpproxy.AbortIfTruncated(out)
}

// forward sends r to p with retries, one lease per attempt.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, p *Pool) httpproxy.Outcome {
	spec := p.Spec()
	var key uint64
	if p.Hashing() {
		key = hashKey(r, spec.HashOn)
	}
	sticky := ""
	if spec.StickyCookie != "" {
		if c, err := r.Cookie(spec.StickyCookie); err == nil {
			sticky = c.Value
		}
	}
	var (
		tried  []string
		leases []*pool.Lease
		stops  []func() bool
	)
	// A lease cut (its backend's drain deadline passed, or it was disabled
	// or removed) ends the request in flight on it, as a tcp connection's.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	r = r.WithContext(ctx)
	first, err := p.PickNamed(sticky, key, nil)
	if err != nil && p.WaitEligible(r.Context(), spec.QueueTimeout) {
		first, err = p.PickNamed(sticky, key, nil)
	}
	if err != nil {
		// No member can take the request: 503, as a load balancer says
		// it (the proxy core's 502 means a backend failed).
		httpproxy.WriteError(w, r, http.StatusServiceUnavailable, "no_backend", "no healthy backend in pool "+p.Name())
		return httpproxy.Outcome{Status: http.StatusServiceUnavailable, Kind: httpproxy.Connect, Err: err}
	}
	pick := func(attempt int) (httpproxy.Upstream, bool) {
		l := first
		if attempt > 0 {
			var err error
			if l, err = p.PickNamed(sticky, key, tried); err != nil {
				return httpproxy.Upstream{}, false
			}
		}
		tried = append(tried, l.Name())
		leases = append(leases, l)
		stops = append(stops, context.AfterFunc(l.CutContext(), cancel))
		up := httpproxy.Upstream{
			Name: p.Name(), Route: h.cfg.Name, Target: l.Addr(), Scheme: p.Scheme,
			Transport: p.Transport, Timeout: spec.Timeout,
		}
		if spec.StickyCookie != "" && sticky != l.Name() {
			member := l.Name()
			up.ModifyResponse = func(resp *http.Response) error {
				resp.Header.Add("Set-Cookie", (&http.Cookie{Name: spec.StickyCookie, Value: member, Path: "/", HttpOnly: true}).String())
				return nil
			}
		}
		return up, true
	}
	pol := httpproxy.RetryPolicy{
		Attempts: max(spec.Retries, 0),
		On:       []httpproxy.FailureKind{httpproxy.Connect, httpproxy.Reset, httpproxy.Timeout},
		Statuses: []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		OnAttempt: func(attempt int, _ httpproxy.Upstream, o httpproxy.Outcome) {
			if attempt < len(leases) {
				failed := o.Kind != httpproxy.None && o.Kind != httpproxy.ClientGone
				leases[attempt].Done(failed, o.Duration)
			}
		},
	}
	out := h.cfg.Proxy.ForwardRetrying(w, r, pick, pol, nil)
	for _, stop := range stops {
		stop()
	}
	for _, l := range leases { // attempts OnAttempt did not see (none expected)
		l.Done(false, 0)
	}
	return out
}

// hashKey is the request's key for hashing algorithms: the source IP, or
// the named cookie or header (the source IP when it is absent).
func hashKey(r *http.Request, hashOn string) uint64 {
	kind, name, _ := lbconfig.ParseHashOn(hashOn)
	switch kind {
	case "cookie":
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return balance.HashKey([]byte(c.Value))
		}
	case "header":
		if v := r.Header.Get(name); v != "" {
			return balance.HashKey([]byte(v))
		}
	}
	ip := httpproxy.ClientIP(r)
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return balance.HashKey([]byte(ip))
	}
	return pool.IPKey(a)
}
