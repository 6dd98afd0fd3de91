package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// worker owns one keep-alive connection (a transport limited to one) and
// sends one request at a time on it.
type worker struct {
	tr     *http.Transport
	client *http.Client
	req    *http.Request // the template of every request
	// Filled by loop, read after it returns.
	lat      []time.Duration
	statuses map[int]int
	hits     int
	errs     int
	firstErr error
}

// Close closes the worker's connection.
func (w *worker) Close() error {
	w.tr.CloseIdleConnections()
	return nil
}

// newWorker connects by sending one unmeasured request.
func newWorker(ctx context.Context, cfg Config, target string) (*worker, error) {
	tr := &http.Transport{
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if cfg.Host != "" {
		req.Host = cfg.Host
	}
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	w := &worker{tr: tr, client: &http.Client{Transport: tr, Timeout: cfg.RequestTimeout}, req: req, statuses: map[int]int{}}
	if _, _, err := w.do(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("gatewaybench: first request to %s: %w", target, err)
	}
	return w, nil
}

// do sends one request and reads the whole answer.
func (w *worker) do(ctx context.Context) (status int, hit bool, err error) {
	resp, err := w.client.Do(w.req.WithContext(ctx))
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, isHit(resp.Header), err
}

// isHit tells whether a cache answered: X-Cache: HIT (cairn gateway, many
// CDNs) or an RFC 9211 Cache-Status with a hit.
func isHit(h http.Header) bool {
	if strings.HasPrefix(strings.ToUpper(h.Get("X-Cache")), "HIT") {
		return true
	}
	for _, v := range h.Values("Cache-Status") {
		for _, member := range strings.Split(v, ",") {
			for _, param := range strings.Split(member, ";")[1:] {
				if strings.TrimSpace(param) == "hit" {
					return true
				}
			}
		}
	}
	return false
}

// loop sends requests until end, recording those that start at or after
// measureFrom.
func (w *worker) loop(ctx context.Context, measureFrom, end time.Time) {
	for {
		start := time.Now()
		if !start.Before(end) || ctx.Err() != nil {
			return
		}
		status, hit, err := w.do(ctx)
		if start.Before(measureFrom) {
			continue
		}
		if err != nil && ctx.Err() != nil {
			return // cut by the caller or the run's deadline, not a failure
		}
		switch {
		case err != nil:
			w.errs++
			w.firstErr = cmpErr(w.firstErr, err)
		case status != http.StatusOK:
			w.errs++
			w.statuses[status]++
			w.firstErr = cmpErr(w.firstErr, fmt.Errorf("status %d", status))
		default:
			w.statuses[status]++
			w.lat = append(w.lat, time.Since(start))
			if hit {
				w.hits++
			}
		}
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// Run opens cfg.Conns connections, loads the target for Warmup and then
// Duration, and returns the result. It fails when cfg is invalid or a
// connection's first request fails; when ctx ends it returns the partial
// result with ctx's error. A request is an error unless it gets a 200.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	target, err := cfg.target()
	if err != nil {
		return Result{}, err
	}
	workers, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Conns, func(ctx context.Context, _ int) (*worker, error) {
		return newWorker(ctx, cfg, target)
	})
	if err != nil {
		return Result{}, err
	}
	defer benchrun.CloseAll(workers)

	measureFrom := time.Now().Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end.Add(cfg.RequestTimeout))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(runCtx, measureFrom, end) })
	}
	wg.Wait()
	// The measured phase ends when its last request does: Duration plus at
	// most one request's latency.
	elapsed := time.Since(measureFrom)
	res := summarize(cfg, target, workers, elapsed)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// summarize merges the workers' records.
func summarize(cfg Config, target string, workers []*worker, elapsed time.Duration) Result {
	res := Result{Scenario: cfg.Scenario, URL: target, Conns: cfg.Conns, Duration: elapsed, Statuses: map[int]int{}}
	var all []time.Duration
	var errs []error
	for _, w := range workers {
		all = append(all, w.lat...)
		res.Errors += w.errs
		res.Hits += w.hits
		for code, n := range w.statuses {
			res.Statuses[code] += n
		}
		if w.firstErr != nil {
			errs = append(errs, w.firstErr)
		}
	}
	res.Requests = len(all) + res.Errors
	if len(all) > 0 {
		res.HitRatio = float64(res.Hits) / float64(len(all))
	}
	if elapsed > 0 {
		res.Throughput = float64(len(all)) / elapsed.Seconds()
	}
	if len(errs) > 0 {
		res.FirstError = errors.Join(errs...).Error()
		if i := strings.IndexByte(res.FirstError, '\n'); i >= 0 {
			res.FirstError = res.FirstError[:i]
		}
	}
	res.Latency = latencyOf(all)
	return res
}
