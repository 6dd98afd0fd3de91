package queuechaos

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"

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
	ns, err := dialNodes(env)
	if err != nil {
		for _, q := range cfg.queues() {
			env.History.Event(chaos.Op{Client: cfg.clientBase + 300, Kind: KindDrainEnd, Value: q, Rev: -1, Err: err.Error()})
		}
		return
	}
	defer ns.close()
	ctx, cancel := context.WithTimeout(ctx, cfg.drainTimeout)
	defer cancel()
	start := time.Now()
	var last atomic.Int64 // the time of the latest delivery of any queue, ns since start
	quiet := func() bool { return time.Since(start)-time.Duration(last.Load()) >= cfg.drainQuiet }
	var wg sync.WaitGroup
	for i, q := range cfg.queues() {
		id := cfg.clientBase + 300 + i
		ackPoison := q != cfg.name // poison is acked only in the dead letter queue
		wg.Go(func() {
			pick := i
			for ctx.Err() == nil && !quiet() {
				ds, ok := receiveFrom(env, ns, pick, cfg, id, q, drainBatch)
				if !ok {
					pick++
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
				if len(ack) > 0 && !ackAll(env, ns, pick, cfg, id, q, ack) {
					pick++
				}
			}
			emptied := quiet()
			count, err := queueCount(ns, pick, cfg, q)
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
// delayed), from node pick on, moving to the next node after a failure, for up
// to 10 s; -1 and the last error when none answered.
func queueCount(ns *nodes, pick int, cfg config, q string) (int64, error) {
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for ; time.Now().Before(deadline); pick++ {
		rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		var resp *queuedv1.GetQueueResponse
		resp, err = ns.queue(pick).GetQueue(rctx, &queuedv1.GetQueueRequest{Name: q})
		cancel()
		if err == nil {
			st := resp.GetQueue().GetStats()
			return st.GetVisible() + st.GetInFlight() + st.GetDelayed(), nil
		}
		chaos.Hold(context.Background(), 100*time.Millisecond)
	}
	return -1, err
}
