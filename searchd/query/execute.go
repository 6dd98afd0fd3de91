package query

import (
	"container/heap"
	"context"
	"math"

	"cairn.dev/cairn/searchd/aggs"
	"cairn.dev/cairn/searchd/index"
)

// Execute runs req over r, scoring with stats (nil: r's own). It returns
// the shard's top From+Size hits (with filtered sources, highlights and
// sort values), its count of matches (exact up to req.TrackTotalHits, then
// "gte"), its partial aggregations and suggestions. It checks ctx between
// segments and every few thousand matches and stops with ctx's error.
//
// Documents are visited segment by segment in index order; equal scores
// (or sort values) keep that order. When the request sorts by score,
// needs no aggregations and has counted TrackTotalHits matches, a
// disjunctive query skips documents that cannot enter the top hits
// (MaxScore).
func Execute(ctx context.Context, req *Request, r *index.Reader, stats *Stats, settings Settings) (*ShardResult, error) {
	sp := req.spec2()
	ex := newExec(r, stats, settings, sp.limits)
	root, pruneSubs, pruneBoost, err := ex.rootWeight(sp.query)
	if err != nil {
		return nil, err
	}
	if ex.clauses > ex.limits.MaxClauses {
		return nil, limitErr(ErrTooManyClauses, "query", ex.clauses, "max_clauses", ex.limits.MaxClauses)
	}
	if ex.err != nil {
		return nil, ex.err
	}
	byScore := len(sp.sort) == 0
	showScores := byScore || sp.trackScores
	for _, s := range sp.sort {
		if s.kind == sortScore {
			showScores = true
		}
	}
	needScores := showScores || sp.hasMinScore
	k := req.From + req.Size
	c := &collector{k: k, sp: sp, byScore: byScore}
	if sp.searchAfter != nil {
		c.after = sp.searchAfter
		c.afterSpecs = sp.sort
		if byScore {
			c.afterSpecs = []sortSpec{{field: "_score", kind: sortScore, desc: true}}
		}
	}
	var agg *aggs.Collector
	if req.Aggs != nil {
		agg = aggs.NewCollector(req.Aggs)
	}
	track := req.TrackTotalHits
	if track < 0 {
		track = math.MaxInt
	}
	canPrune := byScore && agg == nil && sp.searchAfter == nil && pruneSubs != nil && k > 0
	var count int64
	relation := "eq"
	maxScore := math.Inf(-1)
	base := int64(0)
	for segOrd, seg := range r.Segments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if agg != nil {
			agg.SetSegment(seg)
		}
		var s scorer
		var ms *maxScoreScorer
		if canPrune {
			if subs := scorersOf(pruneSubs, seg); len(subs) > 0 {
				ms = newMaxScoreScorer(subs, pruneBoost)
				s = ms
			}
		} else {
			s = root(seg)
		}
		if s != nil {
			for doc := s.nextDoc(); doc != noMore; doc = s.nextDoc() {
				if !seg.Live(uint32(doc)) {
					continue
				}
				score := math.NaN()
				if needScores {
					score = s.score()
					if sp.hasMinScore && score < sp.minScore {
						continue
					}
				}
				count++
				if count&4095 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				if agg != nil {
					agg.Collect(uint32(doc))
				}
				if needScores && score > maxScore {
					maxScore = score
				}
				if k > 0 {
					c.collect(seg, segOrd, uint32(doc), base+int64(doc), score)
				}
				if ms != nil && count >= int64(track) && len(c.h.items) == k {
					ms.setMinCompetitive(c.h.items[0].score)
				}
			}
			if ms != nil && ms.pruned {
				relation = "gte"
			}
		}
		base += int64(seg.MaxDoc())
	}
	if relation == "eq" && req.TrackTotalHits >= 0 && count > int64(req.TrackTotalHits) {
		relation = "gte"
	}
	res := &ShardResult{Total: count, TotalRelation: relation, MaxScore: maxScore}
	if math.IsInf(maxScore, -1) || !showScores || k == 0 {
		res.MaxScore = math.NaN()
	}
	if res.Hits, err = c.hits(r, ex, sp, showScores); err != nil {
		return nil, err
	}
	if agg != nil {
		if res.Aggs, err = agg.Partial(); err != nil {
			return nil, err
		}
	}
	if len(sp.suggest) > 0 {
		if res.Suggest, err = shardSuggest(sp, r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rootWeight prepares the query; when it is a pure disjunction (a bool of
// should clauses needing one match, as match with operator or), it also
// returns the clauses' weights and the boost, for MaxScore.
func (ex *execCtx) rootWeight(n node) (root weight, subs []weight, boost float64, err error) {
	if b, ok := n.(*boolNode); ok && len(b.must) == 0 && len(b.filter) == 0 && len(b.mustNot) == 0 &&
		len(b.should) > 1 && b.msm <= 1 {
		if subs, err = ex.weights(b.should); err != nil {
			return nil, nil, 0, err
		}
		root = func(seg index.Segment) scorer {
			ss := scorersOf(subs, seg)
			if len(ss) == 0 {
				return nil
			}
			return boosted(newDisjunction(ss, 1), b.boost)
		}
		return root, subs, b.boost, nil
	}
	root, err = ex.weight(n)
	return root, nil, 1, err
}

// entry is a collected hit.
type entry struct {
	score     float64
	keys      []any
	seg       int
	doc       uint32
	readerDoc int64
	segment   index.Segment
}

// collector keeps the k best hits in a heap whose root is the worst.
type collector struct {
	k          int
	sp         *spec
	byScore    bool
	h          hitHeap
	after      []any
	afterSpecs []sortSpec
	scratchI   []int64
	scratchF   []float64
	scratchO   []uint32
}

func (c *collector) collect(seg index.Segment, segOrd int, doc uint32, readerDoc int64, score float64) {
	e := entry{score: score, seg: segOrd, doc: doc, readerDoc: readerDoc, segment: seg}
	if !c.byScore {
		e.keys = c.sortKeys(seg, doc, readerDoc, score)
	}
	if c.after != nil {
		keys := e.keys
		if c.byScore {
			keys = []any{score}
		}
		if compareKeys(keys, c.after, c.afterSpecs) <= 0 {
			return
		}
	}
	c.h.byScore = c.byScore
	c.h.specs = c.sp.sort
	if len(c.h.items) < c.k {
		heap.Push(&c.h, e)
		return
	}
	if c.h.better(e, c.h.items[0]) {
		c.h.items[0] = e
		heap.Fix(&c.h, 0)
	}
}

// sortKeys reads a document's sort values.
func (c *collector) sortKeys(seg index.Segment, doc uint32, readerDoc int64, score float64) []any {
	keys := make([]any, len(c.sp.sort))
	for i := range c.sp.sort {
		s := &c.sp.sort[i]
		var v any
		switch s.kind {
		case sortScore:
			v = score
		case sortDoc:
			v = readerDoc
		case sortID:
			v = seg.ID(doc)
		case sortInt:
			if dv := seg.Ints(s.field); dv != nil {
				c.scratchI = dv.Values(doc, c.scratchI[:0])
				if n := len(c.scratchI); n > 0 {
					if s.modeMax {
						v = slicesMaxInt(c.scratchI)
					} else {
						v = slicesMinInt(c.scratchI)
					}
				}
			}
		case sortFloat:
			if dv := seg.Floats(s.field); dv != nil {
				c.scratchF = dv.Values(doc, c.scratchF[:0])
				if n := len(c.scratchF); n > 0 {
					best := c.scratchF[0]
					for _, x := range c.scratchF[1:] {
						if (s.modeMax && x > best) || (!s.modeMax && x < best) {
							best = x
						}
					}
					v = best
				}
			}
		case sortKeyword:
			if dv := seg.Keywords(s.field); dv != nil {
				c.scratchO = dv.Ords(doc, c.scratchO[:0])
				if n := len(c.scratchO); n > 0 {
					ord := c.scratchO[0]
					for _, o := range c.scratchO[1:] {
						if (s.modeMax && o > ord) || (!s.modeMax && o < ord) {
							ord = o
						}
					}
					v = string(dv.Lookup(ord))
				}
			}
		}
		if v == nil && s.missing != nil {
			v = s.missing
		}
		keys[i] = v
	}
	return keys
}

func slicesMinInt(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}

func slicesMaxInt(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = max(m, x)
	}
	return m
}

// hits returns the collected hits best first, with sources and highlights.
func (c *collector) hits(r *index.Reader, ex *execCtx, sp *spec, withScore bool) ([]Hit, error) {
	n := len(c.h.items)
	out := make([]entry, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = heap.Pop(&c.h).(entry)
	}
	hits := make([]Hit, n)
	for i, e := range out {
		h := Hit{ID: e.segment.ID(e.doc), Score: e.score, Sort: e.keys}
		if !withScore {
			h.Score = math.NaN()
		}
		needSource := !sp.source.disabled || sp.highlight != nil
		if needSource {
			src, err := e.segment.Source(e.doc)
			if err != nil {
				return nil, err
			}
			if sp.highlight != nil {
				h.Highlight = highlightDoc(sp, ex, src)
			}
			h.Source = sp.source.apply(src)
		}
		hits[i] = h
	}
	return hits, nil
}

// hitHeap orders entries worst first.
type hitHeap struct {
	items   []entry
	byScore bool
	specs   []sortSpec
}

// better reports whether a ranks before b.
func (h *hitHeap) better(a, b entry) bool {
	if h.byScore {
		if a.score != b.score {
			return a.score > b.score
		}
	} else if c := compareKeys(a.keys, b.keys, h.specs); c != 0 {
		return c < 0
	}
	if a.seg != b.seg {
		return a.seg < b.seg
	}
	return a.doc < b.doc
}

func (h *hitHeap) Len() int           { return len(h.items) }
func (h *hitHeap) Less(i, j int) bool { return h.better(h.items[j], h.items[i]) }
func (h *hitHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *hitHeap) Push(x any)         { h.items = append(h.items, x.(entry)) }
func (h *hitHeap) Pop() any {
	n := len(h.items)
	e := h.items[n-1]
	h.items = h.items[:n-1]
	return e
}
