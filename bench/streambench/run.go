package streambench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// headerBytes is the part of every value the benchmark reads back: the
// record's creation time in Unix nanoseconds and its number.
const headerBytes = 16

// maxLatencySamples bounds the end-to-end latencies kept: beyond it, every
// k-th record is sampled.
const maxLatencySamples = 2_000_000

// Run performs one run as cfg describes. It returns an error when cfg is
// invalid, when the service cannot be reached or set up, when the consumers
// stall (no record within RequestTimeout while some are missing), or when
// ctx ends (with the partial result). Failed produces in the measured phase
// are counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	d, err := NewDriver(cfg)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Teardown(tctx)
	}()
	sctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	err = d.Setup(sctx)
	cancel()
	if err != nil {
		return Result{}, fmt.Errorf("streambench: setup: %w", err)
	}
	producers, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Producers, d.NewProducer)
	if err != nil {
		return Result{}, fmt.Errorf("streambench: connecting: %w", err)
	}
	defer benchrun.CloseAll(producers)
	r := newRun(cfg)
	switch cfg.Scenario {
	case ScenarioProduce, ScenarioGrowth:
		err = r.produce(ctx, producers, true)
	case ScenarioConsume:
		if err = r.produce(ctx, producers, false); err != nil {
			return r.res, fmt.Errorf("streambench: filling the topic: %w", err)
		}
		err = r.withConsumers(ctx, d, func(consumers []Consumer) error { return r.consume(ctx, consumers) })
	case ScenarioE2E:
		err = r.withConsumers(ctx, d, func(consumers []Consumer) error {
			errc := make(chan error, 1)
			go func() { errc <- r.consume(ctx, consumers) }()
			perr := r.produce(ctx, producers, true)
			return errors.Join(perr, <-errc)
		})
	}
	r.finish()
	return r.res, err
}

// run accumulates one run's measurements.
type run struct {
	cfg Config

	mu       sync.Mutex // protects the fields below
	res      Result
	batchLat []time.Duration
	e2eLat   []time.Duration
	firstErr error
}

func newRun(cfg Config) *run {
	return &run{cfg: cfg, res: Result{
		Scenario: cfg.Scenario, Target: cfg.Target, Acks: cfg.Acks, Partitions: cfg.Partitions,
		Replication: cfg.Replication, Producers: cfg.Producers, RecordBytes: cfg.RecordBytes,
		BatchRecords: cfg.batchRecords(), Group: cfg.Group && cfg.Target == TargetStreamd,
	}}
}

func (r *run) withConsumers(ctx context.Context, d Driver, f func([]Consumer) error) error {
	consumers, err := benchrun.OpenAll(ctx, r.cfg.RequestTimeout, r.cfg.Consumers, func(ctx context.Context, i int) (Consumer, error) {
		return d.NewConsumer(ctx, i, r.cfg.Consumers)
	})
	if err != nil {
		return fmt.Errorf("streambench: connecting: %w", err)
	}
	defer benchrun.CloseAll(consumers)
	return f(consumers)
}

// sender is one producer's batches to one partition: records are numbered
// from 0 to quota-1 and, when the run is paced, record j arrives at
// start + j/rate.
type sender struct {
	producer  Producer
	partition int32
	id        uint64 // the high bits of its records' numbers
	quota     int
	rate      float64 // records per second, 0 for unpaced
}

// produce sends Total records, measured or not (the consume scenario's
// fill). Every producer has a sender per partition, so a producer keeps up
// to Partitions batches in flight.
func (r *run) produce(ctx context.Context, producers []Producer, measured bool) error {
	cfg := r.cfg
	nSenders := len(producers) * cfg.Partitions
	var senders []sender
	for i, p := range producers {
		for part := range cfg.Partitions {
			k := i*cfg.Partitions + part
			q := cfg.Total / nSenders
			if k < cfg.Total%nSenders {
				q++
			}
			senders = append(senders, sender{producer: p, partition: int32(part), id: uint64(k) << 40, quota: q, rate: cfg.Rate / float64(nSenders)})
		}
	}
	var acked, errCount atomic.Int64
	var firstErr atomic.Pointer[error]
	start := time.Now()
	stopSampler := func() {}
	if measured && cfg.Scenario == ScenarioGrowth {
		stopSampler = r.sample(start, &acked)
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			r.send(ctx, s, start, measured, &acked, &errCount, &firstErr)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopSampler()
	if !measured {
		if e := firstErr.Load(); e != nil {
			return fmt.Errorf("%d produces failed, e.g.: %w", errCount.Load(), *e)
		}
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Produced = acked.Load()
	r.res.Errors += errCount.Load()
	r.res.ProduceDuration = elapsed
	if e := firstErr.Load(); e != nil && r.firstErr == nil {
		r.firstErr = *e
	}
	return ctx.Err()
}

// send runs one sender until its quota is sent (acknowledged or failed).
func (r *run) send(ctx context.Context, s sender, start time.Time, measured bool, acked, errCount *atomic.Int64, firstErr *atomic.Pointer[error]) {
	cfg := r.cfg
	full := cfg.batchRecords()
	arrival := func(j int) time.Time {
		return start.Add(time.Duration(float64(j) / s.rate * float64(time.Second)))
	}
	for j := 0; j < s.quota && ctx.Err() == nil; {
		n := min(full, s.quota-j)
		if s.rate > 0 {
			// The accumulator: wait for the batch's first record, then
			// until the batch is full or the first record lingered long
			// enough, whichever is first.
			first := arrival(j)
			if !sleepUntil(ctx, first) {
				return
			}
			if last := arrival(j + n - 1); last.After(first.Add(cfg.Linger)) {
				if !sleepUntil(ctx, first.Add(cfg.Linger)) {
					return
				}
				arrived := int(math.Floor(time.Since(start).Seconds()*s.rate)) + 1 - j
				n = max(1, min(n, arrived))
			} else if !sleepUntil(ctx, last) {
				return
			}
		}
		buf := make([]byte, n*cfg.RecordBytes)
		values := make([][]byte, n)
		now := time.Now()
		for k := range values {
			v := buf[k*cfg.RecordBytes : (k+1)*cfg.RecordBytes : (k+1)*cfg.RecordBytes]
			ts := now
			if s.rate > 0 {
				ts = arrival(j + k)
			}
			binary.BigEndian.PutUint64(v, uint64(ts.UnixNano()))
			binary.BigEndian.PutUint64(v[8:], s.id|uint64(j+k))
			values[k] = v
		}
		sctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
		t0 := time.Now()
		err := s.producer.Send(sctx, s.partition, values)
		lat := time.Since(t0)
		cancel()
		j += n
		if err != nil {
			errCount.Add(int64(n))
			firstErr.CompareAndSwap(nil, &err)
			continue
		}
		if measured {
			r.mu.Lock()
			r.batchLat = append(r.batchLat, lat)
			r.mu.Unlock()
		}
		acked.Add(int64(n))
	}
}

// sleepUntil waits until t or until ctx ends; it reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sample records a Sample each time the acknowledged volume passes a
// multiple of Interval, until the returned function is called.
func (r *run) sample(start time.Time, acked *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		next := r.cfg.Interval
		lastT, lastN := start, int64(0)
		lastLat := 0
		take := func(now time.Time, n int64) {
			r.mu.Lock()
			lat := summarize(r.batchLat[lastLat:])
			lastLat = len(r.batchLat)
			dt := now.Sub(lastT).Seconds()
			rate := float64(n-lastN) / dt
			r.res.Samples = append(r.res.Samples, Sample{
				StoredBytes: n * int64(r.cfg.RecordBytes), Elapsed: now.Sub(start),
				Rate: rate, MiBps: rate * float64(r.cfg.RecordBytes) / (1 << 20), ProduceLatency: lat,
			})
			r.mu.Unlock()
			lastT, lastN = now, n
		}
		for {
			select {
			case <-done:
				if n := acked.Load(); n > lastN {
					take(time.Now(), n)
				}
				return
			case now := <-tick.C:
				if n := acked.Load(); n*int64(r.cfg.RecordBytes) >= next {
					take(now, n)
					for next <= n*int64(r.cfg.RecordBytes) {
						next += r.cfg.Interval
					}
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// consume receives until Total distinct records arrived, measuring the
// rate and, in e2e, the latency from each record's creation.
func (r *run) consume(ctx context.Context, consumers []Consumer) error {
	total := int64(r.cfg.Total)
	every := max(1, total/maxLatencySamples)
	e2e := r.cfg.Scenario == ScenarioE2E
	highest := make([]atomic.Int64, r.cfg.Partitions)
	for i := range highest {
		highest[i].Store(-1)
	}
	var got, seen atomic.Int64
	start := time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lats := make([][]time.Duration, len(consumers))
	var stalled atomic.Pointer[error]
	var wg sync.WaitGroup
	for i, c := range consumers {
		wg.Go(func() {
			for got.Load() < total {
				nctx, ncancel := context.WithTimeout(cctx, r.cfg.RequestTimeout)
				msgs, err := c.Next(nctx)
				ncancel()
				if err != nil {
					if cctx.Err() == nil {
						err = fmt.Errorf("consumer %d: %w", i, err)
						stalled.CompareAndSwap(nil, &err)
						cancel()
					}
					return
				}
				now := time.Now()
				fresh := int64(0)
				for _, m := range msgs {
					if !advance(&highest[m.Partition], m.Offset) {
						continue // delivered again after a rebalance
					}
					fresh++
					if e2e && len(m.Value) >= headerBytes && (seen.Add(1)%every == 0) {
						sent := time.Unix(0, int64(binary.BigEndian.Uint64(m.Value)))
						lats[i] = append(lats[i], now.Sub(sent))
					}
				}
				if got.Add(fresh) >= total {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range consumers {
		r.e2eLat = append(r.e2eLat, lats[i]...)
	}
	r.res.Consumers = len(consumers)
	r.res.Consumed = min(got.Load(), total)
	r.res.ConsumeDuration = elapsed
	if e := stalled.Load(); e != nil && got.Load() < total {
		return *e
	}
	return ctx.Err()
}

// advance raises *hi to off and reports whether off was above it.
func advance(hi *atomic.Int64, off int64) bool {
	for {
		cur := hi.Load()
		if off <= cur {
			return false
		}
		if hi.CompareAndSwap(cur, off) {
			return true
		}
	}
}

func (r *run) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	mib := float64(r.cfg.RecordBytes) / (1 << 20)
	if r.res.ProduceDuration > 0 {
		r.res.ProduceRate = float64(r.res.Produced) / r.res.ProduceDuration.Seconds()
		r.res.ProduceMiBps = r.res.ProduceRate * mib
	}
	if r.res.ConsumeDuration > 0 {
		r.res.ConsumeRate = float64(r.res.Consumed) / r.res.ConsumeDuration.Seconds()
		r.res.ConsumeMiBps = r.res.ConsumeRate * mib
	}
	r.res.ProduceLatency = summarize(r.batchLat)
	r.res.E2ELatency = summarize(r.e2eLat)
	if r.firstErr != nil {
		r.res.FirstError = r.firstErr.Error()
	}
}

// summarize computes exact (nearest-rank) percentiles.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += d
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latency{N: len(s), Mean: total / time.Duration(len(s)), P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}
