package aggs

import (
	"math"
	"math/bits"
)

// sketch counts distinct 64-bit hashes as HyperLogLog++ does: exactly (a
// set of hashes) up to the precision threshold, then with 2^P registers.
// Sketches of the same precision merge by union / register-wise max, so
// shards' sketches reduce to the sketch of the union. The dense estimate
// uses Ertl's improved estimator ("New cardinality estimation algorithms
// for HyperLogLog sketches", 2017), which needs no empirical bias table.
//
// Exported fields are the wire form (gob).
type sketch struct {
	P         uint8
	Threshold int
	// Set holds the distinct hashes while exact; Regs the registers once
	// dense (Set is then nil).
	Set  []uint64
	Regs []uint8

	// set indexes Set while collecting (rebuilt on demand after decoding).
	set map[uint64]struct{}
}

const (
	minPrecision = 4
	maxPrecision = 18
	// maxThreshold caps precision_threshold, as Elasticsearch.
	maxThreshold = 40000
)

// precisionFor returns the register precision Elasticsearch picks for a
// precision_threshold: enough registers for 4 bytes per threshold entry
// at a load factor of 0.75.
func precisionFor(threshold int) uint8 {
	entries := int64(math.Ceil(float64(threshold) / 0.75))
	p := bits.Len64(uint64(entries * 4))
	return uint8(min(max(p, minPrecision), maxPrecision))
}

func newSketch(p uint8, threshold int) *sketch {
	return &sketch{P: p, Threshold: threshold}
}

// add counts hash h.
func (s *sketch) add(h uint64) {
	if s.Regs != nil {
		s.addDense(h)
		return
	}
	if s.set == nil {
		s.set = make(map[uint64]struct{}, len(s.Set))
		for _, x := range s.Set {
			s.set[x] = struct{}{}
		}
	}
	if _, ok := s.set[h]; ok {
		return
	}
	s.set[h] = struct{}{}
	s.Set = append(s.Set, h)
	if len(s.Set) > s.Threshold {
		s.densify()
	}
}

func (s *sketch) addDense(h uint64) {
	idx := h >> (64 - s.P)
	rest := h<<s.P | 1<<(s.P-1) // the guard bit caps the rank at 64-P+1
	rank := uint8(bits.LeadingZeros64(rest)) + 1
	if rank > s.Regs[idx] {
		s.Regs[idx] = rank
	}
}

func (s *sketch) densify() {
	s.Regs = make([]uint8, 1<<s.P)
	for _, h := range s.Set {
		s.addDense(h)
	}
	s.Set, s.set = nil, nil
}

// merge adds o's hashes into s (same precision).
func (s *sketch) merge(o *sketch) {
	if o.Regs == nil {
		for _, h := range o.Set {
			s.add(h)
		}
		return
	}
	if s.Regs == nil {
		s.densify()
	}
	for i, r := range o.Regs {
		if r > s.Regs[i] {
			s.Regs[i] = r
		}
	}
}

// estimate returns the number of distinct hashes added: exact while the
// sketch is a set.
func (s *sketch) estimate() int64 {
	if s.Regs == nil {
		return int64(len(s.Set))
	}
	m := float64(len(s.Regs))
	q := 64 - int(s.P)
	counts := make([]float64, q+2)
	for _, r := range s.Regs {
		counts[r]++
	}
	z := m * hllTau(1-counts[q+1]/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + counts[k])
	}
	z += m * hllSigma(counts[0]/m)
	return int64(math.Round(m * m / (2 * math.Ln2) / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}

// hashBytes hashes a keyword value: FNV-1a 64 finished with murmur3's
// fmix64 so every bit of the result depends on every input byte.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmix64(h)
}

// keywordHash is hashBytes with the lowest bit set, so it is never 0 (the
// collector's "not computed" mark); the lowest bit barely matters to the
// registers.
func keywordHash(b []byte) uint64 { return hashBytes(b) | 1 }

// hashUint64 hashes a numeric value's bits.
func hashUint64(v uint64) uint64 { return fmix64(v ^ 0x9e3779b97f4a7c15) }

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
