// Package benchrun holds the client plumbing that cairn's benchmark
// libraries share: opening a benchmark's producers or consumers
// concurrently, each under its own deadline, and closing them all.
//
//	producers, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Producers, d.NewProducer)
//	if err != nil { ... }
//	defer benchrun.CloseAll(producers)
//
// bench/queuebench and bench/streambench use it.
package benchrun

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// OpenAll creates n clients, newClient(ctx, i) for i in 0..n-1, all at once,
// each under a deadline of timeout. If any fails it closes the ones that
// were opened and returns every failure joined; else the clients in order
// of i, which the caller closes (CloseAll).
func OpenAll[C io.Closer](ctx context.Context, timeout time.Duration, n int, newClient func(context.Context, int) (C, error)) ([]C, error) {
	out := make([]C, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i], errs[i] = newClient(cctx, i)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for i, c := range out {
			if errs[i] == nil {
				_ = c.Close()
			}
		}
		return nil, err
	}
	return out, nil
}

// CloseAll closes every client, ignoring their errors: a benchmark's
// result does not depend on how its clients close.
func CloseAll[C io.Closer](cs []C) {
	for _, c := range cs {
		_ = c.Close()
	}
}

// Percentile returns the nearest-rank p-quantile (0 < p ≤ 1) of sorted, a
// non-empty slice in ascending order.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted)) + 0.999999999) // ceil, tolerant of float error
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
