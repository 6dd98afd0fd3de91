package query

import (
	"sort"

	"cairn.dev/cairn/searchd/index"
)

// phraseWeight matches the phrase's slots at their relative positions
// within slop and scores the phrase frequency with BM25, the idf being the
// sum of the terms' (Lucene's PhraseQuery). An exact phrase (slop 0)
// counts its occurrences; a sloppy one adds 1/(1+distance) per match, the
// distance being how far the terms are moved from their places (a swap of
// two adjacent terms costs 2), as Lucene's sloppy phrase scorer.
func (ex *execCtx) phraseWeight(n *phraseNode) (weight, error) {
	ex.clauses += len(n.slots)
	slots := make([][]string, len(n.slots))
	copy(slots, n.slots)
	if n.prefixLast {
		last := len(slots) - 1
		exp := ex.expand(&multiTermNode{kind: multiPrefix, field: n.field, text: slots[last][0], maxExpansions: n.maxExpansions})
		ex.clauses += len(exp)
		if ex.clauses > ex.limits.MaxClauses {
			return nil, limitErr(ErrTooManyClauses, "query", ex.clauses, "max_clauses", ex.limits.MaxClauses)
		}
		if len(exp) == 0 {
			return noMatch, nil
		}
		slots[last] = nil
		for _, e := range exp {
			slots[last] = append(slots[last], e.term)
		}
	}
	idfSum := 0.0
	fs := ex.fieldStats(n.field)
	for i, slot := range slots {
		best := 0.0
		for _, t := range slot {
			ex.noteTerm(n.field, t)
			if n.prefixLast && i == len(slots)-1 {
				continue
			}
			df := ex.docFreq(n.field, t)
			best = max(best, idf(max(fs.DocCount, df), df))
		}
		idfSum += best
	}
	sim := newBM25(ex.settings, fs, idfSum, n.boost)
	return func(seg index.Segment) scorer {
		td := seg.Terms(n.field)
		if td == nil {
			return nil
		}
		its := make([]*slotIter, len(slots))
		for i, slot := range slots {
			si := &slotIter{doc: -1}
			for _, t := range slot {
				if info, ok := td.Get([]byte(t)); ok {
					si.subs = append(si.subs, td.Postings(info, true))
					si.docs = append(si.docs, -1)
				}
			}
			if len(si.subs) == 0 {
				return nil
			}
			its[i] = si
		}
		scs := make([]scorer, len(its))
		for i, it := range its {
			scs[i] = it
		}
		return &phraseScorer{approx: newConjunction(scs), slots: its, offsets: n.offsets, slop: n.slop,
			sim: sim, seg: seg, field: n.field, doc: -1}
	}, nil
}

// phraseScorer verifies the positions of its approximation's documents.
type phraseScorer struct {
	approx  scorer
	slots   []*slotIter
	offsets []int
	slop    int
	sim     *bm25
	seg     index.Segment
	field   string
	doc     int
	freq    float64
	pos     [][]int
}

func (p *phraseScorer) docID() int   { return p.doc }
func (p *phraseScorer) nextDoc() int { return p.verify(p.approx.nextDoc()) }
func (p *phraseScorer) advance(t int) int {
	if p.doc >= t {
		return p.doc
	}
	return p.verify(p.approx.advance(t))
}

func (p *phraseScorer) verify(d int) int {
	for ; d != noMore; d = p.approx.nextDoc() {
		if f := p.phraseFreq(); f > 0 {
			p.freq = f
			break
		}
	}
	p.doc = d
	return d
}

// phraseFreq computes the current document's phrase frequency.
func (p *phraseScorer) phraseFreq() float64 {
	if p.pos == nil {
		p.pos = make([][]int, len(p.slots))
	}
	for i, s := range p.slots {
		p.pos[i] = s.positions(p.pos[i][:0], p.offsets[i])
	}
	idx := make([]int, len(p.pos))
	freq := 0.0
	for {
		lo, hi, loAt := 0, 0, -1
		for i, ps := range p.pos {
			if idx[i] >= len(ps) {
				return freq
			}
			v := ps[idx[i]]
			if loAt < 0 || v < lo {
				lo, loAt = v, i
			}
			if i == 0 || v > hi {
				hi = v
			}
		}
		if d := hi - lo; d <= p.slop {
			freq += 1 / float64(1+d)
			if p.slop == 0 {
				for i := range idx {
					idx[i]++
				}
				continue
			}
		}
		idx[loAt]++
	}
}

func (p *phraseScorer) score() float64 {
	return p.sim.score(p.freq, p.seg.FieldLength(p.field, uint32(p.doc)))
}
func (p *phraseScorer) maxScore() float64 { return p.sim.weight }
func (p *phraseScorer) cost() int64       { return p.approx.cost() }

// slotIter is the union of the postings of one phrase position's terms.
type slotIter struct {
	subs []index.Postings
	docs []int
	doc  int
}

func (s *slotIter) docID() int   { return s.doc }
func (s *slotIter) nextDoc() int { return s.advance(s.doc + 1) }
func (s *slotIter) advance(t int) int {
	if s.doc >= t {
		return s.doc
	}
	m := noMore
	for i, p := range s.subs {
		if s.docs[i] < t {
			s.docs[i] = fromPostings(p.Advance(uint32(t)))
		}
		m = min(m, s.docs[i])
	}
	s.doc = m
	return m
}
func (s *slotIter) score() float64    { return 0 }
func (s *slotIter) maxScore() float64 { return 0 }
func (s *slotIter) cost() int64 {
	var c int64
	for _, p := range s.subs {
		c += p.Cost()
	}
	return c
}

// positions appends the current document's positions of the slot's terms,
// minus offset, sorted.
func (s *slotIter) positions(dst []int, offset int) []int {
	var buf []uint32
	for i, p := range s.subs {
		if s.docs[i] != s.doc {
			continue
		}
		buf = p.Positions(buf[:0])
		for _, v := range buf {
			dst = append(dst, int(v)-offset)
		}
	}
	if len(s.subs) > 1 {
		sort.Ints(dst)
	}
	return dst
}
