package gatewayd

import (
	"net/http"
	"time"

	"cairn.dev/cairn/gatewayd/respcache"
	"cairn.dev/cairn/gatewayd/transcode"
	"cairn.dev/cairn/gatewayd/upstream"
	"cairn.dev/cairn/node/httpproxy"
)

// proxy forwards a request to a target of p, retrying idempotent requests
// on other targets within the retry budget, and feeds every attempt's
// outcome to the pool (breaker, outlier ejection). With cacheKey set, a
// storable response is captured while it streams and stored.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, lr *liveRoute, p *pool, upPath, cacheKey string) {
	var (
		cur     upstream.Target
		release upstream.Release
		tried   string
	)
	fallbackSent := false
	pick := func(attempt int) (httpproxy.Upstream, bool) {
		if release != nil {
			// A retry follows a failed attempt.
			release(upstream.Result{Kind: upstream.KindFailure})
			release = nil
			tried = cur.Address
		}
		t, rel, err := p.targets.Pick(tried)
		if err != nil {
			if attempt == 0 {
				fallbackSent = true
				why := "no target of upstream " + p.spec.Name + " is available"
				if err == upstream.ErrCircuitOpen {
					why = "the circuit of upstream " + p.spec.Name + " is open"
				}
				s.fallback(w, r, lr, why)
			}
			return httpproxy.Upstream{}, false
		}
		cur, release = t, rel
		return httpproxy.Upstream{
			Name:           p.spec.Name,
			Route:          lr.name,
			Target:         t.Address,
			Scheme:         p.scheme,
			Transport:      p.transport,
			Path:           upPath,
			Timeout:        routeTimeout(lr, p),
			ModifyResponse: s.modifyResponse(r, lr, cacheKey),
		}, true
	}
	out := httpproxy.ForwardRetrying(w, r, pick, s.retryPolicy(p), s.retryBudget)
	if release != nil {
		release(resultOf(out))
	}
	_ = fallbackSent
}

// modifyResponse returns the hook that applies the route's response
// transform and captures a storable response for the cache.
func (s *Server) modifyResponse(r *http.Request, lr *liveRoute, cacheKey string) func(*http.Response) error {
	if lr.response == nil && cacheKey == "" {
		return nil
	}
	return func(resp *http.Response) error {
		if lr.response != nil {
			if err := lr.response.ApplyResponse(resp); err != nil {
				return err
			}
		}
		if cacheKey != "" {
			resp.Header.Set("X-Cache", "MISS")
			if ttl, ok := respcache.Storable(r, resp, lr.spec.Cache); ok {
				s.rcache.Capture(resp, cacheKey, r, ttl, int64(lr.spec.Cache.MaxBody))
			}
		}
		return nil
	}
}

// transcodeCall maps a REST/JSON request onto the route's gRPC service on
// a target of p.
func (s *Server) transcodeCall(w http.ResponseWriter, r *http.Request, lr *liveRoute, p *pool, c *caller, path string) {
	method := path
	if i := lastSlash(path); i >= 0 {
		method = path[i+1:]
	}
	t, release, ok := s.pickTarget(w, r, lr, p, "")
	if !ok {
		return
	}
	start := time.Now()
	conn, err := p.conn(t.Address)
	if err != nil {
		release(upstream.Result{Kind: upstream.KindConnect})
		httpproxy.WriteError(w, r, http.StatusBadGateway, "bad_gateway", "cannot reach upstream "+p.spec.Name)
		return
	}
	ctx, cancel := withTimeout(r.Context(), routeTimeout(lr, p))
	defer cancel()
	md := map[string]string{"x-request-id": r.Header.Get("X-Request-Id")}
	if c != nil {
		md["x-consumer"] = c.consumer
	}
	res := lr.transcode.Serve(w, r.WithContext(ctx), method, conn, transcode.ServeOptions{Metadata: md})
	release(upstream.Result{Kind: transcodeKind(res), Latency: time.Since(start)})
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
