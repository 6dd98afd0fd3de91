package query

import "sort"

// maxScoreScorer is a disjunction that skips documents which cannot enter
// the top k (the MaxScore algorithm): once the collector reports the
// lowest competitive score θ, the clauses whose summed upper bounds stay
// under θ become non-essential — documents matching only them are never
// visited — and a candidate is dropped as soon as its partial score plus
// the remaining bounds cannot beat θ. Scores of the documents it returns
// are computed exactly as the plain disjunction computes them, so the top k
// is the same as with exhaustive scoring; only the count of matches becomes
// a lower bound.
type maxScoreScorer struct {
	subs   []scorer  // clause order (the order scores are summed in)
	ubs    []float64 // per clause
	byUB   []int     // clause indices by ascending upper bound
	cumUB  []float64 // cumUB[k]: sum of the k smallest bounds
	nonEss int       // the first nonEss of byUB are non-essential
	boost  float64
	theta  float64
	doc    int
	pruned bool
	// blockUB holds, while a candidate is checked, each non-essential
	// clause's bound over its current postings block.
	blockUB []float64
}

// blockScorer is a scorer with per-block bounds (term scorers over
// index.BlockMaxPostings).
type blockScorer interface {
	blockMax(target int) float64
}

func newMaxScoreScorer(subs []scorer, boost float64) *maxScoreScorer {
	m := &maxScoreScorer{subs: subs, boost: boost, doc: -1}
	m.ubs = make([]float64, len(subs))
	m.byUB = make([]int, len(subs))
	for i, s := range subs {
		m.ubs[i] = s.maxScore()
		m.byUB[i] = i
	}
	sort.SliceStable(m.byUB, func(a, b int) bool { return m.ubs[m.byUB[a]] < m.ubs[m.byUB[b]] })
	m.cumUB = make([]float64, len(subs)+1)
	for k, i := range m.byUB {
		m.cumUB[k+1] = m.cumUB[k] + m.ubs[i]
	}
	return m
}

// setMinCompetitive raises θ: later documents must score above it.
func (m *maxScoreScorer) setMinCompetitive(theta float64) {
	if theta <= m.theta {
		return
	}
	m.theta = theta
	m.pruned = true
	for m.nonEss < len(m.subs) && m.bound(m.cumUB[m.nonEss+1]) <= theta {
		m.nonEss++
	}
}

// bound converts a sum of clause scores to a conservative upper bound of
// the boosted score.
func (m *maxScoreScorer) bound(sum float64) float64 { return sum * m.boost * (1 + 1e-12) }

func (m *maxScoreScorer) docID() int   { return m.doc }
func (m *maxScoreScorer) nextDoc() int { return m.advance(m.doc + 1) }

func (m *maxScoreScorer) advance(t int) int {
	if m.doc >= t {
		return m.doc
	}
	for {
		if m.nonEss >= len(m.subs) {
			m.doc = noMore
			return noMore
		}
		d := noMore
		for _, i := range m.byUB[m.nonEss:] {
			s := m.subs[i]
			if s.docID() < t {
				s.advance(t)
			}
			d = min(d, s.docID())
		}
		if d == noMore {
			m.doc = noMore
			return noMore
		}
		if m.competitive(d) {
			m.doc = d
			return d
		}
		t = d + 1
	}
}

// competitive reports whether d can score above θ, scoring essential
// clauses first, then non-essential ones by decreasing bound.
func (m *maxScoreScorer) competitive(d int) bool {
	sum := 0.0
	for _, i := range m.byUB[m.nonEss:] {
		if m.subs[i].docID() == d {
			sum += m.subs[i].score()
		}
	}
	rem := m.cumUB[m.nonEss]
	if m.theta > 0 && m.bound(sum+rem) <= m.theta {
		return false
	}
	// Tighter: the non-essential clauses' bounds over the postings blocks
	// holding d.
	if m.nonEss > 0 {
		if m.blockUB == nil {
			m.blockUB = make([]float64, len(m.subs))
		}
		rem = 0
		for _, i := range m.byUB[:m.nonEss] {
			ub := m.ubs[i]
			if bs, ok := m.subs[i].(blockScorer); ok && m.subs[i].docID() <= d {
				ub = bs.blockMax(d)
			}
			m.blockUB[i] = ub
			rem += ub
		}
		if m.bound(sum+rem) <= m.theta {
			return false
		}
	}
	for k := m.nonEss - 1; k >= 0; k-- {
		i := m.byUB[k]
		rem -= m.blockUB[i]
		s := m.subs[i]
		if s.docID() < d {
			s.advance(d)
		}
		if s.docID() == d {
			sum += s.score()
		}
		if m.bound(sum+max(rem, 0)) <= m.theta {
			return false
		}
	}
	return true
}

// score sums the clauses on the document in clause order (advancing any
// non-essential clause left behind).
func (m *maxScoreScorer) score() float64 {
	sum := 0.0
	for _, s := range m.subs {
		if s.docID() < m.doc {
			s.advance(m.doc)
		}
		if s.docID() == m.doc {
			sum += s.score()
		}
	}
	return sum * m.boost
}

func (m *maxScoreScorer) maxScore() float64 { return m.bound(m.cumUB[len(m.subs)]) }
func (m *maxScoreScorer) cost() int64 {
	var c int64
	for _, s := range m.subs {
		c += s.cost()
	}
	return c
}
