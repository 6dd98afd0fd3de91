package aggs

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// testSegment is a slice-backed index.Segment holding doc values only: the
// fixture the collector tests run over.
type testSegment struct {
	n      uint32
	dead   map[uint32]bool
	ints   map[string][][]int64
	floats map[string][][]float64
	kws    map[string]*testKeywords
}

type testKeywords struct {
	terms []string
	ords  [][]uint32
}

func (k *testKeywords) Ords(doc uint32, dst []uint32) []uint32 { return append(dst, k.ords[doc]...) }
func (k *testKeywords) Lookup(ord uint32) []byte               { return []byte(k.terms[ord]) }
func (k *testKeywords) Count() uint32                          { return uint32(len(k.terms)) }

type testInts [][]int64

func (v testInts) Values(doc uint32, dst []int64) []int64 { return append(dst, v[doc]...) }

type testFloats [][]float64

func (v testFloats) Values(doc uint32, dst []float64) []float64 { return append(dst, v[doc]...) }

func (s *testSegment) MaxDoc() uint32                     { return s.n }
func (s *testSegment) Live(doc uint32) bool               { return !s.dead[doc] }
func (s *testSegment) LiveCount() uint32                  { return s.n - uint32(len(s.dead)) }
func (s *testSegment) ID(doc uint32) string               { return "" }
func (s *testSegment) Source(doc uint32) ([]byte, error)  { return nil, nil }
func (s *testSegment) Terms(field string) index.TermDict  { return nil }
func (s *testSegment) FieldStats(string) index.FieldStats { return index.FieldStats{} }
func (s *testSegment) FieldLength(string, uint32) uint32  { return 0 }
func (s *testSegment) Fields() []string                   { return nil }
func (s *testSegment) Ints(field string) index.NumericValues {
	if v, ok := s.ints[field]; ok {
		return testInts(v)
	}
	return nil
}
func (s *testSegment) Floats(field string) index.FloatValues {
	if v, ok := s.floats[field]; ok {
		return testFloats(v)
	}
	return nil
}
func (s *testSegment) Keywords(field string) index.KeywordValues {
	if v, ok := s.kws[field]; ok {
		return v
	}
	return nil
}

// doc is a test document: field → value(s). Values are string ([]string)
// for keywords, int64 ([]int64) for integer, date and boolean fields,
// float64 ([]float64) for float fields.
type doc map[string]any

// buildSegment turns docs into a segment, keyword values as sorted
// per-segment ordinals.
func buildSegment(docs []doc) *testSegment {
	s := &testSegment{n: uint32(len(docs)), ints: map[string][][]int64{}, floats: map[string][][]float64{}, kws: map[string]*testKeywords{}}
	terms := map[string]map[string]bool{}
	for _, d := range docs {
		for f, v := range d {
			switch v := v.(type) {
			case string:
				addTerm(terms, f, v)
			case []string:
				for _, x := range v {
					addTerm(terms, f, x)
				}
			}
		}
	}
	for f, set := range terms {
		k := &testKeywords{ords: make([][]uint32, len(docs))}
		for t := range set {
			k.terms = append(k.terms, t)
		}
		sort.Strings(k.terms)
		s.kws[f] = k
	}
	for i, d := range docs {
		for f, v := range d {
			switch v := v.(type) {
			case string:
				v1 := []string{v}
				s.addKeywords(f, i, v1)
			case []string:
				s.addKeywords(f, i, v)
			case int64:
				s.addInts(f, i, len(docs), []int64{v})
			case []int64:
				s.addInts(f, i, len(docs), v)
			case int:
				s.addInts(f, i, len(docs), []int64{int64(v)})
			case float64:
				s.addFloats(f, i, len(docs), []float64{v})
			case []float64:
				s.addFloats(f, i, len(docs), v)
			default:
				panic("test document value of an unknown type")
			}
		}
	}
	return s
}

func addTerm(terms map[string]map[string]bool, f, t string) {
	if terms[f] == nil {
		terms[f] = map[string]bool{}
	}
	terms[f][t] = true
}

func (s *testSegment) addKeywords(f string, doc int, vals []string) {
	k := s.kws[f]
	for _, v := range vals {
		o, _ := slices.BinarySearch(k.terms, v)
		if !slices.Contains(k.ords[doc], uint32(o)) {
			k.ords[doc] = append(k.ords[doc], uint32(o))
		}
	}
	slices.Sort(k.ords[doc])
}

func (s *testSegment) addInts(f string, doc, n int, vals []int64) {
	if s.ints[f] == nil {
		s.ints[f] = make([][]int64, n)
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	s.ints[f][doc] = v
}

func (s *testSegment) addFloats(f string, doc, n int, vals []float64) {
	if s.floats[f] == nil {
		s.floats[f] = make([][]float64, n)
	}
	s.floats[f][doc] = slices.Clone(vals)
}

// testMapping is the mapping of the tests' documents.
func testMapping() *mapping.Mapping {
	dv := func(t mapping.Type) *mapping.Field { return &mapping.Field{Type: t, Index: true, DocValues: true} }
	return &mapping.Mapping{Dynamic: mapping.DynamicTrue, Properties: map[string]*mapping.Field{
		"tag":    dv(mapping.Keyword),
		"brand":  dv(mapping.Keyword),
		"price":  dv(mapping.Double),
		"stock":  dv(mapping.Long),
		"rating": dv(mapping.Integer),
		"when":   dv(mapping.Date),
		"sale":   dv(mapping.Boolean),
		"title": {Type: mapping.Text, Index: true, Fields: map[string]*mapping.Field{
			"keyword": dv(mapping.Keyword),
		}},
		"owner": {Type: mapping.Object, Properties: map[string]*mapping.Field{
			"name": dv(mapping.Keyword),
		}},
		"nodv": {Type: mapping.Keyword, Index: true},
	}}
}

// collectShard runs req over one shard's segments and returns its partial.
func collectShard(t testing.TB, req *Request, segs ...index.Segment) []byte {
	t.Helper()
	c := NewCollector(req)
	for _, seg := range segs {
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			if seg.Live(d) {
				c.Collect(d)
			}
		}
	}
	p, err := c.Partial()
	if err != nil {
		t.Fatalf("Partial: %v", err)
	}
	return p
}

// search parses aggsJSON, collects each shard (a list of segments of
// documents) and reduces: the "aggregations" object, decoded.
func search(t testing.TB, aggsJSON string, shards ...[][]doc) map[string]any {
	t.Helper()
	req, err := Parse([]byte(aggsJSON), testMapping(), Limits{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var partials [][]byte
	for _, shard := range shards {
		var segs []index.Segment
		for _, docs := range shard {
			segs = append(segs, buildSegment(docs))
		}
		partials = append(partials, collectShard(t, req, segs...))
	}
	out, err := Reduce(req, partials)
	if err != nil {
		t.Fatalf("Reduce: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("Reduce returned bad JSON %s: %v", out, err)
	}
	return m
}

// reduceJSON is search's raw JSON.
func reduceJSON(t testing.TB, aggsJSON string, shards ...[][]doc) string {
	t.Helper()
	b, err := json.Marshal(search(t, aggsJSON, shards...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
