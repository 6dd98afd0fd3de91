package edgebench

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: exact below 64 ns,
// then 64 buckets per power of two, so a bucket spans at most 1/64 (1.6 %)
// of its values. It has a fixed size (no allocation per sample) and merges
// by addition. Not safe for concurrent use: each worker owns one.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits // buckets per power of two
	// histBuckets covers every non-negative int64.
	histBuckets = histSub + (63-histSubBits)*histSub
)

// bucketOf is the bucket of v nanoseconds (v >= 0).
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1 // v>>shift is in [histSub, 2*histSub)
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// bucketTop is the largest value of bucket b.
func bucketTop(b int) uint64 {
	if b < histSub {
		return uint64(b)
	}
	shift := (b - histSub) / histSub
	m := uint64(b-histSub)%histSub + histSub
	return (m+1)<<shift - 1
}

// record adds one sample; negative durations count as 0.
func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the q-quantile (0 < q <= 1) by nearest rank: the top of
// the bucket holding the ceil(q*n)-th smallest sample, clamped to the
// recorded min and max (so it errs high by at most one bucket's width).
// It returns 0 for an empty histogram.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketTop(b))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// mean is the average sample, 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
