package kvchaos

import (
	"context"
	"fmt"
	"sort"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Watch is the watch workload: one watcher on Prefix, opened before the other
// workloads write, from the revision after the store's current one. It records
// every event it receives. When the run stops it reads the store's revision and
// keeps consuming until it has seen that revision (at most Drain), so that the
// checker can demand every write.
type Watch struct {
	// Prefix is the watched prefix; default "kv/", the KV workload's.
	Prefix string
	// Client is the client number in the history; default 900.
	Client int
	// Drain bounds the catch-up at the end; default 30s.
	Drain time.Duration
}

// Name implements chaos.Workload.
func (w *Watch) Name() string { return "watch" }

// Kinds implements chaos.Workload.
func (w *Watch) Kinds() chaos.Kinds { return kinds }

func (w *Watch) withDefaults() Watch {
	out := *w
	if out.Prefix == "" {
		out.Prefix = "kv/"
	}
	if out.Client == 0 {
		out.Client = 900
	}
	if out.Drain <= 0 {
		out.Drain = 30 * time.Second
	}
	return out
}

// Run implements chaos.Workload.
func (w *Watch) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	h := env.History
	cl, err := NewClient(env, 5*time.Second)
	if err != nil {
		return err
	}
	defer cl.Close()
	rev, err := currentRevision(ctx, cl, cfg.Prefix, time.Minute)
	if err != nil {
		return fmt.Errorf("chaos: watch: read start revision: %w", err)
	}
	start := rev + 1
	h.Event(chaos.Op{Client: cfg.Client, Kind: KindWatchStart, Key: cfg.Prefix, Rev: start})
	env.Logger.Info("watch: opened", "prefix", cfg.Prefix, "from", start)

	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := cl.Watch(wctx, cfg.Prefix, client.WithPrefix(), client.WithRev(start))
	var (
		seen   = start - 1 // highest revision delivered
		target = int64(-1) // revision to catch up with, once the run stops
		stop   = ctx.Done()
		drain  <-chan time.Time
	)
	end := func(outcome chaos.Outcome, err error) {
		op := chaos.Op{Client: cfg.Client, Kind: KindWatchEnd, Key: cfg.Prefix, Rev: seen, Outcome: outcome}
		if err != nil {
			op.Err = err.Error()
		}
		h.Event(op)
	}
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				end(chaos.Fail, fmt.Errorf("watch channel closed at revision %d", seen))
				return nil
			}
			if err := resp.Err(); err != nil {
				end(chaos.Fail, err)
				return nil
			}
			for _, ev := range resp.GetEvents() {
				kv := ev.GetKv()
				h.Event(chaos.Op{
					Client: cfg.Client, Kind: KindWatchEvent, Key: string(kv.GetKey()), Value: string(kv.GetValue()),
					Rev: kv.GetModRevision(), Delete: ev.GetType() == raftkvv1.Event_EVENT_TYPE_DELETE,
				})
				seen = max(seen, kv.GetModRevision())
			}
			if target >= 0 && seen >= target {
				end(chaos.OK, nil)
				return nil
			}
		case <-stop:
			stop = nil
			target, err = currentRevision(context.Background(), cl, cfg.Prefix, cfg.Drain)
			if err != nil {
				end(chaos.Fail, fmt.Errorf("read final revision: %w", err))
				return nil
			}
			env.Logger.Info("watch: draining", "seen", seen, "store", target)
			if seen >= target {
				end(chaos.OK, nil)
				return nil
			}
			t := time.NewTimer(cfg.Drain)
			defer t.Stop()
			drain = t.C
		case <-drain:
			end(chaos.Fail, fmt.Errorf("watch stalled at revision %d; the store is at %d", seen, target))
			return nil
		}
	}
}

// currentRevision reads the store's revision with a linearizable read, retrying
// for up to timeout.
func currentRevision(ctx context.Context, cl *client.Client, key string, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cl.Get(rctx, key, client.WithPrefix(), client.WithCountOnly())
		rcancel()
		if err == nil {
			return resp.GetHeader().GetRevision(), nil
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(200 * time.Millisecond): // poll interval, not synchronisation
		}
	}
}

// WatchChecker checks the events of the Watch workload against the writes the
// other workloads saw acknowledged and against the final state: revisions
// strictly increase (no event twice, none out of order), every acknowledged
// write under the prefix at or after the watch's start revision is delivered
// with its key, value and revision, every event is a write some client issued,
// and the last event of each key matches the key's final value. With
// Contiguous, every revision from the start to the end must be delivered (true
// when nothing outside the prefix is written).
type WatchChecker struct {
	// Prefix is the watched prefix; default "kv/".
	Prefix     string
	Contiguous bool
}

// Name implements chaos.Checker.
func (c *WatchChecker) Name() string { return "watch" }

// Check implements chaos.Checker.
func (c *WatchChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	prefix := c.Prefix
	if prefix == "" {
		prefix = "kv/"
	}
	var final map[string]Final
	cl, err := NewClient(env, 10*time.Second)
	if err == nil {
		defer cl.Close()
		final, _, err = ReadFinal(ctx, cl, prefix)
	}
	if err != nil {
		return chaos.Verdict{Checker: c.Name(), Err: fmt.Sprintf("read the final state: %v", err)}
	}
	return checkWatch(env.History.Ops(), final, prefix, c.Contiguous)
}

// Final is a key's value and revision at the end of a run.
type Final struct {
	Value string
	Rev   int64
}

// ReadFinal reads every key under prefix with a linearizable read, retrying
// for up to a minute, and returns them with the store's revision. The lockd
// scenarios read their fenced resource with it.
func ReadFinal(ctx context.Context, cl *client.Client, prefix string) (map[string]Final, int64, error) {
	var resp *raftkvv1.RangeResponse
	var err error
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err = cl.Get(rctx, prefix, client.WithPrefix())
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]Final, len(resp.GetKvs()))
	for _, kv := range resp.GetKvs() {
		out[string(kv.GetKey())] = Final{Value: string(kv.GetValue()), Rev: kv.GetModRevision()}
	}
	return out, resp.GetHeader().GetRevision(), nil
}

// checkWatch is the pure part of WatchChecker.
func checkWatch(ops []chaos.Op, final map[string]Final, prefix string, contiguous bool) chaos.Verdict {
	v := chaos.Verdict{Checker: "watch"}
	var (
		start, end int64 = -1, -1
		events     []chaos.Op
		drained    bool
	)
	type kvRev struct {
		key string
		rev int64
	}
	issued := map[string]bool{} // key+"\x00"+value of every write invoked
	for _, op := range ops {
		switch op.Kind {
		case KindWatchStart:
			start = op.Rev
		case KindWatchEvent:
			events = append(events, op)
		case KindWatchEnd:
			end = op.Rev
			drained = op.Outcome == chaos.OK
			if !drained {
				v.Violate("watch did not catch up: %s", op.Err)
			}
		case KindPut, KindCAS, KindPutUnique:
			issued[op.Key+"\x00"+op.Value] = true
		}
	}
	if start < 0 {
		v.Err = "no watch in the history"
		return v
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].ID < events[j].ID })
	delivered := map[kvRev]chaos.Op{}
	revs := map[int64]bool{}
	lastOfKey := map[string]chaos.Op{}
	prev := int64(0)
	for _, ev := range events {
		k := kvRev{ev.Key, ev.Rev}
		if _, dup := delivered[k]; dup {
			v.Violate("event %s@%d delivered twice", ev.Key, ev.Rev)
			continue
		}
		if ev.Rev < prev {
			v.Violate("event %s@%d delivered after revision %d", ev.Key, ev.Rev, prev)
		}
		if ev.Rev < start {
			v.Violate("event %s@%d is older than the watch's start revision %d", ev.Key, ev.Rev, start)
		}
		prev = max(prev, ev.Rev)
		delivered[k] = ev
		revs[ev.Rev] = true
		lastOfKey[ev.Key] = ev
		if !ev.Delete && !issued[ev.Key+"\x00"+ev.Value] {
			v.Violate("event %s=%q@%d matches no write any client issued", ev.Key, ev.Value, ev.Rev)
		}
	}
	acked := 0
	for _, op := range ops {
		if op.Outcome != chaos.OK || op.Rev < start || (end >= 0 && op.Rev > end) {
			continue
		}
		if !(op.Kind == KindPut || op.Kind == KindPutUnique || (op.Kind == KindCAS && op.Succeeded)) {
			continue
		}
		if len(op.Key) < len(prefix) || op.Key[:len(prefix)] != prefix {
			continue
		}
		acked++
		ev, ok := delivered[kvRev{op.Key, op.Rev}]
		switch {
		case !ok:
			v.Violate("acknowledged write %s=%q@%d (op %d) never delivered", op.Key, op.Value, op.Rev, op.ID)
		case ev.Value != op.Value:
			v.Violate("event %s@%d carries %q, the acknowledged write wrote %q", op.Key, op.Rev, ev.Value, op.Value)
		}
	}
	if contiguous && drained {
		for r := start; r <= end; r++ {
			if !revs[r] {
				v.Violate("revision %d never delivered (the watch covered %d..%d)", r, start, end)
			}
		}
	}
	if drained {
		for key, f := range final {
			if f.Rev < start || f.Rev > end {
				continue
			}
			last, ok := lastOfKey[key]
			switch {
			case !ok:
				v.Violate("final %s=%q@%d never delivered", key, f.Value, f.Rev)
			case last.Rev != f.Rev || last.Value != f.Value:
				v.Violate("last event of %s is %q@%d, the final state is %q@%d", key, last.Value, last.Rev, f.Value, f.Rev)
			}
		}
	}
	v.Summary = fmt.Sprintf("%d events over revisions %d..%d, %d acknowledged writes matched, caught up: %v",
		len(events), start, end, acked, drained)
	return v
}
