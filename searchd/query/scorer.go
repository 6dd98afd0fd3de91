package query

import (
	"math"
	"math/bits"

	"cairn.dev/cairn/searchd/index"
)

// Document numbers inside scorers are ints: -1 before the first document,
// noMore after the last.
const noMore = math.MaxInt32

// scorer iterates one segment's matching documents in increasing order and
// scores the current one.
type scorer interface {
	// docID is the current document (-1 before nextDoc/advance, noMore at
	// the end).
	docID() int
	nextDoc() int
	// advance moves to the first document >= target; it does nothing when
	// already there.
	advance(target int) int
	score() float64
	// maxScore bounds score() over the segment.
	maxScore() float64
	// cost bounds the documents left.
	cost() int64
}

// fromPostings converts an index document number.
func fromPostings(d uint32) int {
	if d == index.NoMoreDocs {
		return noMore
	}
	return int(d)
}

// termScorer scores one term's postings with BM25.
type termScorer struct {
	p     index.Postings
	seg   index.Segment
	field string
	doc   int
	sim   *bm25
	ub    float64
	norms []byte // the segment's norm bytes for field (index.NormsSegment)
	cache *[256]float64
}

func newTermScorer(p index.Postings, seg index.Segment, field string, sim *bm25, info index.TermInfo) *termScorer {
	s := &termScorer{p: p, seg: seg, field: field, doc: -1, sim: sim, ub: sim.upperBound(info)}
	if ns, ok := seg.(index.NormsSegment); ok {
		if s.norms = ns.Norms(field); s.norms != nil {
			s.cache = sim.normCache()
		}
	}
	return s
}

func (s *termScorer) docID() int   { return s.doc }
func (s *termScorer) nextDoc() int { s.doc = fromPostings(s.p.Next()); return s.doc }
func (s *termScorer) advance(t int) int {
	if s.doc >= t {
		return s.doc
	}
	s.doc = fromPostings(s.p.Advance(uint32(t)))
	return s.doc
}
func (s *termScorer) score() float64 {
	f := float64(s.p.Freq())
	if s.cache != nil && s.doc < len(s.norms) {
		return s.sim.weight * f / (f + s.cache[s.norms[s.doc]])
	}
	return s.sim.score(f, s.seg.FieldLength(s.field, uint32(s.doc)))
}
func (s *termScorer) maxScore() float64 { return s.ub }

// blockMax bounds the score of the documents from target to the end of
// the postings block holding it (index.BlockMaxPostings), falling back to
// the segment-wide bound. target must not be before the current document.
func (s *termScorer) blockMax(target int) float64 {
	bm, ok := s.p.(index.BlockMaxPostings)
	if !ok || target >= noMore {
		return s.ub
	}
	last, maxFreq, minLen := bm.BlockMax(uint32(target))
	if last == index.NoMoreDocs {
		return 0
	}
	return min(s.ub, s.sim.upperBound(index.TermInfo{MaxFreq: maxFreq, MinFieldLength: minLen}))
}
func (s *termScorer) cost() int64 { return s.p.Cost() }

// constScorer gives every document of an iterator the same score.
type constScorer struct {
	it    scorer
	value float64
}

func (s *constScorer) docID() int          { return s.it.docID() }
func (s *constScorer) nextDoc() int        { return s.it.nextDoc() }
func (s *constScorer) advance(t int) int   { return s.it.advance(t) }
func (s *constScorer) score() float64      { return s.value }
func (s *constScorer) maxScore() float64   { return s.value }
func (s *constScorer) cost() int64         { return s.it.cost() }
func constant(it scorer, v float64) scorer { return &constScorer{it: it, value: v} }

// boostScorer multiplies a scorer's scores.
type boostScorer struct {
	scorer
	boost float64
}

func (s *boostScorer) score() float64    { return s.scorer.score() * s.boost }
func (s *boostScorer) maxScore() float64 { return s.scorer.maxScore() * s.boost }

func boosted(s scorer, b float64) scorer {
	if b == 1 {
		return s
	}
	return &boostScorer{scorer: s, boost: b}
}

// bitsetIter iterates the set bits of a bitset.
type bitsetIter struct {
	words []uint64
	max   int
	doc   int
	n     int64
}

func newBitset(maxDoc uint32) *bitsetIter {
	return &bitsetIter{words: make([]uint64, (maxDoc+63)/64), max: int(maxDoc), doc: -1}
}

func (b *bitsetIter) set(d int) {
	if b.words[d>>6]&(1<<(uint(d)&63)) == 0 {
		b.words[d>>6] |= 1 << (uint(d) & 63)
		b.n++
	}
}

// addPostings sets every document of p.
func (b *bitsetIter) addPostings(p index.Postings) {
	for d := p.Next(); d != index.NoMoreDocs; d = p.Next() {
		b.set(int(d))
	}
}

func (b *bitsetIter) docID() int   { return b.doc }
func (b *bitsetIter) nextDoc() int { return b.advance(b.doc + 1) }
func (b *bitsetIter) advance(t int) int {
	if b.doc >= t {
		return b.doc
	}
	for t < b.max {
		w := b.words[t>>6] >> (uint(t) & 63)
		if w != 0 {
			b.doc = t + bits.TrailingZeros64(w)
			return b.doc
		}
		t = (t | 63) + 1
	}
	b.doc = noMore
	return b.doc
}
func (b *bitsetIter) score() float64    { return 0 }
func (b *bitsetIter) maxScore() float64 { return 0 }
func (b *bitsetIter) cost() int64       { return b.n }

// allIter iterates every document of a segment.
type allIter struct{ doc, max int }

func (a *allIter) docID() int   { return a.doc }
func (a *allIter) nextDoc() int { return a.advance(a.doc + 1) }
func (a *allIter) advance(t int) int {
	if a.doc >= t {
		return a.doc
	}
	if t >= a.max {
		a.doc = noMore
	} else {
		a.doc = t
	}
	return a.doc
}
func (a *allIter) score() float64    { return 0 }
func (a *allIter) maxScore() float64 { return 0 }
func (a *allIter) cost() int64       { return int64(a.max) }

// conjunction matches the documents all its scorers match, leapfrogging
// from the cheapest; its score sums the scorers' (in clause order).
type conjunction struct {
	subs  []scorer // clause order, for the score
	order []scorer // by cost
	doc   int
}

func newConjunction(subs []scorer) scorer {
	if len(subs) == 1 {
		return subs[0]
	}
	order := append([]scorer(nil), subs...)
	sortScorersByCost(order)
	return &conjunction{subs: subs, order: order, doc: -1}
}

func (c *conjunction) docID() int   { return c.doc }
func (c *conjunction) nextDoc() int { return c.align(c.order[0].nextDoc()) }
func (c *conjunction) advance(t int) int {
	if c.doc >= t {
		return c.doc
	}
	return c.align(c.order[0].advance(t))
}

// align moves every scorer to the lead's document d or beyond until all
// agree.
func (c *conjunction) align(d int) int {
again:
	for d != noMore {
		for _, s := range c.order[1:] {
			if got := s.advance(d); got > d {
				d = c.order[0].advance(got)
				continue again
			}
		}
		break
	}
	c.doc = d
	return d
}

func (c *conjunction) score() float64 {
	sum := 0.0
	for _, s := range c.subs {
		sum += s.score()
	}
	return sum
}

func (c *conjunction) maxScore() float64 {
	sum := 0.0
	for _, s := range c.subs {
		sum += s.maxScore()
	}
	return sum
}
func (c *conjunction) cost() int64 { return c.order[0].cost() }

func sortScorersByCost(ss []scorer) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j].cost() < ss[j-1].cost(); j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

// disjunction matches documents at least msm (>= 1) of its scorers match;
// its score sums theirs (in clause order), or with dismax the best plus tie
// times the rest.
type disjunction struct {
	subs   []scorer
	msm    int
	dismax bool
	tie    float64
	doc    int
}

func newDisjunction(subs []scorer, msm int) scorer {
	if len(subs) == 1 && msm <= 1 {
		return subs[0]
	}
	return &disjunction{subs: subs, msm: max(msm, 1), doc: -1}
}

func (d *disjunction) docID() int   { return d.doc }
func (d *disjunction) nextDoc() int { return d.advance(d.doc + 1) }
func (d *disjunction) advance(t int) int {
	if d.doc >= t {
		return d.doc
	}
	for {
		m := noMore
		for _, s := range d.subs {
			if s.docID() < t {
				s.advance(t)
			}
			m = min(m, s.docID())
		}
		if m == noMore || d.msm <= 1 {
			d.doc = m
			return m
		}
		n := 0
		for _, s := range d.subs {
			if s.docID() == m {
				n++
			}
		}
		if n >= d.msm {
			d.doc = m
			return m
		}
		t = m + 1
	}
}

func (d *disjunction) score() float64 {
	sum, best := 0.0, 0.0
	for _, s := range d.subs {
		if s.docID() == d.doc {
			v := s.score()
			sum += v
			best = max(best, v)
		}
	}
	if d.dismax {
		return best + d.tie*(sum-best)
	}
	return sum
}

func (d *disjunction) maxScore() float64 {
	sum, best := 0.0, 0.0
	for _, s := range d.subs {
		sum += s.maxScore()
		best = max(best, s.maxScore())
	}
	if d.dismax {
		return best + d.tie*(sum-best)
	}
	return sum
}

func (d *disjunction) cost() int64 {
	var c int64
	for _, s := range d.subs {
		c += s.cost()
	}
	return c
}

// reqExcl matches req's documents that excl does not match.
type reqExcl struct {
	req, excl scorer
}

func (r *reqExcl) docID() int { return r.req.docID() }
func (r *reqExcl) nextDoc() int {
	return r.skip(r.req.nextDoc())
}
func (r *reqExcl) advance(t int) int {
	if r.req.docID() >= t {
		return r.req.docID()
	}
	return r.skip(r.req.advance(t))
}
func (r *reqExcl) skip(d int) int {
	for d != noMore && r.excl.advance(d) == d {
		d = r.req.nextDoc()
	}
	return d
}
func (r *reqExcl) score() float64    { return r.req.score() }
func (r *reqExcl) maxScore() float64 { return r.req.maxScore() }
func (r *reqExcl) cost() int64       { return r.req.cost() }

// reqOpt matches req's documents, adding opt's score where opt matches too.
type reqOpt struct {
	req, opt scorer
}

func (r *reqOpt) docID() int        { return r.req.docID() }
func (r *reqOpt) nextDoc() int      { return r.req.nextDoc() }
func (r *reqOpt) advance(t int) int { return r.req.advance(t) }
func (r *reqOpt) score() float64 {
	d := r.req.docID()
	s := r.req.score()
	if r.opt.advance(d) == d {
		s += r.opt.score()
	}
	return s
}
func (r *reqOpt) maxScore() float64 { return r.req.maxScore() + r.opt.maxScore() }
func (r *reqOpt) cost() int64       { return r.req.cost() }

// zeroScorer keeps an iterator's matches but scores 0 (filter context).
type zeroScorer struct{ scorer }

func (z zeroScorer) score() float64    { return 0 }
func (z zeroScorer) maxScore() float64 { return 0 }
