package gatewayd

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/httpproxy"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
)

// stats are the node's counters per route, kept across configuration
// versions by route name.
type stats struct {
	mu     sync.Mutex // protects routes
	routes map[string]*routeStats
}

// routeStats counts one route's requests and answers.
type routeStats struct {
	requests     atomic.Int64
	rateLimited  atomic.Int64
	unauthorized atomic.Int64
	forbidden    atomic.Int64
	cacheHits    atomic.Int64
	cacheMisses  atomic.Int64
	fallbacks    atomic.Int64
	byClass      [6]atomic.Int64 // 1xx..5xx by index status/100; [0] unused
	tooMany      atomic.Int64    // 429s
}

func newStats() *stats { return &stats{routes: map[string]*routeStats{}} }

// route returns the counters of the named route, creating them.
func (st *stats) route(name string) *routeStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.routes[name]
	if r == nil {
		r = &routeStats{}
		st.routes[name] = r
	}
	return r
}

// snapshot returns the counters of every route.
func (st *stats) snapshot() map[string]*routeStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make(map[string]*routeStats, len(st.routes))
	for k, v := range st.routes {
		out[k] = v
	}
	return out
}

// responses is the answers by class ("2xx", …) plus "429".
func (r *routeStats) responses() map[string]int64 {
	out := map[string]int64{}
	for i := 1; i < len(r.byClass); i++ {
		if n := r.byClass[i].Load(); n > 0 {
			out[strconv.Itoa(i)+"xx"] = n
		}
	}
	if n := r.tooMany.Load(); n > 0 {
		out["429"] = n
	}
	return out
}

// observe records a finished request: counters, metrics and the access log.
func (s *Server) observe(lr *liveRoute, upName string, r *http.Request, sw *httpproxy.StatusWriter, start time.Time) {
	status := sw.Status()
	if status == 0 {
		status = http.StatusOK
	}
	name := ""
	if lr != nil {
		name = lr.name
		if c := status / 100; c >= 1 && c <= 5 {
			lr.stats.byClass[c].Add(1)
		}
		if status == http.StatusTooManyRequests {
			lr.stats.tooMany.Add(1)
		}
	}
	s.metrics.ObserveRequest(name, upName, status, time.Since(start))
	if s.access != nil {
		s.access.Log(r.Context(), httpproxy.NewAccessRecord(r, sw, start, name, upName))
	}
}

// upstreamStats is the admin API's view of one pool.
func upstreamStats(name string, p *pool) *gatewaydv1.UpstreamStats {
	st := p.targets.Stats()
	out := &gatewaydv1.UpstreamStats{Upstream: name, Breaker: st.Breaker}
	for _, t := range st.Targets {
		out.Targets = append(out.Targets, &gatewaydv1.TargetStats{Address: t.Address, Ejected: t.Ejected, Requests: t.Requests, Failures: t.Failures})
	}
	return out
}
