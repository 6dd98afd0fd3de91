package kvbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// fakeRaftKV is an in-memory KVService: enough of raftkv for the benchmark.
type fakeRaftKV struct {
	raftkvv1.UnimplementedKVServiceServer

	mu     sync.Mutex // protects the fields below
	kv     map[string][]byte
	puts   int
	ranges map[raftkvv1.Consistency]int
}

func (f *fakeRaftKV) Put(_ context.Context, req *raftkvv1.PutRequest) (*raftkvv1.PutResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kv[string(req.Key)] = req.Value
	f.puts++
	return &raftkvv1.PutResponse{}, nil
}

func (f *fakeRaftKV) Range(_ context.Context, req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ranges[req.Consistency]++
	resp := &raftkvv1.RangeResponse{}
	if v, ok := f.kv[string(req.Key)]; ok {
		resp.Kvs = append(resp.Kvs, &raftkvv1.KeyValue{Key: req.Key, Value: v})
	}
	return resp, nil
}

func startFakeRaftKV(t *testing.T) (*fakeRaftKV, []string) {
	t.Helper()
	f := &fakeRaftKV{kv: map[string][]byte{}, ranges: map[raftkvv1.Consistency]int{}}
	var addrs []string
	for range 2 {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		raftkvv1.RegisterKVServiceServer(srv, f)
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		addrs = append(addrs, lis.Addr().String())
	}
	return f, addrs
}

func smallConfig(eps []string) Config {
	cfg := DefaultConfig()
	cfg.Endpoints = eps
	cfg.Clients = 8
	cfg.Conns = 3
	cfg.Total = 500
	cfg.Keys = 50
	cfg.ValSize = 16
	return cfg
}

func TestRunCairnAgainstFakeServer(t *testing.T) {
	f, eps := startFakeRaftKV(t)

	cfg := smallConfig(eps)
	cfg.Scenario = ScenarioPut
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || res.Writes != 500 || res.Errors != 0 || f.puts != 500 {
		t.Fatalf("put: %+v (server saw %d puts)", res, f.puts)
	}
	if res.Throughput <= 0 || res.Latency.Max <= 0 || res.Latency.P50 > res.Latency.P99 {
		t.Fatalf("put: implausible measurements %+v", res)
	}
	for k, v := range f.kv {
		if len(k) != cfg.KeySize || len(v) != cfg.ValSize {
			t.Fatalf("key %q value %q: wrong sizes", k, v)
		}
	}

	f.mu.Lock()
	f.kv = map[string][]byte{}
	f.puts = 0
	f.mu.Unlock()
	cfg.Scenario = ScenarioGet
	cfg.Consistency = Serializable
	res, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.puts != cfg.Keys || len(f.kv) != cfg.Keys {
		t.Fatalf("preload wrote %d puts, %d keys; want %d", f.puts, len(f.kv), cfg.Keys)
	}
	if res.Reads != 500 || res.Misses != 0 || res.Errors != 0 || res.Name() != "get/serializable" {
		t.Fatalf("get: %+v", res)
	}
	if got := f.ranges[raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE]; got != 500 {
		t.Fatalf("server saw %d serializable ranges, want 500", got)
	}
}

// countingDriver fails every failEvery-th request.
type countingDriver struct {
	puts, gets atomic.Int64
	failEvery  int64
}

var errInjected = errors.New("injected failure")

func (d *countingDriver) Put(context.Context, []byte, []byte) error {
	if n := d.puts.Add(1); d.failEvery > 0 && n%d.failEvery == 0 {
		return errInjected
	}
	return nil
}

func (d *countingDriver) Get(context.Context, []byte, Consistency) (bool, error) {
	if n := d.gets.Add(1); d.failEvery > 0 && n%d.failEvery == 0 {
		return false, errInjected
	}
	return true, nil
}

func TestRunMixedCountsAndErrors(t *testing.T) {
	d := &countingDriver{}
	cfg := smallConfig([]string{"127.0.0.1:1"}) // never dialed: the driver ignores it
	cfg.NewDriver = func(grpc.ClientConnInterface) Driver { return d }
	cfg.Scenario = ScenarioMixed
	cfg.ReadRatio = 0.75
	cfg.Total = 4000
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.puts.Load(); got < int64(cfg.Keys) {
		t.Fatalf("preload did %d puts, want >= %d", got, cfg.Keys)
	}
	if res.Reads+res.Writes != 4000 || res.Errors != 0 {
		t.Fatalf("%+v", res)
	}
	if frac := float64(res.Reads) / 4000; frac < 0.7 || frac > 0.8 {
		t.Fatalf("read fraction %.3f, want about 0.75", frac)
	}

	d2 := &countingDriver{failEvery: 10}
	cfg.NewDriver = func(grpc.ClientConnInterface) Driver { return d2 }
	cfg.Scenario = ScenarioPut
	res, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 400 || res.Writes != 3600 || res.Requests != 4000 ||
		!strings.Contains(res.FirstError, "injected") {
		t.Fatalf("%+v", res)
	}
	if res.Throughput*res.Duration.Seconds() < 3599 {
		t.Fatalf("throughput %.0f over %v does not count the 3600 successes", res.Throughput, res.Duration)
	}
}

func TestRunPreloadFailure(t *testing.T) {
	cfg := smallConfig([]string{"127.0.0.1:1"})
	cfg.NewDriver = func(grpc.ClientConnInterface) Driver { return &countingDriver{failEvery: 1} }
	cfg.Scenario = ScenarioGet
	if _, err := Run(t.Context(), cfg); !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the preload failure", err)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cfg := smallConfig([]string{"127.0.0.1:1"})
	cfg.NewDriver = func(grpc.ClientConnInterface) Driver { return &countingDriver{} }
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Endpoints = []string{"x:1"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		field string
		mut   func(*Config)
	}{
		{"Scenario", func(c *Config) { c.Scenario = "scan" }},
		{"Target", func(c *Config) { c.Target = "redis" }},
		{"Endpoints", func(c *Config) { c.Endpoints = nil }},
		{"Clients", func(c *Config) { c.Clients = 0 }},
		{"Conns", func(c *Config) { c.Conns = 0 }},
		{"KeySize", func(c *Config) { c.KeySize = 0 }},
		{"KeySize", func(c *Config) { c.KeySize, c.Keys = 2, 101 }},
		{"ValSize", func(c *Config) { c.ValSize = -1 }},
		{"Total", func(c *Config) { c.Total = 0 }},
		{"Keys", func(c *Config) { c.Keys = 0 }},
		{"Consistency", func(c *Config) { c.Consistency = "eventual" }},
		{"ReadRatio", func(c *Config) { c.ReadRatio = 1.5 }},
		{"RequestTimeout", func(c *Config) { c.RequestTimeout = 0 }},
	}
	for _, tt := range tests {
		c := ok
		tt.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", tt.field, err)
		}
	}
}

func TestMakeKeys(t *testing.T) {
	keys := makeKeys(1000, 8)
	seen := map[string]bool{}
	for _, k := range keys {
		if len(k) != 8 || seen[string(k)] {
			t.Fatalf("bad or duplicate key %q", k)
		}
		seen[string(k)] = true
	}
	if string(keys[42]) != "00000042" {
		t.Fatalf("key 42 = %q", keys[42])
	}
	if v := makeValue(256, 1); len(v) != 256 || !bytes.Equal(v, makeValue(256, 1)) {
		t.Fatal("makeValue is not deterministic or has the wrong size")
	}
}

func TestLatencyPercentiles(t *testing.T) {
	d := make([]time.Duration, 1000)
	for i := range d {
		d[i] = time.Duration(1000-i) * time.Millisecond // reversed: latencyOf must sort
	}
	l := latencyOf(d)
	want := Latency{
		Mean: 500500 * time.Microsecond,
		P50:  500 * time.Millisecond,
		P90:  900 * time.Millisecond,
		P99:  990 * time.Millisecond,
		P999: 999 * time.Millisecond,
		Max:  1000 * time.Millisecond,
	}
	if l != want {
		t.Fatalf("latencyOf = %+v, want %+v", l, want)
	}
	if l := latencyOf([]time.Duration{7}); l.P50 != 7 || l.P999 != 7 || l.Max != 7 {
		t.Fatalf("one sample: %+v", l)
	}
	if l := latencyOf(nil); l != (Latency{}) {
		t.Fatalf("no samples: %+v", l)
	}
}

func TestOutputs(t *testing.T) {
	r := Result{
		Scenario: ScenarioGet, Target: TargetEtcd, Consistency: Linearizable,
		Clients: 256, Conns: 16, Requests: 1000, Errors: 2, Reads: 998,
		Duration: 2 * time.Second, Throughput: 499,
		Latency:    Latency{P50: time.Millisecond, P99: 1500 * time.Microsecond, Max: 3 * time.Millisecond},
		FirstError: "boom",
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["throughput"] != 499.0 || m["p99_ms"] != 1.5 || m["consistency"] != "linearizable" || m["total"] != 1000.0 {
		t.Fatalf("json: %s", b)
	}
	var sb strings.Builder
	if err := WriteTable(&sb, r); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{"req/s", "p99.9", "get/linearizable", "1.500ms", "499", "boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
