package searchbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Run indexes cfg.Docs documents of the corpus into t (replicated when the
// corpus is smaller), refreshes, runs the query mix for cfg.Warmup and
// then, measured, for cfg.Duration (or cfg.Queries per client), and finishes t (its size on disk). It
// finishes t whatever happens. Indexing stops at the first failed batch
// (the run's error); failed queries are counted in the result.
func Run(ctx context.Context, cfg Config, corpus []Doc, t Target) (res Result, err error) {
	res.Target = t.Name()
	finished := false
	defer func() {
		if !finished {
			_, _ = t.Finish(context.WithoutCancel(ctx))
		}
	}()
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	if len(corpus) == 0 {
		return res, fmt.Errorf("searchbench: empty corpus")
	}
	docs := Replicate(corpus, cfg.Docs)
	// The queries come from the distinct documents indexed.
	queries, err := Generate(docs[:min(len(docs), len(corpus))], cfg.QueriesPerKind, cfg.Seed)
	if err != nil {
		return res, err
	}
	res.Docs, res.Batch, res.Writers = len(docs), cfg.Batch, cfg.Writers
	elapsed, err := index(ctx, cfg, docs, t)
	if err != nil {
		return res, fmt.Errorf("searchbench: %s: indexing: %w", t.Name(), err)
	}
	res.IndexDuration = elapsed
	res.DocsPerSec = float64(len(docs)) / elapsed.Seconds()

	var kinds []Kind
	for _, k := range cfg.Kinds {
		if t.Supports(k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) > 0 {
		if cfg.Warmup > 0 {
			query(ctx, cfg, cfg.Warmup, 0, kinds, queries, t, cfg.Seed^0x3a3)
		}
		res.query(cfg, kinds, query(ctx, cfg, cfg.Duration, cfg.Queries, kinds, queries, t, cfg.Seed))
	}
	finished = true
	size, err := t.Finish(ctx)
	if err != nil {
		return res, fmt.Errorf("searchbench: %s: finishing: %w", t.Name(), err)
	}
	res.SizeBytes = size
	return res, ctx.Err()
}

// index sends the documents in batches from cfg.Writers goroutines, then
// refreshes; it returns the time from the first batch to the refresh's
// end.
func index(ctx context.Context, cfg Config, docs []Doc, t Target) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Writers {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(next.Add(int64(cfg.Batch))) - cfg.Batch
				if lo >= len(docs) {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				err := t.Index(rctx, docs[lo:min(lo+cfg.Batch, len(docs))])
				rcancel()
				if err != nil {
					cancel(fmt.Errorf("documents %d..: %w", lo, err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	rctx, rcancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer rcancel()
	if err := t.Refresh(rctx); err != nil {
		return 0, fmt.Errorf("refresh: %w", err)
	}
	return time.Since(start), nil
}

// outcome is one query's: its kind, latency, total hits, error.
type outcome struct {
	kind  Kind
	lat   time.Duration
	total int64
	err   error
}

// tally is what the clients of a query phase measured.
type tally struct {
	elapsed  time.Duration
	outcomes []outcome
}

// query runs cfg.Clients clients for d, or, when n > 0, until each has sent
// n queries.
func query(ctx context.Context, cfg Config, d time.Duration, n int, kinds []Kind, queries map[Kind][]Query, t Target, seed uint64) tally {
	deadline := time.Now().Add(d)
	per := make([][]outcome, cfg.Clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			for k := c; ctx.Err() == nil && (n > 0 && k < c+n || n <= 0 && time.Now().Before(deadline)); k++ {
				kind := kinds[k%len(kinds)]
				qs := queries[kind]
				q := qs[r.IntN(len(qs))]
				rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
				t0 := time.Now()
				total, err := t.Search(rctx, q)
				lat := time.Since(t0)
				cancel()
				if err != nil {
					err = fmt.Errorf("%s %q: %w", kind, q.Text, err)
				}
				per[c] = append(per[c], outcome{kind, lat, total, err})
			}
		})
	}
	wg.Wait()
	out := tally{elapsed: time.Since(start)}
	for _, o := range per {
		out.outcomes = append(out.outcomes, o...)
	}
	return out
}
