package edgebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// sizeCount accumulates the answers of one object size.
type sizeCount struct {
	requests, hits, errors, bytes int64
}

// worker owns one keep-alive connection to one target and sends one
// request at a time on it. Its fields are written by its own goroutine and
// read after it returns.
type worker struct {
	tr     *http.Transport
	client *http.Client
	base   string // target URL without a trailing slash, plus the path prefix
	host   string
	rng    *rand.Rand
	buf    []byte

	hist     histogram
	statuses map[int]int64
	sizes    map[int64]*sizeCount
	errs     int64
	hits     int64
	bytes    int64
	firstErr error
}

// Close closes the worker's connection.
func (w *worker) Close() error {
	w.tr.CloseIdleConnections()
	return nil
}

// newWorker opens worker i's connection with one unmeasured GET of the
// target's /stats path (any answer will do: it is not an object, so it
// warms no cache; the benchmark origin does not count it). Each worker adds
// its own query, so a cache that makes concurrent misses of one URL wait
// for the first (nginx's proxy_cache_lock) does not hold them all behind
// an answer it will not store.
func newWorker(ctx context.Context, cfg Config, i int) (*worker, error) {
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
	target := strings.TrimRight(cfg.Targets[i%len(cfg.Targets)], "/")
	w := &worker{
		tr: tr, client: &http.Client{Transport: tr, Timeout: cfg.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base: target + cfg.PathPrefix, host: cfg.Host,
		rng:      rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
		buf:      make([]byte, 32<<10),
		statuses: map[int]int64{}, sizes: map[int64]*sizeCount{},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+StatsPath+"?worker="+strconv.Itoa(i), nil)
	if err != nil {
		return nil, fmt.Errorf("edgebench: target %q: %w", target, err)
	}
	if w.host != "" {
		req.Host = w.host
	}
	resp, err := w.client.Do(req)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("edgebench: connecting to %s: %w", target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return w, nil
}

// fetch GETs object id of size bytes and reads the whole answer, checking
// that a 200's body is the object's (length and BodyHeader).
func (w *worker) fetch(ctx context.Context, id int, size int64) (status int, hit bool, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+ObjectPath("", id, size), nil)
	if err != nil {
		return 0, false, 0, err
	}
	if w.host != "" {
		req.Host = w.host
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, false, 0, err
	}
	defer resp.Body.Close()
	head := BodyHeader(id, size)
	if int64(len(head)) > size {
		head = head[:size]
	}
	for {
		m, rerr := resp.Body.Read(w.buf)
		if resp.StatusCode == http.StatusOK && n < int64(len(head)) {
			end := min(int64(len(head)), n+int64(m))
			if string(w.buf[:end-n]) != head[n:end] {
				err = fmt.Errorf("object %d: body is not the object's (starts %q)", id, w.buf[:min(m, 48)])
			}
		}
		n += int64(m)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return resp.StatusCode, false, n, rerr
		}
	}
	if err == nil && resp.StatusCode == http.StatusOK && n != size {
		err = fmt.Errorf("object %d: body of %d bytes, want %d", id, n, size)
	}
	return resp.StatusCode, IsHit(resp.Header), n, err
}

// note records one measured request.
func (w *worker) note(size int64, start time.Time, status int, hit bool, n int64, err error) {
	sc := w.sizes[size]
	if sc == nil {
		sc = &sizeCount{}
		w.sizes[size] = sc
	}
	sc.requests++
	if status != 0 {
		w.statuses[status]++
	}
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("status %d", status)
	}
	if err != nil {
		w.errs++
		sc.errors++
		if w.firstErr == nil {
			w.firstErr = err
		}
		return
	}
	w.hist.record(time.Since(start))
	w.bytes += n
	sc.bytes += n
	if hit {
		w.hits++
		sc.hits++
	}
}

// loop sends requests until end, recording those that start at or after
// measureFrom.
func (w *worker) loop(ctx context.Context, cfg Config, z *zipf, measureFrom, end time.Time) {
	for {
		start := time.Now()
		if !start.Before(end) || ctx.Err() != nil {
			return
		}
		id := z.draw(w.rng)
		size := sizeOf(cfg.Sizes, id)
		status, hit, n, err := w.fetch(ctx, id, size)
		if start.Before(measureFrom) {
			continue
		}
		if err != nil && ctx.Err() != nil {
			return // cut by the caller or the run's deadline, not a failure
		}
		w.note(size, start, status, hit, n, err)
	}
}

// Run opens cfg.Concurrency connections and loads the targets (or, in
// storm mode, sends one simultaneous request per connection for one
// object), then returns the result. It fails when cfg is invalid, a
// connection cannot be opened, or the origin's stats cannot be read; when
// ctx ends it returns the partial result with ctx's error. A request is an
// error unless it gets a 200 with the object's body.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	workers, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Concurrency, func(ctx context.Context, i int) (*worker, error) {
		return newWorker(ctx, cfg, i)
	})
	if err != nil {
		return Result{}, err
	}
	defer benchrun.CloseAll(workers)
	if cfg.Storm {
		return runStorm(ctx, cfg, workers)
	}

	z := newZipf(cfg.Objects, cfg.Zipf)
	var (
		wg        sync.WaitGroup
		before    OriginStats
		originErr error
	)
	if cfg.OriginStats != "" && cfg.Warmup == 0 {
		// Before any request: the origin's count is exact.
		if before, originErr = FetchOriginStats(ctx, cfg.OriginStats, cfg.RequestTimeout); originErr != nil {
			return Result{}, fmt.Errorf("edgebench: origin stats: %w", originErr)
		}
	}
	measureFrom := time.Now().Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end.Add(cfg.RequestTimeout))
	defer cancel()
	if cfg.OriginStats != "" && cfg.Warmup > 0 {
		// At the end of the warmup, while the workers run: the count is off
		// by at most the requests in flight then (Concurrency).
		wg.Go(func() {
			t := time.NewTimer(time.Until(measureFrom))
			defer t.Stop()
			select {
			case <-t.C:
				before, originErr = FetchOriginStats(runCtx, cfg.OriginStats, cfg.RequestTimeout)
			case <-runCtx.Done():
				originErr = runCtx.Err()
			}
		})
	}
	for _, w := range workers {
		wg.Go(func() { w.loop(runCtx, cfg, z, measureFrom, end) })
	}
	wg.Wait()
	// The measured phase ends when its last request does: Duration plus at
	// most one request's latency.
	elapsed := time.Since(measureFrom)
	res := summarize(cfg, workers, elapsed)
	if cfg.OriginStats != "" && originErr == nil {
		after, err := FetchOriginStats(ctx, cfg.OriginStats, cfg.RequestTimeout)
		if err != nil {
			originErr = err
		} else {
			res.setOrigin(before, after)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if originErr != nil {
		return res, fmt.Errorf("edgebench: origin stats: %w", originErr)
	}
	return res, nil
}

// runStorm releases every worker at once for one request of the storm
// object and waits for all of them.
func runStorm(ctx context.Context, cfg Config, workers []*worker) (Result, error) {
	var before OriginStats
	var err error
	if cfg.OriginStats != "" {
		if before, err = FetchOriginStats(ctx, cfg.OriginStats, cfg.RequestTimeout); err != nil {
			return Result{}, fmt.Errorf("edgebench: origin stats: %w", err)
		}
	}
	size := sizeOf(cfg.Sizes, cfg.StormObject)
	release := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(len(workers))
	for _, w := range workers {
		done.Go(func() {
			ready.Done()
			<-release
			start := time.Now()
			status, hit, n, err := w.fetch(ctx, cfg.StormObject, size)
			w.note(size, start, status, hit, n, err)
		})
	}
	ready.Wait()
	start := time.Now()
	close(release)
	done.Wait()
	res := summarize(cfg, workers, time.Since(start))
	if cfg.OriginStats != "" {
		after, err := FetchOriginStats(ctx, cfg.OriginStats, cfg.RequestTimeout)
		if err != nil {
			return res, fmt.Errorf("edgebench: origin stats: %w", err)
		}
		res.setOrigin(before, after)
	}
	return res, ctx.Err()
}

// maxStatsBytes bounds the stats answer read.
const maxStatsBytes = 1 << 20

// FetchOriginStats GETs an origin's stats URL (StatsPath of a benchmark
// origin) within timeout.
func FetchOriginStats(ctx context.Context, statsURL string, timeout time.Duration) (OriginStats, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, statsURL, nil)
	if err != nil {
		return OriginStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return OriginStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return OriginStats{}, fmt.Errorf("GET %s: status %d", statsURL, resp.StatusCode)
	}
	var st OriginStats
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatsBytes)).Decode(&st); err != nil {
		return OriginStats{}, fmt.Errorf("GET %s: %w", statsURL, err)
	}
	return st, nil
}

// summarize merges the workers' records.
func summarize(cfg Config, workers []*worker, elapsed time.Duration) Result {
	res := Result{
		Mode: "load", Targets: cfg.Targets, PathPrefix: cfg.PathPrefix, Concurrency: cfg.Concurrency,
		Objects: cfg.Objects, Zipf: cfg.Zipf, Sizes: FormatSizes(cfg.Sizes), Seed: cfg.Seed,
		Duration: elapsed, Statuses: map[int]int64{},
	}
	if cfg.Storm {
		res.Mode = "storm"
	}
	var hist histogram
	sizes := map[int64]*sizeCount{}
	var errs []error
	for _, w := range workers {
		hist.merge(&w.hist)
		res.Errors += w.errs
		res.Hits += w.hits
		res.Bytes += w.bytes
		for code, n := range w.statuses {
			res.Statuses[code] += n
		}
		for size, c := range w.sizes {
			t := sizes[size]
			if t == nil {
				t = &sizeCount{}
				sizes[size] = t
			}
			t.requests += c.requests
			t.hits += c.hits
			t.errors += c.errors
			t.bytes += c.bytes
		}
		if w.firstErr != nil {
			errs = append(errs, w.firstErr)
		}
	}
	ok := int64(hist.n)
	res.Requests = ok + res.Errors
	secs := elapsed.Seconds()
	if ok > 0 {
		res.HitRatio = float64(res.Hits) / float64(ok)
	}
	if secs > 0 {
		res.Throughput = float64(ok) / secs
		res.BytesPerSec = float64(res.Bytes) / secs
	}
	for _, c := range cfg.Sizes {
		t := sizes[c.Bytes]
		if t == nil {
			continue
		}
		sr := SizeResult{Bytes: c.Bytes, Requests: t.requests, Errors: t.errors, Hits: t.hits, BodyBytes: t.bytes}
		if okN := t.requests - t.errors; okN > 0 {
			sr.HitRatio = float64(t.hits) / float64(okN)
		}
		if secs > 0 {
			sr.HitsPerSec = float64(t.hits) / secs
			sr.Throughput = float64(t.requests-t.errors) / secs
		}
		res.PerSize = append(res.PerSize, sr)
		delete(sizes, c.Bytes) // a size listed twice is reported once
	}
	if len(errs) > 0 {
		res.FirstError = errors.Join(errs...).Error()
		if i := strings.IndexByte(res.FirstError, '\n'); i >= 0 {
			res.FirstError = res.FirstError[:i]
		}
	}
	res.Latency = Latency{Mean: hist.mean(), P50: hist.quantile(0.50), P90: hist.quantile(0.90),
		P99: hist.quantile(0.99), Max: hist.max}
	return res
}
