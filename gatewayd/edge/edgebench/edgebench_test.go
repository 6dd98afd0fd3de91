package edgebench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []SizeClass
		err  string
	}{
		{in: "1KiB", want: []SizeClass{{1 << 10, 1}}},
		{in: "1KiB,100KiB,10MiB", want: []SizeClass{{1 << 10, 1}, {100 << 10, 1}, {10 << 20, 1}}},
		{in: " 1KiB:90, 100KiB:9 ,10MiB:1", want: []SizeClass{{1 << 10, 90}, {100 << 10, 9}, {10 << 20, 1}}},
		{in: "", err: "at least one size"},
		{in: "1KiB:0", err: "weight"},
		{in: "1KiB:x", err: "weight"},
		{in: "2GiB", err: "object size"},
		{in: "0", err: "object size"},
	} {
		got, err := ParseSizes(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSizes(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("ParseSizes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseSizes(%q)[%d] = %v, want %v", tc.in, i, got[i], tc.want[i])
			}
		}
		again, err := ParseSizes(FormatSizes(got))
		if err != nil || FormatSizes(again) != FormatSizes(got) {
			t.Errorf("FormatSizes(%v) = %q does not read back: %v, %v", got, FormatSizes(got), again, err)
		}
	}
}

func TestSizeOfFollowsWeights(t *testing.T) {
	mix := []SizeClass{{1 << 10, 90}, {100 << 10, 9}, {10 << 20, 1}}
	counts := map[int64]int{}
	const n = 100_000
	for id := range n {
		s := sizeOf(mix, id)
		if s != sizeOf(mix, id) {
			t.Fatalf("sizeOf(%d) is not stable", id)
		}
		counts[s]++
	}
	for _, c := range mix {
		share := float64(counts[c.Bytes]) / n
		if want := float64(c.Weight) / 100; math.Abs(share-want) > 0.01 {
			t.Errorf("size %d: share %.4f, want %.2f ± 0.01", c.Bytes, share, want)
		}
	}
}

func TestZipfMatchesItsDistribution(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for _, s := range []float64{0, 0.6, 0.99, 1.2} {
		z := newZipf(1000, s)
		counts := make([]int, 1000)
		const draws = 200_000
		for range draws {
			k := z.draw(r)
			if k < 0 || k >= 1000 {
				t.Fatalf("s=%v: rank %d out of range", s, k)
			}
			counts[k]++
		}
		for _, k := range []int{0, 1, 9, 99} {
			p := z.prob(k)
			got := float64(counts[k]) / draws
			sd := math.Sqrt(p * (1 - p) / draws)
			if math.Abs(got-p) > 5*sd+1e-4 {
				t.Errorf("s=%v rank %d: frequency %.5f, want %.5f (sd %.5f)", s, k, got, p, sd)
			}
		}
		if s == 0 && math.Abs(z.prob(0)-0.001) > 1e-12 {
			t.Errorf("s=0: P(0) = %v, want uniform 0.001", z.prob(0))
		}
		if s > 0 && !(z.prob(0) > z.prob(1) && z.prob(1) > z.prob(999)) {
			t.Errorf("s=%v: probabilities do not decrease with rank", s)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Fatal("an empty histogram has non-zero quantiles")
	}
	// 1..10000 µs: the exact p50 is 5000 µs, p99 9900 µs.
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*(1+1.0/histSub) {
			t.Errorf("quantile(%v) = %v, want %v to +%.1f%%", tc.q, got, tc.want, 100.0/histSub)
		}
	}
	if q := h.quantile(0.0001); q < time.Microsecond || float64(q) > float64(time.Microsecond)*(1+1.0/histSub) {
		t.Errorf("quantile(0.0001) = %v, want the min 1µs to +%.1f%%", q, 100.0/histSub)
	}
	if h.quantile(1) != h.max {
		t.Errorf("quantile(1) = %v, want the max %v", h.quantile(1), h.max)
	}
	var a, b histogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	a.merge(&b)
	if a.n != 2 || a.min != time.Millisecond || a.max != 3*time.Millisecond || a.mean() != 2*time.Millisecond {
		t.Errorf("merged: n %d min %v max %v mean %v", a.n, a.min, a.max, a.mean())
	}
	// Every bucket's top maps back to it and buckets cover int64.
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1 << 20, 1<<20 + 12345, math.MaxInt64} {
		b := bucketOf(v)
		if b >= histBuckets || bucketTop(b) < v || bucketOf(bucketTop(b)) != b {
			t.Errorf("value %d: bucket %d top %d", v, b, bucketTop(b))
		}
	}
}

func TestIsHit(t *testing.T) {
	for _, tc := range []struct {
		h    map[string]string
		want bool
	}{
		{map[string]string{"X-Cache": "HIT"}, true},
		{map[string]string{"X-Cache": "hit from squid-host"}, true},
		{map[string]string{"X-Cache": "STALE"}, true},
		{map[string]string{"X-Cache": "MISS", "Age": "0"}, false},
		{map[string]string{"X-Cache": "REVALIDATED"}, false},
		{map[string]string{"Age": "3"}, true},
		{map[string]string{"Age": "x"}, false},
		{map[string]string{"Cache-Status": "edge-1; hit"}, true},
		{map[string]string{"Cache-Status": "edge-1; fwd=miss; stored"}, false},
		{map[string]string{}, false},
	} {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		if got := IsHit(h); got != tc.want {
			t.Errorf("IsHit(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Targets = []string{"http://127.0.0.1:1"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Targets = nil }, "targets"},
		{func(c *Config) { c.Targets = []string{"ftp://x"} }, "target"},
		{func(c *Config) { c.Targets = []string{"http://x/?q=1"} }, "query"},
		{func(c *Config) { c.OriginStats = "nope" }, "origin stats"},
		{func(c *Config) { c.Objects = 0 }, "objects"},
		{func(c *Config) { c.Zipf = -1 }, "zipf"},
		{func(c *Config) { c.Zipf = math.NaN() }, "zipf"},
		{func(c *Config) { c.Sizes = nil }, "sizes"},
		{func(c *Config) { c.Sizes = []SizeClass{{Bytes: 2 << 30, Weight: 1}} }, "sizes[0]"},
		{func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{func(c *Config) { c.Duration = 0 }, "duration"},
		{func(c *Config) { c.Warmup = -1 }, "warmup"},
		{func(c *Config) { c.RequestTimeout = 0 }, "request timeout"},
		{func(c *Config) { c.PathPrefix = "r1" }, "path prefix"},
		{func(c *Config) { c.PathPrefix = "/r1/" }, "path prefix"},
		{func(c *Config) { c.StormObject = c.Objects }, "storm object"},
	} {
		c := ok
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error naming %q", err, tc.want)
		}
	}
	storm := ok
	storm.Storm, storm.Duration = true, 0
	if err := storm.Validate(); err != nil {
		t.Errorf("storm mode needs no duration: %v", err)
	}
}

func startOrigin(t *testing.T, cfg OriginConfig) *Origin {
	t.Helper()
	o, err := StartOrigin("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestOriginServesDeterministicObjects(t *testing.T) {
	cfg := DefaultOriginConfig()
	cfg.Objects, cfg.MaxSize, cfg.MaxAge = 10, 1<<20, 90*time.Second
	o := startOrigin(t, cfg)
	base := "http://" + o.Addr()

	resp, body := get(t, base+"/r1/100000/7")
	if resp.StatusCode != 200 || len(body) != 100000 || resp.Header.Get("Content-Length") != "100000" {
		t.Fatalf("GET: %d, %d bytes, Content-Length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	if !bytes.HasPrefix(body, []byte(BodyHeader(7, 100000))) || !bytes.Equal(body, Body(7, 100000)) {
		t.Fatalf("body does not start with %q or differs from Body", BodyHeader(7, 100000))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=90" {
		t.Errorf("Cache-Control %q", cc)
	}
	if resp.Header.Get("ETag") != ETag(7, 100000) || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("ETag %q, Last-Modified %q", resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
	}
	// The same object under another prefix is the same bytes; another object differs.
	if _, again := get(t, base+"/100000/7"); !bytes.Equal(again, body) {
		t.Error("the body depends on the prefix")
	}
	if _, other := get(t, base+"/100000/8"); bytes.Equal(other, body) {
		t.Error("objects 7 and 8 have the same body")
	}
	if _, small := get(t, base+"/5/3"); string(small) != BodyHeader(3, 5)[:5] {
		t.Errorf("a 5-byte object is %q", small)
	}
	if resp, _ := get(t, base+"/100000/7", "If-None-Match", `W/"x", `+ETag(7, 100000)); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", resp.StatusCode)
	}
	for _, p := range []string{"/100/10", "/2000000/1", "/x/1", "/100/-1", "/1"} {
		if resp, _ := get(t, base+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, body = get(t, base+StatsPath)
	var st OriginStats
	if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("stats: %d %s: %v", resp.StatusCode, body, err)
	}
	want := OriginStats{Requests: 10, Gets: 10, NotModified: 1, NotFound: 5, BodyBytes: 300005}
	if st != want || o.Stats() != want {
		t.Errorf("stats %+v (Stats() %+v), want %+v", st, o.Stats(), want)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != ErrOriginClosed {
		t.Errorf("second Close: %v", err)
	}
}

func TestOriginConfigValidate(t *testing.T) {
	for _, c := range []OriginConfig{
		{Objects: 0, MaxSize: 1, MaxAge: time.Second},
		{Objects: 1, MaxSize: 0, MaxAge: time.Second},
		{Objects: 1, MaxSize: 2 << 30, MaxAge: time.Second},
		{Objects: 1, MaxSize: 1, MaxAge: -time.Second},
		{Objects: 1, MaxSize: 1, MaxAge: 1500 * time.Millisecond},
	} {
		if _, err := StartOrigin("127.0.0.1:0", c); err == nil {
			t.Errorf("StartOrigin(%+v) accepted it", c)
		}
	}
}

// memCache is a minimal caching proxy for the tests: it stores every 200
// by path, forever, and marks answers X-Cache: HIT or MISS.
type memCache struct {
	origin string
	mu     sync.Mutex // protects store
	store  map[string][]byte
}

func (m *memCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	b, ok := m.store[r.URL.Path]
	m.mu.Unlock()
	if ok {
		w.Header().Set("X-Cache", "HIT")
		_, _ = w.Write(b)
		return
	}
	resp, err := http.Get(m.origin + r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	b, err = io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if resp.StatusCode == 200 && r.URL.Path != StatsPath {
		m.mu.Lock()
		m.store[r.URL.Path] = b
		m.mu.Unlock()
	}
	w.Header().Set("X-Cache", "MISS")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(b)
}

func runConfig(t *testing.T, o *Origin, targets ...string) Config {
	cfg := DefaultConfig()
	cfg.Seed = uint64(time.Now().UnixNano())
	t.Logf("seed %d", cfg.Seed)
	cfg.Targets = targets
	cfg.OriginStats = "http://" + o.Addr() + StatsPath
	cfg.Objects = 200
	cfg.Sizes = []SizeClass{{Bytes: 100, Weight: 3}, {Bytes: 10 << 10, Weight: 1}}
	cfg.Concurrency = 4
	cfg.Warmup = 0
	cfg.Duration = 300 * time.Millisecond
	cfg.RequestTimeout = 5 * time.Second
	return cfg
}

func TestRunAgainstOriginDirectly(t *testing.T) {
	o := startOrigin(t, DefaultOriginConfig())
	cfg := runConfig(t, o, "http://"+o.Addr())
	cfg.PathPrefix = "/direct"
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Hits != 0 || res.HitRatio != 0 {
		t.Fatalf("no cache: %d requests, %d errors (%s), %d hits", res.Requests, res.Errors, res.FirstError, res.Hits)
	}
	if res.Origin == nil || res.Origin.Requests < res.Requests || res.Origin.HitRatio != 0 {
		t.Errorf("origin delta %+v for %d requests: every request must reach the origin", res.Origin, res.Requests)
	}
	var perSize int64
	for _, s := range res.PerSize {
		perSize += s.Requests
	}
	if perSize != res.Requests || len(res.PerSize) != 2 {
		t.Errorf("per size %+v, total %d", res.PerSize, res.Requests)
	}
	if res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("latency %+v", res.Latency)
	}
	if res.Throughput <= 0 || res.BytesPerSec <= 0 || res.Bytes <= 0 {
		t.Errorf("throughput %v req/s, %v B/s, %d bytes", res.Throughput, res.BytesPerSec, res.Bytes)
	}
	b, err := json.Marshal(res)
	if err != nil || !bytes.Contains(b, []byte(`"origin_requests":`)) || !bytes.Contains(b, []byte(`"p99_ms":`)) {
		t.Errorf("JSON %s: %v", b, err)
	}
	var table strings.Builder
	if err := WriteTable(&table, res); err != nil || !strings.Contains(table.String(), "hit ratio") {
		t.Errorf("table %q: %v", table.String(), err)
	}
}

func TestRunThroughACacheCountsHits(t *testing.T) {
	o := startOrigin(t, DefaultOriginConfig())
	cache := &memCache{origin: "http://" + o.Addr(), store: map[string][]byte{}}
	c1 := httptest.NewServer(cache)
	defer c1.Close()
	c2 := httptest.NewServer(cache) // two targets, one store
	defer c2.Close()
	cfg := runConfig(t, o, c1.URL, c2.URL+"/")
	cfg.Objects = 20
	// Long enough for 40 requests on a loaded machine under -race (300ms
	// gave 22 once during a full make test).
	cfg.Duration = 2 * time.Second
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests < 40 {
		t.Fatalf("%d requests, %d errors (%s)", res.Requests, res.Errors, res.FirstError)
	}
	// memCache does not coalesce: each of the 20 objects misses at most once
	// per worker. Every miss is one origin request (the origin's count is
	// exact with no warmup), plus at most one per worker cut at the end.
	c := int64(cfg.Concurrency)
	misses := res.Requests - res.Hits
	if misses > 20*c {
		t.Errorf("%d hits of %d requests over 20 objects", res.Hits, res.Requests)
	}
	if res.Origin == nil || res.Origin.Requests < misses || res.Origin.Requests > misses+c {
		t.Errorf("origin delta %+v, %d misses by the headers", res.Origin, misses)
	}
}

func TestRunDetectsWrongBodies(t *testing.T) {
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 100))
	}))
	defer liar.Close()
	cfg := DefaultConfig()
	cfg.Targets = []string{liar.URL}
	cfg.Sizes = []SizeClass{{Bytes: 100, Weight: 1}}
	cfg.Concurrency, cfg.Warmup, cfg.Duration = 1, 0, 50*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != res.Requests || !strings.Contains(res.FirstError, "not the object's") {
		t.Errorf("%d requests, %d errors, first %q", res.Requests, res.Errors, res.FirstError)
	}
}

func TestStormReachesTheOriginOncePerRequestWithoutACache(t *testing.T) {
	o := startOrigin(t, DefaultOriginConfig())
	cfg := runConfig(t, o, "http://"+o.Addr())
	cfg.Storm, cfg.Concurrency, cfg.StormObject = true, 16, 5
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "storm" || res.Requests != 16 || res.Errors != 0 || res.Origin == nil || res.Origin.Requests != 16 {
		t.Fatalf("storm: mode %s, %d requests, %d errors (%s), origin %+v", res.Mode, res.Requests, res.Errors, res.FirstError, res.Origin)
	}
	// Through a cache that has the object, the origin sees none.
	cache := &memCache{origin: "http://" + o.Addr(), store: map[string][]byte{}}
	c := httptest.NewServer(cache)
	defer c.Close()
	get(t, c.URL+ObjectPath("", 5, sizeOf(cfg.Sizes, 5)))
	cfg.Targets = []string{c.URL}
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Hits != 16 || res.Origin.Requests != 0 {
		t.Errorf("warm storm: %d hits, origin %+v", res.Hits, res.Origin)
	}
}

func TestRunFailsOnUnreachableTarget(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	addr := ln.URL
	ln.Close()
	cfg := DefaultConfig()
	cfg.Targets = []string{addr}
	cfg.RequestTimeout = 2 * time.Second
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "connecting") {
		t.Errorf("Run against a closed port: %v", err)
	}
}
