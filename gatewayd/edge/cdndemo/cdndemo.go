// Package cdndemo runs the CDN demonstration of `cairn cdn demo`: users in
// several regions read objects stored in blobd, first straight from the
// origin, then through edge nodes near them, and the two runs are compared
// (hit ratio, origin requests, latency percentiles).
//
// Distances are simulated with added delays, the same for both runs: every
// request pays EdgeLatency (a user to the nearest edge, or to the first hop
// toward the origin), and every origin request pays OriginLatency more (the
// long way to the origin's region). The edges are real edge servers
// (package edge) started in this process on 127.0.<region>.1, with blobd
// as their origin through an HTTP origin server that adds OriginLatency, and
// with each other as their shield tier.
package cdndemo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/bench/benchrun"
	blobdclient "cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/gatewayd/edge"
	"cairn.dev/cairn/gatewayd/edge/origin"
	"cairn.dev/cairn/node"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// Options configure a run. Zero values take the defaults named.
type Options struct {
	// Blob is the origin's blobd (required).
	Blob *blobdclient.Client
	// Bucket holds the demo's objects; created when missing. Default
	// "cdn-demo".
	Bucket string
	// Objects is how many objects the users read (default 200), each Size
	// bytes (default 16 KiB).
	Objects int
	Size    int
	// Requests is how many requests each run makes (default 2000), by
	// Concurrency users at a time (default 24), choosing objects with a
	// Zipf distribution of exponent Zipf (default 1.1: a few hot objects).
	Requests    int
	Concurrency int
	Zipf        float64
	// Regions is the number of regions, each with its edge (default 3, at
	// most 10).
	Regions int
	// EdgeLatency and OriginLatency are the simulated distances (defaults
	// 20 ms and 200 ms).
	EdgeLatency   time.Duration
	OriginLatency time.Duration
	// Seed draws the requests; 0 picks one (reported in Result).
	Seed   uint64
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Blob == nil {
		return errors.New("cdndemo: Blob is required")
	}
	if o.Bucket == "" {
		o.Bucket = "cdn-demo"
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Objects, 200)
	def(&o.Size, 16<<10)
	def(&o.Requests, 2000)
	def(&o.Concurrency, 24)
	def(&o.Regions, 3)
	if o.Zipf == 0 {
		o.Zipf = 1.1
	}
	if o.EdgeLatency == 0 {
		o.EdgeLatency = 20 * time.Millisecond
	}
	if o.OriginLatency == 0 {
		o.OriginLatency = 200 * time.Millisecond
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Objects < 1 || o.Objects > 100000:
		return fmt.Errorf("cdndemo: objects %d must be in [1, 100000]", o.Objects)
	case o.Size < 1 || o.Size > 16<<20:
		return fmt.Errorf("cdndemo: size %d must be in [1, 16777216]", o.Size)
	case o.Requests < 1 || o.Requests > 1000000:
		return fmt.Errorf("cdndemo: requests %d must be in [1, 1000000]", o.Requests)
	case o.Concurrency < 1 || o.Concurrency > 1000:
		return fmt.Errorf("cdndemo: concurrency %d must be in [1, 1000]", o.Concurrency)
	case o.Regions < 1 || o.Regions > 10:
		return fmt.Errorf("cdndemo: regions %d must be in [1, 10]", o.Regions)
	case o.Zipf <= 1:
		return fmt.Errorf("cdndemo: zipf %v must be > 1", o.Zipf)
	case o.EdgeLatency < 0 || o.OriginLatency < 0:
		return errors.New("cdndemo: latencies must not be negative")
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Bucket          string  `json:"bucket"`
	Objects         int     `json:"objects"`
	ObjectBytes     int     `json:"object_bytes"`
	Requests        int     `json:"requests"`
	Seed            uint64  `json:"seed"`
	EdgeLatencyMS   float64 `json:"edge_latency_ms"`
	OriginLatencyMS float64 `json:"origin_latency_ms"`
	WithoutCDN      Phase   `json:"without_cdn"`
	WithCDN         Phase   `json:"with_cdn"`
}

// Phase is one run's numbers.
type Phase struct {
	// HitRatio is the share of answers served from an edge's cache (0
	// without the CDN).
	HitRatio float64 `json:"hit_ratio"`
	// OriginRequests counts requests that reached the origin.
	OriginRequests int64   `json:"origin_requests"`
	Errors         int64   `json:"errors"`
	P50MS          float64 `json:"p50_ms"`
	P90MS          float64 `json:"p90_ms"`
	P99MS          float64 `json:"p99_ms"`
	// Regions holds each region's share.
	Regions []RegionResult `json:"regions,omitempty"`
}

// RegionResult is one region's share of a run.
type RegionResult struct {
	Region   string  `json:"region"`
	Edge     string  `json:"edge"`
	Requests int64   `json:"requests"`
	Hits     int64   `json:"hits"`
	P50MS    float64 `json:"p50_ms"`
}

// regionNames name the demo's regions.
var regionNames = [...]string{"tokyo", "frankfurt", "virginia", "saopaulo", "sydney", "mumbai", "london", "oregon", "singapore", "paris"}

// Run loads the objects into blobd (when they are not there yet), runs the
// requests without and then with the CDN, and stops its edges.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	res := Result{
		Bucket: o.Bucket, Objects: o.Objects, ObjectBytes: o.Size, Requests: o.Requests, Seed: o.Seed,
		EdgeLatencyMS: ms(o.EdgeLatency), OriginLatencyMS: ms(o.OriginLatency),
	}
	if err := load(ctx, o); err != nil {
		return res, err
	}
	org, err := startOrigin(o)
	if err != nil {
		return res, err
	}
	defer org.close()

	// Without the CDN: every request goes to the origin.
	without := func(region int) string { return "http://" + org.addr }
	res.WithoutCDN, err = run(ctx, o, without, nil, &org.requests)
	if err != nil {
		return res, err
	}
	edges, err := startEdges(ctx, o, "http://"+org.addr)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, e := range edges {
			e.Close()
		}
	}()
	with := func(region int) string { return "http://" + edges[region].HTTPAddr() }
	names := make([]string, len(edges))
	for i, e := range edges {
		names[i] = e.ID()
	}
	res.WithCDN, err = run(ctx, o, with, names, &org.requests)
	return res, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// objectKey names object i.
func objectKey(i int) string { return fmt.Sprintf("obj-%05d", i) }

// load creates the bucket and the objects that are missing.
func load(ctx context.Context, o Options) error {
	if _, err := o.Blob.CreateBucket(ctx, o.Bucket); err != nil && !errors.Is(err, blobdclient.ErrBucketExists) {
		return fmt.Errorf("cdndemo: create bucket %s: %w", o.Bucket, err)
	}
	body := bytes.Repeat([]byte("cairn cdn demo "), o.Size/15+1)[:o.Size]
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range o.Objects {
		key := objectKey(i)
		if head, err := o.Blob.Stat(ctx, o.Bucket, key); err == nil && head.GetSize() == int64(o.Size) {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := o.Blob.Put(ctx, o.Bucket, key, bytes.NewReader(body), int64(len(body)),
				blobdclient.WithHeaders(&blobdv1.ObjectHeaders{
					ContentType:  "application/octet-stream",
					CacheControl: "public, max-age=600",
					UserMetadata: map[string]string{"surrogate-key": "cdn-demo"},
				}))
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("cdndemo: put %s/%s: %w", o.Bucket, key, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// demoOrigin is an HTTP origin in front of blobd that adds OriginLatency
// and counts requests.
type demoOrigin struct {
	addr     string
	srv      *http.Server
	requests atomic.Int64
}

func startOrigin(o Options) (*demoOrigin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &demoOrigin{addr: ln.Addr().String()}
	blob := origin.NewBlob(o.Blob, origin.BlobOptions{})
	d.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d.requests.Add(1)
			delay(r.Context(), o.OriginLatency) // the distance to the origin's region
			resp, err := blob.Fetch(r.Context(), r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		}),
	}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

func (d *demoOrigin) close() { _ = d.srv.Close() }

// startEdges starts one edge per region on 127.0.<region>.1, shielding
// for each other.
func startEdges(ctx context.Context, o Options, originURL string) ([]*edge.Server, error) {
	addrs := make([]string, o.Regions)
	shields := make([]string, o.Regions)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0."+strconv.Itoa(i+1)+".1:0")
		if err != nil {
			return nil, err
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
		shields[i] = "demo-edge-" + strconv.Itoa(i+1) + "=" + addrs[i]
	}
	var edges []*edge.Server
	fail := func(err error) ([]*edge.Server, error) {
		for _, e := range edges {
			e.Close()
		}
		return nil, err
	}
	for i := range addrs {
		srv := node.DefaultServerConfig()
		srv.GRPCAddr, srv.AdminAddr, srv.Insecure = "127.0.0.1:0", "", true
		st := edge.DefaultSettings()
		st.Origin, st.Region, st.Shields, st.CacheMemory = originURL, regionNames[i], strings.Join(shields, ","), 64<<20
		e, err := edge.New(edge.Config{
			ID: "demo-edge-" + strconv.Itoa(i+1), Server: srv, HTTPAddr: addrs[i],
			ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 32 << 10,
			Settings: st,
		}, o.Logger)
		if err != nil {
			return fail(fmt.Errorf("cdndemo: start edge %d: %w", i+1, err))
		}
		edges = append(edges, e)
		go func() { _ = e.Serve(context.Background()) }()
		select {
		case <-e.ReadyNotify():
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	return edges, nil
}

// run makes o.Requests requests, user u in region u % Regions sending to
// target(region), and measures them.
func run(ctx context.Context, o Options, target func(region int) string, edgeNames []string, originRequests *atomic.Int64) (Phase, error) {
	before := originRequests.Load()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency, DisableCompression: true}}
	defer client.CloseIdleConnections()
	type sample struct {
		region int
		d      time.Duration
		hit    bool
	}
	samples := make([]sample, 0, o.Requests)
	var mu sync.Mutex
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for u := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(o.Seed, uint64(u)))
			zipf := rand.NewZipf(rng, o.Zipf, 1, uint64(o.Objects-1))
			region := u % o.Regions
			for next.Add(1) <= int64(o.Requests) && ctx.Err() == nil {
				url := target(region) + "/" + o.Bucket + "/" + objectKey(int(zipf.Uint64()))
				start := time.Now()
				delay(ctx, o.EdgeLatency) // the user to the nearest edge
				hit, err := get(ctx, client, url)
				d := time.Since(start)
				if err != nil {
					errs.Add(1)
					continue
				}
				mu.Lock()
				samples = append(samples, sample{region, d, hit})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Phase{}, err
	}
	p := Phase{OriginRequests: originRequests.Load() - before, Errors: errs.Load()}
	all := make([]time.Duration, 0, len(samples))
	perRegion := make([][]time.Duration, o.Regions)
	hits := make([]int64, o.Regions)
	var totalHits int64
	for _, s := range samples {
		all = append(all, s.d)
		perRegion[s.region] = append(perRegion[s.region], s.d)
		if s.hit {
			hits[s.region]++
			totalHits++
		}
	}
	if len(samples) > 0 {
		p.HitRatio = float64(totalHits) / float64(len(samples))
	}
	p.P50MS, p.P90MS, p.P99MS = percentile(all, 0.5), percentile(all, 0.9), percentile(all, 0.99)
	if edgeNames != nil {
		for i := range o.Regions {
			p.Regions = append(p.Regions, RegionResult{
				Region: regionNames[i], Edge: edgeNames[i], Requests: int64(len(perRegion[i])), Hits: hits[i],
				P50MS: percentile(perRegion[i], 0.5),
			})
		}
	}
	return p, nil
}

// get fetches url, drains the body, and reports whether an edge answered
// from its cache.
func get(ctx context.Context, c *http.Client, url string) (hit bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", url, resp.Status)
	}
	xc := resp.Header.Get("X-Cache")
	return strings.HasPrefix(xc, "HIT") || strings.HasPrefix(xc, "STALE"), nil
}

// delay waits d (a simulated network distance) or until ctx ends.
func delay(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// percentile returns the nearest-rank q quantile of ds in milliseconds (0
// when empty).
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return ms(benchrun.Percentile(s, q))
}
