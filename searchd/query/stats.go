package query

import (
	"cairn.dev/cairn/searchd/index"
)

// CollectStats returns the statistics of req's scoring terms over one shard
// (the DFS phase): fuzzy queries are expanded first, so their terms are
// counted too (each shard expands against its own terms: a word one shard
// keeps among its closest expansions and another does not is counted only
// where it was kept). Its counts cover live and deleted documents, as
// Lucene's. Safe for concurrent use with other readers of r.
func CollectStats(req *Request, r *index.Reader) *Stats {
	sp := req.spec2()
	ex := newExec(r, nil, Settings{}, sp.limits)
	st := &Stats{Fields: map[string]FieldStats{}, Terms: map[string]map[string]int64{}}
	for _, seg := range r.Segments {
		st.Docs += int64(seg.MaxDoc())
	}
	ex.scoringTerms(sp.query, func(field, term string) {
		if _, ok := st.Fields[field]; !ok {
			st.Fields[field] = ex.localFieldStats(field)
		}
		ts := st.Terms[field]
		if ts == nil {
			ts = map[string]int64{}
			st.Terms[field] = ts
		}
		if _, ok := ts[term]; !ok {
			ts[term] = ex.localDocFreq(field, term)
		}
	})
	return st
}

// Add adds o's counts to s. Not safe for concurrent use.
func (s *Stats) Add(o *Stats) {
	if o == nil {
		return
	}
	if s.Fields == nil {
		s.Fields = map[string]FieldStats{}
	}
	if s.Terms == nil {
		s.Terms = map[string]map[string]int64{}
	}
	s.Docs += o.Docs
	for f, fs := range o.Fields {
		cur := s.Fields[f]
		cur.DocCount += fs.DocCount
		cur.SumTotalTermFreq += fs.SumTotalTermFreq
		s.Fields[f] = cur
	}
	for f, ts := range o.Terms {
		dst := s.Terms[f]
		if dst == nil {
			dst = map[string]int64{}
			s.Terms[f] = dst
		}
		for t, n := range ts {
			dst[t] += n
		}
	}
}

// localFieldStats sums a field's statistics over the reader's segments.
func (ex *execCtx) localFieldStats(field string) FieldStats {
	var fs FieldStats
	for _, seg := range ex.r.Segments {
		s := seg.FieldStats(field)
		fs.DocCount += s.DocCount
		fs.SumTotalTermFreq += s.SumTotalTermFreq
	}
	return fs
}

// localDocFreq sums a term's document frequency over the segments.
func (ex *execCtx) localDocFreq(field, term string) int64 {
	var df int64
	for _, seg := range ex.r.Segments {
		td := seg.Terms(field)
		if td == nil {
			continue
		}
		if info, ok := td.Get([]byte(term)); ok {
			df += int64(info.DocFreq)
		}
	}
	return df
}

// fieldStats returns the field's statistics: global when given, else the
// shard's.
func (ex *execCtx) fieldStats(field string) FieldStats {
	if ex.global != nil {
		if fs, ok := ex.global.Fields[field]; ok {
			return fs
		}
	}
	if fs, ok := ex.fsCache[field]; ok {
		return fs
	}
	fs := ex.localFieldStats(field)
	ex.fsCache[field] = fs
	return fs
}

// docFreq returns the term's document frequency: global when given, else
// the shard's.
func (ex *execCtx) docFreq(field, term string) int64 {
	if ex.global != nil {
		if df, ok := ex.global.Terms[field][term]; ok {
			return df
		}
	}
	return ex.localDocFreq(field, term)
}

// scoringTerms calls fn for every term n scores with BM25.
func (ex *execCtx) scoringTerms(n node, fn func(field, term string)) {
	switch n := n.(type) {
	case *termNode:
		if n.scoring {
			fn(n.field, n.term)
		}
	case *phraseNode:
		for i, slot := range n.slots {
			if n.prefixLast && i == len(n.slots)-1 {
				continue
			}
			for _, t := range slot {
				fn(n.field, t)
			}
		}
	case *multiTermNode:
		if n.kind == multiFuzzy {
			for _, e := range ex.expand(n) {
				fn(n.field, e.term)
			}
		}
	case *boolNode:
		for _, list := range [][]node{n.must, n.should} {
			for _, c := range list {
				ex.scoringTerms(c, fn)
			}
		}
	case *disMaxNode:
		for _, c := range n.subs {
			ex.scoringTerms(c, fn)
		}
	}
}
