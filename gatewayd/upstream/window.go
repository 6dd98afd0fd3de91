package upstream

import "time"

// windowBuckets is how many buckets a rolling window is cut into: the window
// reaches back between (windowBuckets-1)/windowBuckets and all of its length.
const windowBuckets = 10

// window counts requests and failures over the last stretch of time, in
// buckets of length/windowBuckets. The zero value with width set is empty. It
// is not safe for concurrent use.
type window struct {
	width   time.Duration
	buckets [windowBuckets]bucket
}

type bucket struct {
	epoch    int64 // the bucket's start, in widths since the Unix epoch
	total    int
	failures int
}

func newWindow(length time.Duration) window {
	return window{width: max(length/windowBuckets, time.Nanosecond)}
}

func (w *window) epoch(now time.Time) int64 { return now.UnixNano() / int64(w.width) }

// add counts one request, failed or not, at now.
func (w *window) add(now time.Time, failed bool) {
	e := w.epoch(now)
	b := &w.buckets[((e%windowBuckets)+windowBuckets)%windowBuckets]
	if b.epoch != e {
		*b = bucket{epoch: e}
	}
	b.total++
	if failed {
		b.failures++
	}
}

// sums returns the requests and failures counted in the window ending at now.
func (w *window) sums(now time.Time) (total, failures int) {
	e := w.epoch(now)
	for i := range w.buckets {
		b := &w.buckets[i]
		if b.epoch <= e && e-b.epoch < windowBuckets {
			total += b.total
			failures += b.failures
		}
	}
	return total, failures
}

// reset forgets every count.
func (w *window) reset() { w.buckets = [windowBuckets]bucket{} }
