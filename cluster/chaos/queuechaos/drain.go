package queuechaos

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/queued/client"

	"cairn.dev/cairn/cluster/chaos"
)

// drainBatch is the most messages one receive of the drain asks for.
const drainBatch = 10

// Drain empties the workload's queues once the faults are over: one client per
// queue receives and acks (except poison messages in the source queue, which
// are left to reach the dead letter queue) until no queue has delivered
// anything for DrainQuiet, or DrainTimeout passed. It then records each queue's
// end (KindDrainEnd) with the message count GetQueue reports. Every receive,
// delivery and ack is recorded in the history like the workload's own.
//
// The checkers call it before they judge; only the first call drains, later
// ones return at once. It runs after Run returned (and after the scenario's
// full restart, if it has one), so what it receives survived the faults.
func (w *Queue) Drain(ctx context.Context, env *chaos.Env) {
	w.drainOnce.Do(func() { w.drain(ctx, env) })
}

func (w *Queue) drain(ctx context.Context, env *chaos.Env) {
	cfg := w.config()
	if cfg.drainTimeout <= 0 {
		cfg.drainTimeout = time.Minute + env.Phase
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.drainTimeout)
	defer cancel()
	start := time.Now()
	var last atomic.Int64 // the time of the latest delivery of any queue, ns since start
	quiet := func() bool { return time.Since(start)-time.Duration(last.Load()) >= cfg.drainQuiet }
	var wg sync.WaitGroup
	for i, q := range cfg.queues() {
		id := cfg.clientBase + 300 + i
		ackPoison := q != cfg.name // poison is acked only in the dead letter queue
		c, err := newClient(env, cfg)
		if err != nil {
			env.History.Event(chaos.Op{Client: id, Kind: KindDrainEnd, Value: q, Rev: -1, Err: err.Error()})
			continue
		}
		wg.Go(func() {
			defer c.Close()
			for ctx.Err() == nil && !quiet() {
				ds, ok := receiveFrom(env, c, cfg, id, q, drainBatch)
				if !ok {
					chaos.Hold(ctx, 100*time.Millisecond)
					continue
				}
				if len(ds) > 0 {
					last.Store(int64(time.Since(start)))
				}
				var ack []delivery
				for _, d := range ds {
					if ackPoison || !isPoison(d.body) {
						ack = append(ack, d)
					}
				}
				if len(ack) > 0 {
					ackAll(env, c, cfg, id, q, ack)
				}
			}
			emptied := quiet()
			count, err := queueCount(c, q)
			op := chaos.Op{Client: id, Kind: KindDrainEnd, Value: q, Found: emptied, Rev: count}
			if err != nil {
				op.Err = err.Error()
			}
			env.History.Event(op)
			env.Logger.Info("queuechaos: drained", "queue", q, "emptied", emptied, "left", count, "took", time.Since(start))
		})
	}
	wg.Wait()
}

// queueCount asks for queue q's message count (visible, in flight and
// delayed), retrying for up to 10 s (the client retries reads); -1 and the
// error when no node answered.
func queueCount(c *client.Client, q string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	qu, err := c.GetQueue(ctx, q)
	if err != nil {
		return -1, err
	}
	st := qu.GetStats()
	return st.GetVisible() + st.GetInFlight() + st.GetDelayed(), nil
}
