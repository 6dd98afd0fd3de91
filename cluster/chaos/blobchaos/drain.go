package blobchaos

import (
	"context"
	"sort"
	"sync"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// drainReaders is how many keys the drain reads at once.
const drainReaders = 4

// Drain reads everything once the faults are over: every key any PUT of the
// history named is read with a GET (KindFinal; retried every 200ms while
// it fails, for up to a third of the drain's time per key), then every key
// of the bucket is listed (KindFinalList, retried likewise).
//
// The checkers call it before they judge; only the first call drains, later
// ones return at once. It runs after Run returned (and after the scenario's
// full restart, if it has one), so what it reads survived the faults.
func (w *Blob) Drain(ctx context.Context, env *chaos.Env) {
	w.drainOnce.Do(func() {
		cfg := w.config(env.Phase)
		ctx, cancel := context.WithTimeout(ctx, cfg.drainTimeout)
		defer cancel()
		start := time.Now()
		seen := map[string]bool{}
		var keys []string
		for _, op := range env.History.Ops() {
			if op.Kind == KindPut && !seen[op.Key] {
				seen[op.Key] = true
				keys = append(keys, op.Key)
			}
		}
		sort.Strings(keys)
		perKey := cfg.drainTimeout / 3
		next := make(chan string)
		var wg sync.WaitGroup
		started := 0
		for i := range drainReaders {
			s, err := w.store(env, cfg)
			if err != nil {
				env.Logger.Error("blobchaos: drain client", "err", err)
				continue
			}
			started++
			wg.Go(func() {
				defer s.Close()
				for key := range next {
					retry(ctx, perKey, func() bool {
						return get(env.History, s, cfg, cfg.clientBase+900+i, KindFinal, key) == chaos.OK
					})
				}
			})
		}
		if started == 0 {
			keys = nil // the checker reports every key unread
		}
		for _, k := range keys {
			next <- k
		}
		close(next)
		wg.Wait()
		env.Logger.Info("blobchaos: final reads done", "keys", len(keys), "took", time.Since(start))
		s, err := w.store(env, cfg)
		if err != nil {
			env.Logger.Error("blobchaos: drain client", "err", err)
			return
		}
		defer s.Close()
		retry(ctx, perKey, func() bool {
			return list(env.History, s, cfg, cfg.clientBase+950, KindFinalList, "") == chaos.OK
		})
		env.Logger.Info("blobchaos: final listing done", "took", time.Since(start))
	})
}

// retry calls fn every 200ms until it returns true, d passed or ctx ended;
// fn is called at least once.
func retry(ctx context.Context, d time.Duration, fn func() bool) {
	deadline := time.Now().Add(d)
	for !fn() && ctx.Err() == nil && time.Now().Before(deadline) {
		chaos.Hold(ctx, 200*time.Millisecond)
	}
}
