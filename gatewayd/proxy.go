package gatewayd

import (
	"context"
	"net/http"
	"time"

	"cairn.dev/cairn/gatewayd/respcache"
	"cairn.dev/cairn/gatewayd/transcode"
	"cairn.dev/cairn/gatewayd/upstream"
	"cairn.dev/cairn/node/httpproxy"
)

// proxy forwards a request to a target of p, retrying idempotent requests
// on another target within the retry budget, and feeds every attempt's
// outcome to the pool (breaker, outlier ejection). With cacheKey set,
// concurrent misses are coalesced and a storable response is captured while
// it streams, then stored.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, lr *liveRoute, p *pool, upPath, cacheKey string) {
	if cacheKey == "" {
		s.forward(w, r, lr, p, upPath, nil)
		return
	}
	spec := lr.spec.Cache
	e, first, err := s.rcache.Do(r.Context(), cacheKey, r, func() *respcache.Entry {
		rec := s.rcache.NewRecorder(w, int64(spec.MaxBody))
		var (
			storable bool
			ttl      time.Duration
			status   int
			header   http.Header
		)
		out := s.forward(rec, r, lr, p, upPath, func(resp *http.Response) {
			ttl, storable = respcache.Storable(r, resp, spec)
			if storable {
				status, header = resp.StatusCode, resp.Header.Clone()
			}
			resp.Header.Set("X-Cache", "MISS")
		})
		if !storable || out.Truncated() || out.Kind != httpproxy.None {
			return nil
		}
		return rec.Finish(context.WithoutCancel(r.Context()), cacheKey, r, status, header, ttl)
	})
	switch {
	case first:
	case e != nil:
		lr.stats.cacheHits.Add(1)
		e.Serve(w, r)
	case err == nil:
		s.forward(w, r, lr, p, upPath, nil) // the first request stored nothing usable for this one
	}
}

// forward runs one proxied exchange with retries. observe, when set, sees
// the upstream's response (after the route's response transform) before it
// is relayed.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, lr *liveRoute, p *pool, upPath string, observe func(*http.Response)) httpproxy.Outcome {
	first, rel, ok := s.pickTarget(w, r, lr, p)
	if !ok {
		return httpproxy.Outcome{Status: http.StatusServiceUnavailable, Kind: httpproxy.Connect}
	}
	releases := []upstream.Release{rel}
	tried := first.Address
	var modify func(*http.Response) error
	if lr.response != nil || observe != nil {
		modify = func(resp *http.Response) error {
			if lr.response != nil {
				if err := lr.response.ApplyResponse(resp); err != nil {
					return err
				}
			}
			if observe != nil {
				observe(resp)
			}
			return nil
		}
	}
	up := func(addr string) httpproxy.Upstream {
		return httpproxy.Upstream{
			Name:           p.spec.Name,
			Route:          lr.name,
			Target:         addr,
			Scheme:         p.scheme,
			Transport:      p.transport,
			Path:           upPath,
			Timeout:        routeTimeout(lr, p),
			ModifyResponse: modify,
		}
	}
	pick := func(attempt int) (httpproxy.Upstream, bool) {
		if attempt == 0 {
			return up(first.Address), true
		}
		t, rel, err := p.targets.Pick(tried)
		if err != nil {
			return httpproxy.Upstream{}, false
		}
		releases = append(releases, rel)
		tried = t.Address
		return up(t.Address), true
	}
	pol := p.retry
	pol.OnAttempt = func(attempt int, _ httpproxy.Upstream, o httpproxy.Outcome) {
		if attempt < len(releases) && releases[attempt] != nil {
			releases[attempt](upstream.Result{Kind: kindOf(o), Latency: o.Duration})
			releases[attempt] = nil
		}
	}
	out := s.proxyCore.ForwardRetrying(w, r, pick, pol, s.retryBudget)
	for _, rel := range releases { // attempts OnAttempt did not see
		if rel != nil {
			rel(upstream.Result{Kind: kindOf(out)})
		}
	}
	httpproxy.AbortIfTruncated(out)
	return out
}

// kindOf maps a proxy outcome onto the pool's result kinds.
func kindOf(o httpproxy.Outcome) upstream.Kind {
	switch o.Kind {
	case httpproxy.Connect:
		return upstream.KindConnect
	case httpproxy.Timeout:
		return upstream.KindTimeout
	case httpproxy.Reset:
		return upstream.KindReset
	case httpproxy.Status5xx:
		return upstream.KindStatus5xx
	case httpproxy.ClientGone:
		return upstream.KindClientGone
	}
	return upstream.KindSuccess
}

// transcodeCall maps a REST/JSON request onto the route's gRPC service on
// a target of p.
func (s *Server) transcodeCall(w *httpproxy.StatusWriter, r *http.Request, lr *liveRoute, p *pool, c *caller, path string) {
	method := path
	if i := lastSlash(path); i >= 0 {
		method = path[i+1:]
	}
	t, release, ok := s.pickTarget(w, r, lr, p)
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
		md["x-cairn-consumer"] = c.consumer
	}
	lr.transcode.Serve(w, r.WithContext(ctx), method, conn, transcode.ServeOptions{Metadata: md})
	release(upstream.Result{Kind: transcodeKind(w.Status(), r.Context()), Latency: time.Since(start)})
}

// transcodeKind classifies a transcoded call by the status it was answered
// with: the gRPC codes that say the upstream failed (Unavailable → 503,
// DeadlineExceeded → 504, Internal/Unknown/DataLoss → 500) count against
// it; every other answer, errors included, is the upstream working.
func transcodeKind(status int, ctx context.Context) upstream.Kind {
	switch {
	case ctx.Err() != nil && status == 0:
		return upstream.KindClientGone
	case status == http.StatusGatewayTimeout:
		return upstream.KindTimeout
	case status == http.StatusServiceUnavailable, status == http.StatusBadGateway, status == http.StatusInternalServerError:
		return upstream.KindStatus5xx
	}
	return upstream.KindSuccess
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
