package query

import (
	"sort"

	"cairn.dev/cairn/searchd/index"
)

// execCtx holds what one Execute needs to turn nodes into scorers: the
// reader, the statistics and the expansions of multi-term queries (made
// once per shard, so every segment uses the same terms).
type execCtx struct {
	r          *index.Reader
	global     *Stats
	settings   Settings
	limits     Limits
	fsCache    map[string]FieldStats
	expansions map[*multiTermNode][]expTerm
	clauses    int
	// highlight collects, per field, the terms the query matches.
	highlight map[string]map[string]bool
	// err is the first error of a term dictionary walk.
	err error
}

func newExec(r *index.Reader, global *Stats, s Settings, l Limits) *execCtx {
	return &execCtx{r: r, global: global, settings: s.withDefaults(), limits: l.withDefaults(),
		fsCache: map[string]FieldStats{}, expansions: map[*multiTermNode][]expTerm{},
		highlight: map[string]map[string]bool{}}
}

// weight builds a node's scorers for any segment; a nil scorer means no
// match in that segment.
type weight func(seg index.Segment) scorer

func noMatch(index.Segment) scorer { return nil }

func (ex *execCtx) noteTerm(field, term string) {
	m := ex.highlight[field]
	if m == nil {
		m = map[string]bool{}
		ex.highlight[field] = m
	}
	m[term] = true
}

// weight prepares n: statistics looked up, multi-term queries expanded.
func (ex *execCtx) weight(n node) (weight, error) {
	switch n := n.(type) {
	case *termNode:
		ex.clauses++
		ex.noteTerm(n.field, n.term)
		return ex.termWeight(n.field, n.term, n.boost, n.scoring, 0), nil
	case *termsNode:
		ex.clauses += len(n.terms)
		for _, t := range n.terms {
			ex.noteTerm(n.field, t)
		}
		return ex.bitsetWeight(n.boost, func(seg index.Segment, bs *bitsetIter) {
			td := seg.Terms(n.field)
			if td == nil {
				return
			}
			for _, t := range n.terms {
				if info, ok := td.Get([]byte(t)); ok {
					bs.addPostings(td.Postings(info, false))
				}
			}
		}), nil
	case *multiTermNode:
		return ex.multiTermWeight(n)
	case *phraseNode:
		return ex.phraseWeight(n)
	case *rangeNode:
		ex.clauses++
		return ex.rangeWeight(n), nil
	case *existsNode:
		ex.clauses++
		return ex.existsWeight(n), nil
	case *idsNode:
		ex.clauses++
		return ex.bitsetWeight(n.boost, func(seg index.Segment, bs *bitsetIter) {
			for d := uint32(0); d < seg.MaxDoc(); d++ {
				if n.ids[seg.ID(d)] {
					bs.set(int(d))
				}
			}
		}), nil
	case *matchAllNode:
		ex.clauses++
		return func(seg index.Segment) scorer {
			return constant(&allIter{doc: -1, max: int(seg.MaxDoc())}, n.boost)
		}, nil
	case *matchNoneNode:
		return noMatch, nil
	case *constNode:
		w, err := ex.weight(n.filter)
		if err != nil {
			return nil, err
		}
		return func(seg index.Segment) scorer {
			s := w(seg)
			if s == nil {
				return nil
			}
			return constant(s, n.boost)
		}, nil
	case *disMaxNode:
		ws, err := ex.weights(n.subs)
		if err != nil {
			return nil, err
		}
		return func(seg index.Segment) scorer {
			subs := scorersOf(ws, seg)
			if len(subs) == 0 {
				return nil
			}
			return boosted(&disjunction{subs: subs, msm: 1, dismax: true, tie: n.tie, doc: -1}, n.boost)
		}, nil
	case *boolNode:
		return ex.boolWeight(n)
	}
	return noMatch, nil
}

func (ex *execCtx) weights(ns []node) ([]weight, error) {
	ws := make([]weight, len(ns))
	for i, n := range ns {
		w, err := ex.weight(n)
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return ws, nil
}

// scorersOf returns the non-nil scorers of ws in seg.
func scorersOf(ws []weight, seg index.Segment) []scorer {
	var out []scorer
	for _, w := range ws {
		if s := w(seg); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// termWeight scores one term: BM25 when scoring (with document frequency
// dfOverride when > 0, for blended fuzzy terms), else the boost.
func (ex *execCtx) termWeight(field, term string, boost float64, scoring bool, dfOverride int64) weight {
	var sim *bm25
	if scoring {
		fs := ex.fieldStats(field)
		df := dfOverride
		if df <= 0 {
			df = ex.docFreq(field, term)
		}
		sim = newBM25(ex.settings, fs, idf(max(fs.DocCount, df), df), boost)
	}
	tb := []byte(term)
	return func(seg index.Segment) scorer {
		td := seg.Terms(field)
		if td == nil {
			return nil
		}
		info, ok := td.Get(tb)
		if !ok {
			return nil
		}
		p := td.Postings(info, false)
		if sim == nil {
			return constant(&postingsIter{p: p, doc: -1}, boost)
		}
		return newTermScorer(p, seg, field, sim, info)
	}
}

// bitsetWeight matches the documents fill sets, with a constant score.
func (ex *execCtx) bitsetWeight(boost float64, fill func(seg index.Segment, bs *bitsetIter)) weight {
	return func(seg index.Segment) scorer {
		bs := newBitset(seg.MaxDoc())
		fill(seg, bs)
		if bs.n == 0 {
			return nil
		}
		return constant(bs, boost)
	}
}

// boolWeight combines a bool's clauses: must and filter are required
// (filter without score), should is optional unless minimum_should_match
// (default 1 with no must or filter) asks for some, must_not excludes. A
// bool without must, filter or should matches every document must_not does
// not exclude.
func (ex *execCtx) boolWeight(n *boolNode) (weight, error) {
	must, err := ex.weights(n.must)
	if err != nil {
		return nil, err
	}
	should, err := ex.weights(n.should)
	if err != nil {
		return nil, err
	}
	mustNot, err := ex.weights(n.mustNot)
	if err != nil {
		return nil, err
	}
	filter, err := ex.weights(n.filter)
	if err != nil {
		return nil, err
	}
	msm := n.msm
	if msm < 0 {
		msm = 0
		if len(n.must) == 0 && len(n.filter) == 0 && len(n.should) > 0 {
			msm = 1
		}
	}
	if len(n.must) == 0 && len(n.filter) == 0 && len(n.should) > 0 && msm == 0 {
		msm = 1
	}
	return func(seg index.Segment) scorer {
		var req []scorer
		for _, w := range must {
			s := w(seg)
			if s == nil {
				return nil
			}
			req = append(req, s)
		}
		for _, w := range filter {
			s := w(seg)
			if s == nil {
				return nil
			}
			req = append(req, zeroScorer{s})
		}
		var opt scorer
		if len(should) > 0 {
			subs := scorersOf(should, seg)
			if len(subs) < msm {
				return nil
			}
			if len(subs) > 0 {
				opt = newDisjunction(subs, msm)
			}
		}
		var s scorer
		switch {
		case msm > 0:
			s = newConjunction(append(req, opt))
		case len(req) > 0 && opt != nil:
			s = &reqOpt{req: newConjunction(req), opt: opt}
		case len(req) > 0:
			s = newConjunction(req)
		case len(n.should) == 0:
			// must_not alone, or no clause at all: every (other) document,
			// as Elasticsearch's bool matches all without positive clauses.
			s = constant(&allIter{doc: -1, max: int(seg.MaxDoc())}, 0)
		default:
			return nil
		}
		if excl := scorersOf(mustNot, seg); len(excl) > 0 {
			s = &reqExcl{req: s, excl: newDisjunction(excl, 1)}
		}
		return boosted(s, n.boost)
	}, nil
}

// postingsIter iterates postings without scoring.
type postingsIter struct {
	p   index.Postings
	doc int
}

func (it *postingsIter) docID() int   { return it.doc }
func (it *postingsIter) nextDoc() int { it.doc = fromPostings(it.p.Next()); return it.doc }
func (it *postingsIter) advance(t int) int {
	if it.doc >= t {
		return it.doc
	}
	it.doc = fromPostings(it.p.Advance(uint32(t)))
	return it.doc
}
func (it *postingsIter) score() float64    { return 0 }
func (it *postingsIter) maxScore() float64 { return 0 }
func (it *postingsIter) cost() int64       { return it.p.Cost() }

// expTerm is one term a multi-term query expanded to.
type expTerm struct {
	term  string
	df    int64
	edits int
}

// expand returns the terms n expands to over the shard (cached): at most
// n.maxExpansions of them. Fuzzy keeps the closest terms (fewest edits),
// then the most frequent; prefix and wildcard keep the most frequent; ties
// go to the smaller term.
func (ex *execCtx) expand(n *multiTermNode) []expTerm {
	if e, ok := ex.expansions[n]; ok {
		return e
	}
	// One automaton for every segment: its lazily built states carry over.
	var a index.Automaton
	var start, end []byte
	switch n.kind {
	case multiPrefix:
		start, end = []byte(n.text), prefixEnd(n.text)
	case multiWildcard:
		wa := newWildcardAutomaton(n.text)
		if p := wa.literalPrefix(); p != "" {
			start, end = []byte(p), prefixEnd(p)
		}
		a = wa
	case multiFuzzy:
		if p := runePrefix(n.text, n.prefixLen); p != "" {
			start, end = []byte(p), prefixEnd(p)
		}
		a = newLevAutomaton(n.text, n.edits, n.transpositions, false)
	}
	dfs := map[string]int64{}
	for _, seg := range ex.r.Segments {
		td := seg.Terms(n.field)
		if td == nil {
			continue
		}
		it := td.Iterate(a, start, end)
		for it.Next() {
			dfs[string(it.Term())] += int64(it.Info().DocFreq)
		}
		if err := it.Err(); err != nil && ex.err == nil {
			ex.err = err
		}
	}
	out := make([]expTerm, 0, len(dfs))
	for t, df := range dfs {
		e := expTerm{term: t, df: df}
		if n.kind == multiFuzzy {
			e.edits = editDistance(n.text, t, n.transpositions)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.edits != b.edits {
			return a.edits < b.edits
		}
		if a.df != b.df {
			return a.df > b.df
		}
		return a.term < b.term
	})
	limit := n.maxExpansions
	if limit <= 0 || limit > ex.limits.MaxExpansions {
		limit = ex.limits.MaxExpansions
	}
	if len(out) > limit {
		out = out[:limit]
	}
	ex.expansions[n] = out
	return out
}

// runePrefix returns the first n runes of s.
func runePrefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// multiTermWeight scores an expanded multi-term query. Fuzzy terms score
// with BM25 with their document frequencies blended (every term gets the
// largest, so a rare misspelling does not outscore the intended word) and
// a boost of 1 - edits/length; prefix and wildcard match with a constant
// score.
func (ex *execCtx) multiTermWeight(n *multiTermNode) (weight, error) {
	terms := ex.expand(n)
	ex.clauses += len(terms)
	if ex.clauses > ex.limits.MaxClauses {
		return nil, limitErr(ErrTooManyClauses, "query", ex.clauses, "max_clauses", ex.limits.MaxClauses)
	}
	if len(terms) == 0 {
		return noMatch, nil
	}
	for _, t := range terms {
		ex.noteTerm(n.field, t.term)
	}
	if n.kind != multiFuzzy {
		return ex.bitsetWeight(n.boost, func(seg index.Segment, bs *bitsetIter) {
			td := seg.Terms(n.field)
			if td == nil {
				return
			}
			for _, t := range terms {
				if info, ok := td.Get([]byte(t.term)); ok {
					bs.addPostings(td.Postings(info, false))
				}
			}
		}), nil
	}
	var maxDF int64
	for _, t := range terms {
		maxDF = max(maxDF, ex.docFreq(n.field, t.term))
	}
	ws := make([]weight, len(terms))
	for i, t := range terms {
		l := min(len(n.text), len(t.term))
		b := 1.0
		if l > 0 {
			b = max(0, 1-float64(t.edits)/float64(l))
		}
		ws[i] = ex.termWeight(n.field, t.term, n.boost*b, true, maxDF)
	}
	return func(seg index.Segment) scorer {
		subs := scorersOf(ws, seg)
		if len(subs) == 0 {
			return nil
		}
		return newDisjunction(subs, 1)
	}, nil
}
