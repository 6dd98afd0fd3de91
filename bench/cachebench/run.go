package cachebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/cached/client"
)

// driver is one client's way to the cache.
type driver interface {
	get(ctx context.Context, key string) (bool, error)
	mget(ctx context.Context, keys []string) (map[string]bool, error)
	set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	close()
}

// grpcDriver goes through the shared smart client.
type grpcDriver struct{ c *client.Client }

func (d grpcDriver) get(ctx context.Context, key string) (bool, error) {
	_, ok, err := d.c.Get(ctx, key)
	return ok, err
}

func (d grpcDriver) mget(ctx context.Context, keys []string) (map[string]bool, error) {
	got, err := d.c.MGet(ctx, keys...)
	out := make(map[string]bool, len(got))
	for k := range got {
		out[k] = true
	}
	return out, err
}

func (d grpcDriver) set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	_, err := d.c.Set(ctx, key, val, client.WithTTL(ttl))
	return err
}

func (grpcDriver) close() {}

// Run performs one run and returns its result. It fails when cfg is invalid,
// the target cannot be reached, preloading fails or ctx ends (with the
// partial result). Failed requests of the measured phase are counted in
// Result.Errors.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	var c *client.Client
	drivers := make([]driver, cfg.Clients)
	defer func() {
		for _, d := range drivers {
			if d != nil {
				d.close()
			}
		}
	}()
	if cfg.Target == TargetCached {
		var err error
		c, err = client.New(client.Config{Endpoints: cfg.Endpoints, RequestTimeout: cfg.RequestTimeout, TLS: cfg.TLS})
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		for i := range drivers {
			drivers[i] = grpcDriver{c}
		}
	} else {
		for i := range drivers {
			d, err := dialRESP(ctx, cfg.Endpoints[0])
			if err != nil {
				return Result{}, fmt.Errorf("cachebench: connect to %s: %w", cfg.Endpoints[0], err)
			}
			drivers[i] = d
		}
	}
	keys := makeKeys(cfg.Keys, cfg.KeySize)
	val := make([]byte, cfg.ValSize)
	for i := range val {
		val[i] = 'a' + byte(i%26)
	}
	if cfg.Scenario == ScenarioGet {
		if err := preload(ctx, drivers, cfg, keys, val); err != nil {
			return Result{}, err
		}
	}
	res, err := measure(ctx, drivers, cfg, keys, val)
	res.Target = cfg.Target
	if c != nil {
		if nodes, serr := c.Stats(context.WithoutCancel(ctx)); serr == nil {
			for _, n := range nodes {
				res.Nodes = append(res.Nodes, NodeResult{ID: n.Member.ID, Items: n.Stats.GetItems(), Bytes: n.Stats.GetBytes(),
					MaxBytes: n.Stats.GetMaxBytes(), Evictions: n.Stats.GetEvictions()})
			}
		}
	}
	return res, err
}

func makeKeys(n, size int) []string {
	keys := make([]string, n)
	for i := range keys {
		s := strconv.Itoa(i)
		b := make([]byte, size)
		for j := range b {
			b[j] = '0'
		}
		copy(b[size-len(s):], s)
		keys[i] = string(b)
	}
	return keys
}

func preload(ctx context.Context, drivers []driver, cfg Config, keys []string, val []byte) error {
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for w := range min(cfg.Clients, len(keys)) {
		d := drivers[w]
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) || ctx.Err() != nil || firstErr.Load() != nil {
					return
				}
				if err := d.set(ctx, keys[i], val, cfg.TTL); err != nil {
					err = fmt.Errorf("cachebench: preload %q: %w", keys[i], err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}

type clientStats struct {
	lat                         []time.Duration
	reads, writes, hits, misses int
	errors                      int
	firstErr                    error
}

func measure(ctx context.Context, drivers []driver, cfg Config, keys []string, val []byte) (Result, error) {
	stats := make([]clientStats, cfg.Clients)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for ci := range cfg.Clients {
		st := &stats[ci]
		d := drivers[ci]
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(ci)+1))
		pick := func() string { return keys[rng.IntN(len(keys))] }
		if cfg.Zipf > 1 {
			z := rand.NewZipf(rng, cfg.Zipf, 1, uint64(len(keys)-1))
			pick = func() string { return keys[z.Uint64()] }
		}
		batch := make([]string, cfg.Batch)
		wg.Go(func() {
			for next.Add(1) <= int64(cfg.Total) && ctx.Err() == nil {
				rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				t0 := time.Now()
				var err error
				switch {
				case cfg.Scenario == ScenarioSet:
					err = d.set(rctx, pick(), val, cfg.TTL)
					st.writes++
				case cfg.Batch == 1:
					k := pick()
					var ok bool
					ok, err = d.get(rctx, k)
					st.reads++
					if err == nil && ok {
						st.hits++
					} else if err == nil {
						st.misses++
						if cfg.Scenario == ScenarioAside {
							err = d.set(rctx, k, val, cfg.TTL)
							st.writes++
						}
					}
				default:
					for i := range batch {
						batch[i] = pick()
					}
					var got map[string]bool
					got, err = d.mget(rctx, batch)
					st.reads += len(batch)
					for _, k := range batch {
						if _, ok := got[k]; ok {
							st.hits++
						} else if err == nil {
							st.misses++
							if cfg.Scenario == ScenarioAside {
								if serr := d.set(rctx, k, val, cfg.TTL); serr != nil && err == nil {
									err = serr
								}
								st.writes++
							}
						}
					}
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
				st.lat = append(st.lat, lat)
			}
		})
	}
	wg.Wait()
	res := summarize(cfg, stats, time.Since(start))
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("cachebench: run interrupted: %w", err)
	}
	return res, nil
}

func summarize(cfg Config, stats []clientStats, elapsed time.Duration) Result {
	res := Result{Scenario: cfg.Scenario, Clients: cfg.Clients, Batch: cfg.Batch, Zipf: cfg.Zipf, Keys: cfg.Keys, Duration: elapsed}
	var all []time.Duration
	for _, s := range stats {
		all = append(all, s.lat...)
		res.Reads += s.reads
		res.Writes += s.writes
		res.Hits += s.hits
		res.Misses += s.misses
		res.Errors += s.errors
		if s.firstErr != nil && res.FirstError == "" {
			res.FirstError = s.firstErr.Error()
		}
	}
	res.Requests = len(all) + res.Errors
	if res.Hits+res.Misses > 0 {
		res.HitRatio = float64(res.Hits) / float64(res.Hits+res.Misses)
	}
	if elapsed > 0 {
		res.Throughput = float64(len(all)) / elapsed.Seconds()
	}
	if len(all) > 0 {
		slices.Sort(all)
		pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		res.Latency = Latency{Mean: sum / time.Duration(len(all)), P50: pct(0.5), P99: pct(0.99), P999: pct(0.999), Max: all[len(all)-1]}
	}
	return res
}
