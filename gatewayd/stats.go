package gatewayd

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/httpproxy"
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
func (s *Server) observe(lr *liveRoute, r *http.Request, sw *httpproxy.StatusWriter, rid string, start time.Time) {
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
	if !s.cfg.AccessLog {
		return
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "access",
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", sw.Bytes()),
		slog.Duration("duration", time.Since(start)),
		slog.String("route", name),
		slog.String("request_id", rid),
		slog.String("client", clientIP(r)),
	)
}
