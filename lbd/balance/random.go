package balance

// drawTries is how many weighted draws random and p2c make before they fall
// back to a scan when skip rejects what they draw.
const drawTries = 4

// weightedTable draws backends with probability proportional to the weights
// they had when it was built.
type weightedTable struct {
	backends []*Backend
	weights  []uint64
	ends     []uint64 // ends[i] is the sum of weights[0..i]
	total    uint64
}

func newWeightedTable(bs []*Backend) weightedTable {
	t := weightedTable{backends: bs, weights: make([]uint64, len(bs)), ends: make([]uint64, len(bs))}
	for i, b := range bs {
		t.weights[i] = uint64(b.weight.Load())
		t.total += t.weights[i]
		t.ends[i] = t.total
	}
	return t
}

// find returns the index whose share of [0, total) holds r.
func (t *weightedTable) find(r uint64) int {
	lo, hi := 0, len(t.ends)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.ends[m] > r {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// draw returns a weighted-random index not rejected by skip, or -1 after
// drawTries rejected draws. Retrying a rejected draw keeps the choice
// weighted among the backends skip accepts.
func (t *weightedTable) draw(r *rng, skip func(*Backend) bool) int {
	for range drawTries {
		i := t.find(r.below(t.total))
		if skip == nil || !skip(t.backends[i]) {
			return i
		}
	}
	return -1
}

// drawOther is draw among the indexes other than j.
func (t *weightedTable) drawOther(r *rng, j int, skip func(*Backend) bool) int {
	rest := t.total - t.weights[j]
	if rest == 0 {
		return -1
	}
	for range drawTries {
		x := r.below(rest)
		if x >= t.ends[j]-t.weights[j] {
			x += t.weights[j] // step over j's share
		}
		i := t.find(x)
		if skip == nil || !skip(t.backends[i]) {
			return i
		}
	}
	return -1
}

// random picks a backend at random, weighted.
type random struct {
	table weightedTable
	rng   *rng
}

func (p *random) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	t := &p.table
	if i := t.draw(p.rng, skip); i >= 0 {
		return t.backends[i]
	}
	// skip rejects much of the weight: draw exactly among the rest.
	var sum uint64
	for i, b := range t.backends {
		if !skip(b) {
			sum += t.weights[i]
		}
	}
	if sum == 0 {
		return nil
	}
	x := p.rng.below(sum)
	var last *Backend
	for i, b := range t.backends {
		if skip(b) {
			continue
		}
		if x < t.weights[i] {
			return b
		}
		x -= t.weights[i]
		last = b
	}
	return last // unreachable unless skip changed its mind between the passes
}

// powerOfTwo draws two distinct backends at random, weighted, and picks the
// one with fewer in flight per unit of current weight (the first drawn on a
// tie). When skip leaves too few to draw, it picks the least loaded of those
// skip accepts.
type powerOfTwo struct {
	table weightedTable
	rng   *rng
}

func (p *powerOfTwo) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	t := &p.table
	if len(t.backends) == 1 {
		if b := t.backends[0]; skip == nil || !skip(b) {
			return b
		}
		return nil
	}
	if i := t.draw(p.rng, skip); i >= 0 {
		if j := t.drawOther(p.rng, i, skip); j >= 0 {
			a, b := t.backends[i], t.backends[j]
			if b.inflight.Load()*a.weight.Load() < a.inflight.Load()*b.weight.Load() {
				return b
			}
			return a
		}
	}
	n := uint64(len(t.backends))
	k := p.rng.below(n)
	var best *Backend
	var bestIn, bestW int64
	for range n {
		b := t.backends[k]
		if k++; k == n {
			k = 0
		}
		if skip != nil && skip(b) {
			continue
		}
		in, w := b.inflight.Load(), b.weight.Load()
		if best == nil || in*bestW < bestIn*w {
			best, bestIn, bestW = b, in, w
		}
	}
	return best
}
