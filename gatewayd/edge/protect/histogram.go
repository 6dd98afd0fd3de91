package protect

import (
	"math"
	"time"
)

// latencyBins is the number of bins of a latency histogram: bin 0 holds
// latencies under 1µs, bin b >= 1 those in [2^((b-1)/4), 2^(b/4)) µs, and
// the last bin everything from about an hour up.
const latencyBins = 128

// latencyBin is the bin of d.
func latencyBin(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	b := int(math.Floor(4*math.Log2(us))) + 1
	return min(b, latencyBins-1)
}

// binUpper is the upper bound of bin b: a quantile read from the histogram
// overestimates by at most 19% (2^(1/4)).
func binUpper(b int) time.Duration {
	return time.Duration(math.Exp2(float64(b)/4) * float64(time.Microsecond))
}

// quantile is the upper bound of the bin holding the q-quantile of counts
// (total n > 0).
func quantile(counts *[latencyBins]uint32, n uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for b, c := range counts {
		seen += uint64(c)
		if seen >= rank && c > 0 {
			return binUpper(b)
		}
	}
	return binUpper(latencyBins - 1)
}
