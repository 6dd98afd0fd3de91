package edgebench

import (
	"math"
	"math/rand/v2"
	"sort"
)

// zipf draws ranks in [0, n) with P(rank k) proportional to 1/(k+1)^s.
// Unlike math/rand's Zipf it accepts any s >= 0 (s = 0 is uniform; CDN
// traces sit around 0.6..1.0). The cumulative table is shared and read
// only, so one zipf may serve many goroutines, each with its own rand.
type zipf struct {
	cdf []float64 // cdf[k] = P(rank <= k); cdf[n-1] = 1
}

// newZipf builds the table for n ranks (n >= 1) and exponent s (s >= 0).
func newZipf(n int, s float64) *zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	cdf[n-1] = 1
	return &zipf{cdf: cdf}
}

// draw returns one rank, using r.
func (z *zipf) draw(r *rand.Rand) int {
	u := r.Float64()
	k := sort.SearchFloat64s(z.cdf, u)
	if k >= len(z.cdf) { // u rounds above the last entry only through float error
		k = len(z.cdf) - 1
	}
	return k
}

// prob is P(rank k).
func (z *zipf) prob(k int) float64 {
	if k == 0 {
		return z.cdf[0]
	}
	return z.cdf[k] - z.cdf[k-1]
}
