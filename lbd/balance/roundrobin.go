package balance

import (
	"slices"
	"sync"
	"sync/atomic"
)

// roundRobin hands out its backends in turn, ignoring weights. A skipped
// backend passes the turn to the next one.
type roundRobin struct {
	backends []*Backend
	next     atomic.Uint64 // the turn count
}

func (p *roundRobin) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	n := uint64(len(p.backends))
	i := (p.next.Add(1) - 1) % n
	for range n {
		b := p.backends[i]
		if skip == nil || !skip(b) {
			return b
		}
		if i++; i == n {
			i = 0
		}
	}
	return nil
}

// smoothWRR is nginx's smooth weighted round robin. On each pick every
// candidate's current value grows by its weight and the largest (the first
// listed on a tie) wins and gives back the sum of the candidates' weights. Over
// any window of sum-of-weights picks from an unchanging set each backend is
// chosen exactly weight times, interleaved rather than in runs (weights 5,1,1
// give a a b a c a a). Skipped backends sit the pick out, as nginx's tried
// peers do. Weights are those of the backends when the picker was built.
type smoothWRR struct {
	backends []*Backend
	weights  []int64

	mu      sync.Mutex // guards current
	current []int64
}

func newSmoothWRR(bs []*Backend) *smoothWRR {
	p := &smoothWRR{backends: bs, weights: make([]int64, len(bs)), current: make([]int64, len(bs))}
	for i, b := range bs {
		p.weights[i] = b.weight.Load()
	}
	return p
}

func (p *smoothWRR) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	if len(p.backends) == 1 {
		if b := p.backends[0]; skip == nil || !skip(b) {
			return b
		}
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best, total := -1, int64(0)
	for i, b := range p.backends {
		if skip != nil && skip(b) {
			continue
		}
		p.current[i] += p.weights[i]
		total += p.weights[i]
		if best < 0 || p.current[i] > p.current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	p.current[best] -= total
	return p.backends[best]
}

// carryOver starts p from the running values prev has for the backends
// both hold.
func (p *smoothWRR) carryOver(prev *smoothWRR) {
	prev.mu.Lock()
	defer prev.mu.Unlock()
	for i, b := range p.backends {
		if j := slices.Index(prev.backends, b); j >= 0 {
			p.current[i] = prev.current[j]
		}
	}
}
