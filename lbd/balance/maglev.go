package balance

import "math/bits"

// maglev is Maglev consistent hashing (Eisenbud et al., NSDI '16): a lookup
// table of prime size M in which every backend (sorted by name) claims entries
// in turn, each along its own permutation of the table (an offset and a step
// from HashKey(name)), until the table is full. A key's backend is entry
// key·M/2^64: one multiply and one load. The spread is even to within a few
// entries, and a change of the set moves little more than the keys of the
// backends added or removed. Weights are honoured by turns: in round r a
// backend of weight w claims an entry when r·w/wmax passes a whole number, so
// the heaviest claims one every round. Pick walks on along the table past
// backends that skip rejects.
type maglev struct {
	backends []*Backend // sorted by name
	table    []int32    // indexes backends
}

// Seeds that derive a backend's offset and step from its name hash.
const (
	maglevOffsetSeed = 0x6d61676c65762d6f
	maglevStepSeed   = 0x6d61676c65762d73
)

func newMaglev(bs []*Backend, size int) *maglev {
	m := uint64(size)
	n := len(bs)
	pos := make([]uint64, n)  // where each backend's permutation is
	step := make([]uint64, n) // its step, 1..M-1
	weights := make([]int64, n)
	var wmax int64
	for i, b := range bs {
		h := HashKey([]byte(b.Name))
		pos[i] = mix64(h^maglevOffsetSeed) % m
		step[i] = 1
		if m > 2 {
			step[i] = mix64(h^maglevStepSeed)%(m-1) + 1
		}
		weights[i] = b.weight.Load()
		wmax = max(wmax, weights[i])
	}
	table := make([]int32, m)
	for k := range table {
		table[k] = -1
	}
	filled := uint64(0)
	for round := int64(1); filled < m; round++ {
		for i := range n {
			if round*weights[i]/wmax == (round-1)*weights[i]/wmax {
				continue // not this backend's turn
			}
			for table[pos[i]] >= 0 {
				if pos[i] += step[i]; pos[i] >= m {
					pos[i] -= m
				}
			}
			table[pos[i]] = int32(i)
			filled++
			if filled == m {
				break
			}
		}
	}
	return &maglev{backends: bs, table: table}
}

func (p *maglev) Pick(key uint64, skip func(*Backend) bool) *Backend {
	k, _ := bits.Mul64(key, uint64(len(p.table)))
	if skip == nil {
		return p.backends[p.table[k]]
	}
	var small [smallMarks]uint64
	seen, rejected := markBits(&small, len(p.backends)), 0
	for range p.table {
		o := p.table[k]
		if k++; k == uint64(len(p.table)) {
			k = 0
		}
		if marked(seen, o) {
			continue
		}
		if b := p.backends[o]; !skip(b) {
			return b
		}
		mark(seen, o)
		if rejected++; rejected == len(p.backends) {
			break
		}
	}
	return nil
}
