package streamchaos

import (
	"context"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"

	"cairn.dev/cairn/cluster/chaos"
)

// Drain reads everything once the faults are over. First a new member of
// the group (client ClientBase+900) joins and polls and commits until the
// group's committed offset of every partition equals its high watermark,
// then records the group's committed offsets (KindCommitted). Then a plain
// reader (ClientBase+901) reads every partition from offset 0 to its high
// watermark (KindRead, KindReadEnd). Every poll, delivery and commit is
// recorded like the workload's own.
//
// The checkers call it before they judge; only the first call drains, later
// ones return at once. It runs after Run returned (and after the scenario's
// full restart, if it has one), so what it reads survived the faults.
func (w *Stream) Drain(ctx context.Context, env *chaos.Env) {
	w.drainOnce.Do(func() {
		cfg := w.config()
		if cfg.drainTimeout <= 0 {
			cfg.drainTimeout = time.Minute + env.Phase
		}
		ctx, cancel := context.WithTimeout(ctx, cfg.drainTimeout)
		defer cancel()
		start := time.Now()
		w.drainGroup(ctx, env, cfg)
		env.Logger.Info("streamchaos: group drained", "took", time.Since(start))
		w.readAll(ctx, env, cfg)
		env.Logger.Info("streamchaos: final read done", "took", time.Since(start))
	})
}

// drainGroup runs the drain's group member.
func (w *Stream) drainGroup(ctx context.Context, env *chaos.Env, cfg config) {
	h := env.History
	id := cfg.clientBase + 900
	committed := func(done bool, lags []*streamdv1.PartitionLag, err error) {
		got := map[int32]*streamdv1.PartitionLag{}
		for _, l := range lags {
			if l.GetTopic() == cfg.topic {
				got[l.GetPartition()] = l
			}
		}
		for p := range int32(cfg.partitions) {
			op := chaos.Op{Client: id, Kind: KindCommitted, Key: partKey(p), Found: done, Rev: -1}
			if l, ok := got[p]; ok {
				op.Rev = l.GetCommitted()
			}
			if err != nil {
				op.Err = err.Error()
			}
			h.Event(op)
		}
	}
	c, err := newClient(env, cfg.timeout)
	if err != nil {
		committed(false, nil, err)
		return
	}
	defer c.Close()
	m, ok := join(ctx, env, c, cfg, id, 300*time.Millisecond)
	if !ok {
		committed(false, nil, ctx.Err())
		return
	}
	defer leave(env, cfg, m)
	var lags []*streamdv1.PartitionLag
	for {
		recs := poll(env, c, cfg, m)
		if len(recs) > 0 {
			continue
		}
		// Nothing more came: is every partition committed up to its high
		// watermark?
		rctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		d, err := c.DescribeGroup(rctx, cfg.group)
		cancel()
		if err == nil {
			lags = d.GetPartitions()
			if drained(lags, cfg) {
				committed(true, lags, nil)
				return
			}
		}
		if ctx.Err() != nil {
			committed(false, lags, ctx.Err())
			return
		}
	}
}

// drained reports whether every partition of the topic is committed up to
// its high watermark.
func drained(lags []*streamdv1.PartitionLag, cfg config) bool {
	n := 0
	for _, l := range lags {
		if l.GetTopic() != cfg.topic {
			continue
		}
		if l.GetLag() != 0 || l.GetCommitted() != l.GetHighWatermark() && l.GetHighWatermark() != 0 {
			return false
		}
		n++
	}
	return n == cfg.partitions
}

// readAll reads every partition from offset 0 to its high watermark with
// plain fetches.
func (w *Stream) readAll(ctx context.Context, env *chaos.Env, cfg config) {
	h := env.History
	id := cfg.clientBase + 901
	c, err := newClient(env, cfg.timeout)
	if err != nil {
		for p := range int32(cfg.partitions) {
			h.Event(chaos.Op{Client: id, Kind: KindReadEnd, Key: partKey(p), Rev: -1, Err: err.Error()})
		}
		return
	}
	defer c.Close()
	for p := range int32(cfg.partitions) {
		hw, off, err := int64(-1), int64(0), error(nil)
		for ctx.Err() == nil {
			if hw < 0 {
				var o client.Offsets
				o, err = c.ListOffsets(ctx, cfg.topic, p, streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{})
				if err != nil {
					chaos.Hold(ctx, 200*time.Millisecond)
					continue
				}
				hw = o.HighWatermark
			}
			if off >= hw {
				break
			}
			var f *client.Fetched
			f, err = c.Fetch(ctx, cfg.topic, p, off, client.FetchOptions{})
			if err != nil {
				chaos.Hold(ctx, 200*time.Millisecond)
				continue
			}
			for _, r := range f.Records {
				if r.Offset < hw {
					h.Event(chaos.Op{Client: id, Kind: KindRead, Key: partKey(p), Value: string(r.Value), Rev: r.Offset})
				}
			}
			if f.NextOffset <= off {
				chaos.Hold(ctx, 100*time.Millisecond) // nothing yet below the high watermark
			}
			off = max(off, f.NextOffset)
		}
		op := chaos.Op{Client: id, Kind: KindReadEnd, Key: partKey(p), Rev: hw, Found: hw >= 0 && off >= hw}
		if !op.Found && err != nil {
			op.Err = err.Error()
		}
		h.Event(op)
	}
}
