package kvbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/bench/benchrun"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Run performs one benchmark run as cfg describes and returns its result. It
// returns an error when cfg is invalid, when a connection cannot be set up, when
// preloading fails, or when ctx ends (with the partial result). Failed requests
// during the measured phase are counted in Result.Errors, not returned.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	conns := make([]*grpc.ClientConn, 0, cfg.Conns)
	defer func() {
		for _, cc := range conns {
			cc.Close()
		}
	}()
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, cfg.DialOptions...)
	drivers := make([]Driver, cfg.Conns)
	newDriver := cfg.driverFactory()
	for i := range cfg.Conns {
		ep := cfg.Endpoints[i%len(cfg.Endpoints)]
		cc, err := grpc.NewClient(ep, opts...)
		if err != nil {
			return Result{}, fmt.Errorf("kvbench: connect to %s: %w", ep, err)
		}
		conns = append(conns, cc)
		drivers[i] = newDriver(cc)
		if cfg.Target == TargetCairn && cfg.NewDriver == nil {
			// Writes go through raftkv's Go client, which sends them to the
			// leader as users' writes go; reads stay on the plain connection
			// to one member, as etcd's do here.
			c, err := client.New(client.Config{Endpoints: cfg.Endpoints, TLS: cfg.TLS, RequestTimeout: cfg.RequestTimeout})
			if err != nil {
				return Result{}, fmt.Errorf("kvbench: connect to %v: %w", cfg.Endpoints, err)
			}
			defer c.Close()
			drivers[i] = cairnDriver{kv: raftkvv1.NewKVServiceClient(cc), writes: c}
		}
	}
	return runDrivers(ctx, cfg, drivers)
}

// runDrivers preloads the keys (unless the scenario only writes) and measures.
func runDrivers(ctx context.Context, cfg Config, drivers []Driver) (Result, error) {
	keys := makeKeys(cfg.Keys, cfg.KeySize)
	value := makeValue(cfg.ValSize, cfg.Seed)
	if cfg.Scenario != ScenarioPut {
		if err := preload(ctx, cfg, drivers, keys, value); err != nil {
			return Result{}, err
		}
	}
	return measure(ctx, cfg, drivers, keys, value)
}

// makeKeys returns n distinct keys of size bytes: decimal indexes padded with '0'.
func makeKeys(n, size int) [][]byte {
	buf := make([]byte, n*size)
	keys := make([][]byte, n)
	for i := range n {
		k := buf[i*size : (i+1)*size : (i+1)*size]
		for j := range k {
			k[j] = '0'
		}
		s := strconv.Itoa(i)
		copy(k[size-len(s):], s)
		keys[i] = k
	}
	return keys
}

// makeValue returns size printable pseudo-random bytes.
func makeValue(size int, seed uint64) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(seed, 0x76616c7565))
	v := make([]byte, size)
	for i := range v {
		v[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return v
}

// preload writes every key once, with up to cfg.Clients writers.
func preload(ctx context.Context, cfg Config, drivers []Driver, keys [][]byte, value []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for w := range min(cfg.Clients, len(keys)) {
		d := drivers[w%len(drivers)]
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) || ctx.Err() != nil {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				err := d.Put(rctx, keys[i], value)
				rcancel()
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("kvbench: preload key %q: %w", keys[i], err) })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// clientStats is what one client measured; it is owned by its client until the
// run ends.
type clientStats struct {
	latencies             []time.Duration
	reads, writes, misses int
	errors                int
	firstErr              error
}

func measure(ctx context.Context, cfg Config, drivers []Driver, keys [][]byte, value []byte) (Result, error) {
	stats := make([]clientStats, cfg.Clients)
	perClient := cfg.Total/cfg.Clients + 1
	for i := range stats {
		// Clients draw requests from a shared counter, so a fast one may do more
		// than its share; leave room for that before append has to grow.
		stats[i].latencies = make([]time.Duration, 0, perClient+perClient/4+16)
	}
	var next atomic.Int64
	total := int64(cfg.Total)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		st := &stats[c]
		d := drivers[c%len(drivers)]
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c)+1))
		wg.Go(func() {
			for next.Add(1) <= total && ctx.Err() == nil {
				key := keys[rng.IntN(len(keys))]
				read := cfg.Scenario == ScenarioGet ||
					(cfg.Scenario == ScenarioMixed && rng.Float64() < cfg.ReadRatio)
				rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				var (
					found bool
					err   error
				)
				t0 := time.Now()
				if read {
					found, err = d.Get(rctx, key, cfg.Consistency)
				} else {
					err = d.Put(rctx, key, value)
				}
				lat := time.Since(t0)
				cancel()
				if err != nil {
					st.errors++
					if st.firstErr == nil {
						st.firstErr = err
					}
					continue
				}
				st.latencies = append(st.latencies, lat)
				if read {
					st.reads++
					if !found {
						st.misses++
					}
				} else {
					st.writes++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := summarize(cfg, stats, elapsed)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("kvbench: run interrupted: %w", err)
	}
	return res, nil
}

func summarize(cfg Config, stats []clientStats, elapsed time.Duration) Result {
	res := Result{
		Scenario: cfg.Scenario,
		Target:   cfg.Target,
		Clients:  cfg.Clients,
		Conns:    cfg.Conns,
		Duration: elapsed,
	}
	if cfg.NewDriver != nil {
		res.Target = "custom"
	}
	if cfg.Scenario != ScenarioPut {
		res.Consistency = cfg.Consistency
	}
	n := 0
	for i := range stats {
		n += len(stats[i].latencies)
	}
	all := make([]time.Duration, 0, n)
	var errs []error
	for i := range stats {
		st := &stats[i]
		all = append(all, st.latencies...)
		res.Reads += st.reads
		res.Writes += st.writes
		res.Misses += st.misses
		res.Errors += st.errors
		if st.firstErr != nil && len(errs) == 0 {
			errs = append(errs, st.firstErr)
		}
		st.latencies = nil
	}
	res.Requests = len(all) + res.Errors
	if len(errs) > 0 {
		res.FirstError = errors.Join(errs...).Error()
	}
	if elapsed > 0 {
		res.Throughput = float64(len(all)) / elapsed.Seconds()
	}
	res.Latency = latencyOf(all)
	return res
}

// latencyOf sorts d and returns its summary.
func latencyOf(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{
		Mean: sum / time.Duration(len(d)),
		P50:  benchrun.Percentile(d, 0.50),
		P90:  benchrun.Percentile(d, 0.90),
		P99:  benchrun.Percentile(d, 0.99),
		P999: benchrun.Percentile(d, 0.999),
		Max:  d[len(d)-1],
	}
}
