package chaos

import (
	"context"
	"fmt"
	"sort"
	"time"

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

// Name implements Workload.
func (w *Watch) Name() string { return "watch" }

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

// Run implements Workload.
func (w *Watch) Run(ctx context.Context, env *Env) error {
	cfg := w.withDefaults()
	h := env.History
	cl, err := env.NewClient(5 * time.Second)
	if err != nil {
		return err
	}
	defer cl.Close()
	rev, err := currentRevision(ctx, cl, cfg.Prefix, time.Minute)
	if err != nil {
		return fmt.Errorf("chaos: watch: read start revision: %w", err)
	}
	start := rev + 1
	h.Event(Op{Client: cfg.Client, Kind: KindWatchStart, Key: cfg.Prefix, Rev: start})
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
	end := func(outcome Outcome, err error) {
		op := Op{Client: cfg.Client, Kind: KindWatchEnd, Key: cfg.Prefix, Rev: seen, Outcome: outcome}
		if err != nil {
			op.Err = err.Error()
		}
		h.Event(op)
	}
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				end(Fail, fmt.Errorf("watch channel closed at revision %d", seen))
				return nil
			}
			if err := resp.Err(); err != nil {
				end(Fail, err)
				return nil
			}
			for _, ev := range resp.GetEvents() {
				kv := ev.GetKv()
				h.Event(Op{
					Client: cfg.Client, Kind: KindWatchEvent, Key: string(kv.GetKey()), Value: string(kv.GetValue()),
					Rev: kv.GetModRevision(), Delete: ev.GetType() == raftkvv1.Event_EVENT_TYPE_DELETE,
				})
				seen = max(seen, kv.GetModRevision())
			}
			if target >= 0 && seen >= target {
				end(OK, nil)
				return nil
			}
		case <-stop:
			stop = nil
			target, err = currentRevision(context.Background(), cl, cfg.Prefix, cfg.Drain)
			if err != nil {
				end(Fail, fmt.Errorf("read final revision: %w", err))
				return nil
			}
			env.Logger.Info("watch: draining", "seen", seen, "store", target)
			if seen >= target {
				end(OK, nil)
				return nil
			}
			t := time.NewTimer(cfg.Drain)
			defer t.Stop()
			drain = t.C
		case <-drain:
			end(Fail, fmt.Errorf("watch stalled at revision %d; the store is at %d", seen, target))
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

// Name implements Checker.
func (c *WatchChecker) Name() string { return "watch" }

// Check implements Checker.
func (c *WatchChecker) Check(ctx context.Context, env *Env) Verdict {
	prefix := c.Prefix
	if prefix == "" {
		prefix = "kv/"
	}
	var final map[string]finalKV
	cl, err := env.NewClient(10 * time.Second)
	if err == nil {
		defer cl.Close()
		final, _, err = readFinal(ctx, cl, prefix)
	}
	if err != nil {
		return Verdict{Checker: c.Name(), Err: fmt.Sprintf("read the final state: %v", err)}
	}
	return checkWatch(env.History.Ops(), final, prefix, c.Contiguous)
}

// finalKV is a key's value and revision at the end of a run.
type finalKV struct {
	Value string
	Rev   int64
}

// readFinal reads every key under prefix with a linearizable read.
func readFinal(ctx context.Context, cl *client.Client, prefix string) (map[string]finalKV, int64, error) {
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
	out := make(map[string]finalKV, len(resp.GetKvs()))
	for _, kv := range resp.GetKvs() {
		out[string(kv.GetKey())] = finalKV{Value: string(kv.GetValue()), Rev: kv.GetModRevision()}
	}
	return out, resp.GetHeader().GetRevision(), nil
}

// checkWatch is the pure part of WatchChecker.
func checkWatch(ops []Op, final map[string]finalKV, prefix string, contiguous bool) Verdict {
	v := Verdict{Checker: "watch"}
	var (
		start, end int64 = -1, -1
		events     []Op
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
			drained = op.Outcome == OK
			if !drained {
				v.violate("watch did not catch up: %s", op.Err)
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
	delivered := map[kvRev]Op{}
	revs := map[int64]bool{}
	lastOfKey := map[string]Op{}
	prev := int64(0)
	for _, ev := range events {
		k := kvRev{ev.Key, ev.Rev}
		if _, dup := delivered[k]; dup {
			v.violate("event %s@%d delivered twice", ev.Key, ev.Rev)
			continue
		}
		if ev.Rev < prev {
			v.violate("event %s@%d delivered after revision %d", ev.Key, ev.Rev, prev)
		}
		if ev.Rev < start {
			v.violate("event %s@%d is older than the watch's start revision %d", ev.Key, ev.Rev, start)
		}
		prev = max(prev, ev.Rev)
		delivered[k] = ev
		revs[ev.Rev] = true
		lastOfKey[ev.Key] = ev
		if !ev.Delete && !issued[ev.Key+"\x00"+ev.Value] {
			v.violate("event %s=%q@%d matches no write any client issued", ev.Key, ev.Value, ev.Rev)
		}
	}
	acked := 0
	for _, op := range ops {
		if op.Outcome != OK || op.Rev < start || (end >= 0 && op.Rev > end) {
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
			v.violate("acknowledged write %s=%q@%d (op %d) never delivered", op.Key, op.Value, op.Rev, op.ID)
		case ev.Value != op.Value:
			v.violate("event %s@%d carries %q, the acknowledged write wrote %q", op.Key, op.Rev, ev.Value, op.Value)
		}
	}
	if contiguous && drained {
		for r := start; r <= end; r++ {
			if !revs[r] {
				v.violate("revision %d never delivered (the watch covered %d..%d)", r, start, end)
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
				v.violate("final %s=%q@%d never delivered", key, f.Value, f.Rev)
			case last.Rev != f.Rev || last.Value != f.Value:
				v.violate("last event of %s is %q@%d, the final state is %q@%d", key, last.Value, last.Rev, f.Value, f.Rev)
			}
		}
	}
	v.Summary = fmt.Sprintf("%d events over revisions %d..%d, %d acknowledged writes matched, caught up: %v",
		len(events), start, end, acked, drained)
	return v
}
