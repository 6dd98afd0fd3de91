package lockbench

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

	"cairn.dev/cairn/bench/benchrun"
)

// Run performs one run as cfg describes. It returns an error when cfg is
// invalid, when the service cannot be reached or a Locker cannot be created,
// or when ctx ends (with the partial result). Failed cycles during the
// measured phase are counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	d, err := NewDriver(cfg)
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	lockers := make([]Locker, cfg.Clients)
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for _, l := range lockers {
			if l != nil {
				wg.Go(func() { _ = l.Close(cctx) })
			}
		}
		wg.Wait()
	}()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		setup   error
	)
	for i := range lockers {
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
			defer cancel()
			l, err := d.NewLocker(sctx, i)
			if err != nil {
				errOnce.Do(func() { setup = fmt.Errorf("lockbench: client %d: %w", i, err) })
				return
			}
			lockers[i] = l
		})
	}
	wg.Wait()
	if setup != nil {
		return Result{}, setup
	}
	return measure(ctx, cfg, lockers)
}

// clientStats is what one client measured; owned by its client until the end.
type clientStats struct {
	cycles   []time.Duration // acquire+release
	acquires []time.Duration
	handoffs []time.Duration
	errors   int
	firstErr error
}

func measure(ctx context.Context, cfg Config, lockers []Locker) (Result, error) {
	stats := make([]clientStats, len(lockers))
	var next atomic.Int64
	total := int64(cfg.Total)
	// The contended scenario's hand-off clock: when the holder invoked its
	// release, in ns since start; -1 when the lock has not been released since
	// the last grant was measured.
	var released atomic.Int64
	released.Store(-1)
	start := time.Now()
	var wg sync.WaitGroup
	for c, l := range lockers {
		st := &stats[c]
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c)+1))
		wg.Go(func() {
			for next.Add(1) <= total && ctx.Err() == nil {
				var name string
				switch cfg.Scenario {
				case ScenarioUncontended:
					name = cfg.Prefix + "u/" + strconv.Itoa(c)
				case ScenarioContended:
					name = cfg.Prefix + "c"
				default:
					name = cfg.Prefix + "m/" + strconv.Itoa(rng.IntN(cfg.Locks))
				}
				rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				t0 := time.Now()
				_, err := l.Lock(rctx, name)
				t1 := time.Now()
				cancel()
				if err != nil {
					st.fail(err)
					continue
				}
				if cfg.Scenario == ScenarioContended {
					if r := released.Swap(-1); r >= 0 {
						st.handoffs = append(st.handoffs, t1.Sub(start)-time.Duration(r))
					}
					released.Store(int64(time.Since(start))) // the release is invoked now
				}
				rctx, cancel = context.WithTimeout(ctx, cfg.RequestTimeout)
				err = l.Unlock(rctx, name)
				t2 := time.Now()
				cancel()
				if err != nil {
					if cfg.Scenario == ScenarioContended {
						released.Store(-1)
					}
					st.fail(err)
					continue
				}
				st.acquires = append(st.acquires, t1.Sub(t0))
				st.cycles = append(st.cycles, t2.Sub(t0))
			}
		})
	}
	wg.Wait()
	res := summarize(cfg, stats, time.Since(start))
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("lockbench: run interrupted: %w", err)
	}
	return res, nil
}

func (st *clientStats) fail(err error) {
	st.errors++
	if st.firstErr == nil {
		st.firstErr = err
	}
}

func summarize(cfg Config, stats []clientStats, elapsed time.Duration) Result {
	res := Result{Scenario: cfg.Scenario, Target: cfg.Target, Clients: cfg.Clients, Duration: elapsed}
	var cycles, acquires, handoffs []time.Duration
	var errs []error
	for i := range stats {
		st := &stats[i]
		cycles = append(cycles, st.cycles...)
		acquires = append(acquires, st.acquires...)
		handoffs = append(handoffs, st.handoffs...)
		res.Errors += st.errors
		if st.firstErr != nil && len(errs) == 0 {
			errs = append(errs, st.firstErr)
		}
	}
	res.Cycles = len(cycles)
	if len(errs) > 0 {
		res.FirstError = errors.Join(errs...).Error()
	}
	if elapsed > 0 {
		res.Throughput = float64(len(cycles)) / elapsed.Seconds()
	}
	res.Cycle = latencyOf(cycles)
	res.Acquire = latencyOf(acquires)
	res.Handoff = latencyOf(handoffs)
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
	return Latency{N: len(d), Mean: sum / time.Duration(len(d)), P50: benchrun.Percentile(d, 0.50), P99: benchrun.Percentile(d, 0.99), Max: d[len(d)-1]}
}
