package queuebench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// headerBytes is the part of every body the benchmark reads back: the send
// time in Unix nanoseconds and the message's number.
const headerBytes = 16

// Run performs one run as cfg describes. It returns an error when cfg is
// invalid, when the service cannot be reached or set up, when the consumers
// stall (no delivery within RequestTimeout while messages are missing), or
// when ctx ends (with the partial result). Failed sends in the measured phase
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
		return Result{}, fmt.Errorf("queuebench: setup: %w", err)
	}
	producers, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Producers, d.NewProducer)
	if err != nil {
		return Result{}, fmt.Errorf("queuebench: connecting: %w", err)
	}
	defer benchrun.CloseAll(producers)
	r := &run{cfg: cfg, res: Result{Scenario: cfg.Scenario, Target: cfg.Target, Producers: cfg.Producers, MessageBytes: cfg.MessageBytes}}
	switch cfg.Scenario {
	case ScenarioPublish:
		err = r.publish(ctx, producers, true)
	case ScenarioConsume:
		if err = r.fill(ctx, producers); err != nil {
			return r.res, fmt.Errorf("queuebench: filling the queue: %w", err)
		}
		err = r.withConsumers(ctx, d, func(consumers []Consumer) error { return r.consume(ctx, consumers) })
	case ScenarioE2E:
		err = r.withConsumers(ctx, d, func(consumers []Consumer) error {
			errc := make(chan error, 1)
			go func() { errc <- r.consume(ctx, consumers) }()
			perr := r.publish(ctx, producers, true)
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
	sendLat  []time.Duration
	e2eLat   []time.Duration
	firstErr error
}

func (r *run) withConsumers(ctx context.Context, d Driver, f func([]Consumer) error) error {
	consumers, err := benchrun.OpenAll(ctx, r.cfg.RequestTimeout, r.cfg.Consumers, d.NewConsumer)
	if err != nil {
		return fmt.Errorf("queuebench: connecting: %w", err)
	}
	defer benchrun.CloseAll(consumers)
	return f(consumers)
}

// publish sends Total messages from the producers, measured or not.
func (r *run) publish(ctx context.Context, producers []Producer, measured bool) error {
	var next atomic.Int64
	total := int64(r.cfg.Total)
	start := time.Now()
	var wg sync.WaitGroup
	lats := make([][]time.Duration, len(producers))
	errs := make([]int, len(producers))
	var firstErr atomic.Pointer[error]
	for i, p := range producers {
		wg.Go(func() {
			body := make([]byte, r.cfg.MessageBytes)
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > total {
					return
				}
				binary.BigEndian.PutUint64(body[8:], uint64(n))
				t0 := time.Now()
				binary.BigEndian.PutUint64(body, uint64(t0.UnixNano()))
				sctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
				err := p.Send(sctx, body)
				cancel()
				if err != nil {
					errs[i]++
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				lats[i] = append(lats[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if !measured {
		if e := firstErr.Load(); e != nil {
			return fmt.Errorf("%d sends failed, e.g.: %w", sum(errs), *e)
		}
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range producers {
		r.sendLat = append(r.sendLat, lats[i]...)
		r.res.Errors += errs[i]
	}
	r.res.Sent = len(r.sendLat)
	r.res.SendDuration = elapsed
	if e := firstErr.Load(); e != nil && r.firstErr == nil {
		r.firstErr = *e
	}
	return ctx.Err()
}

// fillBatch is the batch size of the consume scenario's fill where the
// producers can send batches.
const fillBatch = 100

// fill puts Total messages in the queue for the consume scenario, in batches
// when the producers can send them (not measured).
func (r *run) fill(ctx context.Context, producers []Producer) error {
	if _, ok := producers[0].(BatchSender); !ok {
		return r.publish(ctx, producers, false)
	}
	var next atomic.Int64
	total := int64(r.cfg.Total)
	errs := make([]error, len(producers))
	var wg sync.WaitGroup
	for i, p := range producers {
		bs := p.(BatchSender)
		wg.Go(func() {
			for ctx.Err() == nil {
				hi := next.Add(fillBatch)
				lo := hi - fillBatch
				if lo >= total {
					return
				}
				bodies := make([][]byte, min(hi, total)-lo)
				for k := range bodies {
					bodies[k] = make([]byte, r.cfg.MessageBytes)
					binary.BigEndian.PutUint64(bodies[k][8:], uint64(lo)+uint64(k)+1)
					binary.BigEndian.PutUint64(bodies[k], uint64(time.Now().UnixNano()))
				}
				sctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
				err := bs.SendBatch(sctx, bodies)
				cancel()
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// consume receives until Total deliveries arrived, measuring the drain rate
// and the end-to-end latency.
func (r *run) consume(ctx context.Context, consumers []Consumer) error {
	var got atomic.Int64
	total := int64(r.cfg.Total)
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
				body, err := c.Next(nctx)
				ncancel()
				if err != nil {
					if cctx.Err() == nil {
						err = fmt.Errorf("consumer %d: %w", i, err)
						stalled.CompareAndSwap(nil, &err)
						cancel()
					}
					return
				}
				if len(body) >= headerBytes {
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(body)))
					lats[i] = append(lats[i], time.Since(sent))
				}
				if got.Add(1) >= total {
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
	r.res.Received = int(min(got.Load(), total))
	r.res.ReceiveDuration = elapsed
	if e := stalled.Load(); e != nil && got.Load() < total {
		return *e
	}
	return ctx.Err()
}

func (r *run) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Consumers = r.cfg.Consumers
	if r.cfg.Scenario == ScenarioPublish {
		r.res.Consumers = 0
	}
	if r.res.SendDuration > 0 {
		r.res.SendRate = float64(r.res.Sent) / r.res.SendDuration.Seconds()
	}
	if r.res.ReceiveDuration > 0 {
		r.res.ReceiveRate = float64(r.res.Received) / r.res.ReceiveDuration.Seconds()
	}
	r.res.SendLatency = summarize(r.sendLat)
	if r.cfg.Scenario == ScenarioE2E {
		r.res.E2ELatency = summarize(r.e2eLat)
	}
	if r.firstErr != nil {
		r.res.FirstError = r.firstErr.Error()
	}
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
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
