package query

import (
	"bytes"
	"sort"

	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// memSeg is a test segment built in memory from parsed documents: the
// least of index.Segment the query tests need, with exact field lengths
// (the real index's are approximate above 40 tokens).
type memSeg struct {
	ids     []string
	sources [][]byte
	live    []bool
	fields  map[string]*memField
	ints    map[string]map[uint32][]int64
	floats  map[string]map[uint32][]float64
	kws     map[string]map[uint32][]string
}

type memField struct {
	post    map[string][]memPosting
	terms   []string
	lengths map[uint32]uint32
	stats   index.FieldStats
}

type memPosting struct {
	doc uint32
	pos []uint32
}

// newMemSeg indexes docs in order; termOf encodes numeric values.
func newMemSeg(docs []*mapping.Document) *memSeg {
	s := &memSeg{fields: map[string]*memField{}, ints: map[string]map[uint32][]int64{},
		floats: map[string]map[uint32][]float64{}, kws: map[string]map[uint32][]string{}}
	for _, d := range docs {
		doc := uint32(len(s.ids))
		s.ids = append(s.ids, d.ID)
		s.sources = append(s.sources, d.Source)
		s.live = append(s.live, true)
		for _, fv := range d.Fields {
			if fv.Indexed {
				f := s.fields[fv.Path]
				if f == nil {
					f = &memField{post: map[string][]memPosting{}, lengths: map[uint32]uint32{}}
					s.fields[fv.Path] = f
				}
				add := func(term string, pos uint32) {
					ps := f.post[term]
					if len(ps) == 0 || ps[len(ps)-1].doc != doc {
						ps = append(ps, memPosting{doc: doc})
					}
					ps[len(ps)-1].pos = append(ps[len(ps)-1].pos, pos)
					f.post[term] = ps
				}
				switch fv.Type {
				case mapping.Text:
					for _, t := range fv.Tokens {
						add(t.Term, uint32(t.Position))
					}
					f.lengths[doc] += uint32(len(fv.Tokens))
				case mapping.Keyword:
					add(fv.Keyword, 0)
				case mapping.Double, mapping.Float:
					add(string(index.EncodeFloat(fv.Float)), 0)
				default:
					add(string(index.EncodeInt(fv.Int)), 0)
				}
			}
			if fv.DocValues {
				switch fv.Type {
				case mapping.Keyword:
					addDV(s.kws, fv.Path, doc, fv.Keyword)
				case mapping.Double, mapping.Float:
					addDV(s.floats, fv.Path, doc, fv.Float)
				case mapping.Text:
				default:
					addDV(s.ints, fv.Path, doc, fv.Int)
				}
			}
		}
	}
	for _, f := range s.fields {
		docs := map[uint32]bool{}
		for t, ps := range f.post {
			f.terms = append(f.terms, t)
			f.stats.SumDocFreq += int64(len(ps))
			for _, p := range ps {
				docs[p.doc] = true
				f.stats.SumTotalTermFreq += int64(len(p.pos))
			}
		}
		f.stats.DocCount = int64(len(docs))
		sort.Strings(f.terms)
	}
	return s
}

func addDV[T any](m map[string]map[uint32][]T, field string, doc uint32, v T) {
	if m[field] == nil {
		m[field] = map[uint32][]T{}
	}
	m[field][doc] = append(m[field][doc], v)
}

func (s *memSeg) delete(id string) {
	for i, x := range s.ids {
		if x == id {
			s.live[i] = false
		}
	}
}

func (s *memSeg) MaxDoc() uint32       { return uint32(len(s.ids)) }
func (s *memSeg) Live(doc uint32) bool { return s.live[doc] }
func (s *memSeg) ID(doc uint32) string { return s.ids[doc] }
func (s *memSeg) Source(doc uint32) ([]byte, error) {
	return s.sources[doc], nil
}
func (s *memSeg) LiveCount() uint32 {
	n := uint32(0)
	for _, l := range s.live {
		if l {
			n++
		}
	}
	return n
}
func (s *memSeg) Terms(field string) index.TermDict {
	f := s.fields[field]
	if f == nil {
		return nil
	}
	return f
}
func (s *memSeg) FieldStats(field string) index.FieldStats {
	if f := s.fields[field]; f != nil {
		return f.stats
	}
	return index.FieldStats{}
}
func (s *memSeg) FieldLength(field string, doc uint32) uint32 {
	if f := s.fields[field]; f != nil {
		return f.lengths[doc]
	}
	return 0
}
func (s *memSeg) Ints(field string) index.NumericValues {
	if m := s.ints[field]; m != nil {
		return memInts(m)
	}
	return nil
}
func (s *memSeg) Floats(field string) index.FloatValues {
	if m := s.floats[field]; m != nil {
		return memFloats(m)
	}
	return nil
}
func (s *memSeg) Keywords(field string) index.KeywordValues {
	m := s.kws[field]
	if m == nil {
		return nil
	}
	kv := &memKeywords{ords: map[uint32][]uint32{}}
	set := map[string]bool{}
	for _, vs := range m {
		for _, v := range vs {
			set[v] = true
		}
	}
	for v := range set {
		kv.values = append(kv.values, v)
	}
	sort.Strings(kv.values)
	for d, vs := range m {
		for _, v := range vs {
			kv.ords[d] = append(kv.ords[d], uint32(sort.SearchStrings(kv.values, v)))
		}
	}
	return kv
}
func (s *memSeg) Fields() []string {
	var out []string
	for f := range s.fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

type memInts map[uint32][]int64

func (m memInts) Values(doc uint32, dst []int64) []int64 {
	vs := append(dst, m[doc]...)
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	return vs
}

type memFloats map[uint32][]float64

func (m memFloats) Values(doc uint32, dst []float64) []float64 { return append(dst, m[doc]...) }

type memKeywords struct {
	values []string
	ords   map[uint32][]uint32
}

func (k *memKeywords) Ords(doc uint32, dst []uint32) []uint32 { return append(dst, k.ords[doc]...) }
func (k *memKeywords) Lookup(ord uint32) []byte               { return []byte(k.values[ord]) }
func (k *memKeywords) Count() uint32                          { return uint32(len(k.values)) }

// TermDict

func (f *memField) Get(term []byte) (index.TermInfo, bool) {
	ps, ok := f.post[string(term)]
	if !ok {
		return index.TermInfo{}, false
	}
	return f.info(string(term), ps), true
}

func (f *memField) info(term string, ps []memPosting) index.TermInfo {
	info := index.TermInfo{DocFreq: uint32(len(ps)), MinFieldLength: ^uint32(0)}
	for _, p := range ps {
		info.TotalTermFreq += uint64(len(p.pos))
		info.MaxFreq = max(info.MaxFreq, uint32(len(p.pos)))
		info.MinFieldLength = min(info.MinFieldLength, f.lengths[p.doc])
	}
	info.Ref = uint64(sort.SearchStrings(f.terms, term))
	return info
}

func (f *memField) Len() int { return len(f.terms) }

func (f *memField) Iterate(a index.Automaton, start, end []byte) index.TermIterator {
	var out []string
	for _, t := range f.terms {
		if start != nil && bytes.Compare([]byte(t), start) < 0 {
			continue
		}
		if end != nil && bytes.Compare([]byte(t), end) >= 0 {
			continue
		}
		if a != nil && !runAutomaton(a, t) {
			continue
		}
		out = append(out, t)
	}
	return &memTermIter{f: f, terms: out, i: -1}
}

func runAutomaton(a index.Automaton, t string) bool {
	s := a.Start()
	for i := 0; i < len(t); i++ {
		if !a.CanMatch(s) {
			return false
		}
		if a.WillAlwaysMatch(s) {
			return true
		}
		s = a.Accept(s, t[i])
	}
	return a.IsMatch(s)
}

func (f *memField) Postings(t index.TermInfo, positions bool) index.Postings {
	return &memPostings{ps: f.post[f.terms[t.Ref]], i: -1}
}

type memTermIter struct {
	f     *memField
	terms []string
	i     int
}

func (it *memTermIter) Next() bool   { it.i++; return it.i < len(it.terms) }
func (it *memTermIter) Term() []byte { return []byte(it.terms[it.i]) }
func (it *memTermIter) Info() index.TermInfo {
	t := it.terms[it.i]
	return it.f.info(t, it.f.post[t])
}
func (it *memTermIter) Err() error { return nil }

type memPostings struct {
	ps []memPosting
	i  int
}

func (p *memPostings) Doc() uint32 {
	if p.i < 0 {
		return 0
	}
	if p.i >= len(p.ps) {
		return index.NoMoreDocs
	}
	return p.ps[p.i].doc
}
func (p *memPostings) Next() uint32 { p.i++; return p.Doc() }
func (p *memPostings) Advance(t uint32) uint32 {
	for {
		d := p.Next()
		if d >= t {
			return d
		}
	}
}
func (p *memPostings) Freq() uint32                    { return uint32(len(p.ps[p.i].pos)) }
func (p *memPostings) Positions(dst []uint32) []uint32 { return append(dst, p.ps[p.i].pos...) }
func (p *memPostings) Cost() int64                     { return int64(len(p.ps) - max(p.i, 0)) }
