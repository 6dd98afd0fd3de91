package index

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"cairn.dev/cairn/searchd/mapping"
	"github.com/blevesearch/vellum/levenshtein"
)

func TestRoundTrip(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	must(t, w.Index(newDoc("a",
		text("body", "the quick brown fox jumps over the lazy dog", 0),
		keyword("tag", "red"), keyword("tag", "blue"),
		long("n", 7), long("n", -3), double("price", 1.5))))
	must(t, w.Index(newDoc("b",
		text("body", "the fox", 0), text("body", "the end", 102),
		keyword("tag", "blue"), long("n", 100))))
	must(t, w.Index(newDoc("c", text("title", "hello world", 0), double("price", -2.25))))
	must(t, w.Refresh())

	r := w.Acquire()
	defer r.Release()
	if len(r.Segments) != 1 || r.NumDocs() != 3 {
		t.Fatalf("segments %d docs %d", len(r.Segments), r.NumDocs())
	}
	s := r.Segments[0]
	if s.MaxDoc() != 3 || s.ID(0) != "a" || s.ID(2) != "c" {
		t.Fatalf("maxDoc %d ids %q %q", s.MaxDoc(), s.ID(0), s.ID(2))
	}
	src, err := s.Source(1)
	if err != nil || string(src) != `{"id":"b"}` {
		t.Fatalf("source %q %v", src, err)
	}
	if got, want := postingsOf(t, s, "body", "the"), []hit{{0, 2, []uint32{0, 6}}, {1, 2, []uint32{0, 102}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the: %v want %v", got, want)
	}
	if got, want := postingsOf(t, s, "body", "fox"), []hit{{0, 1, []uint32{3}}, {1, 1, []uint32{1}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("fox: %v want %v", got, want)
	}
	ti, _ := s.Terms("body").Get([]byte("the"))
	if ti.DocFreq != 2 || ti.TotalTermFreq != 4 || ti.MaxFreq != 2 || ti.MinFieldLength != 4 {
		t.Fatalf("TermInfo %+v", ti)
	}
	if s.FieldLength("body", 0) != 9 || s.FieldLength("body", 1) != 4 || s.FieldLength("body", 2) != 0 {
		t.Fatal("field lengths", s.FieldLength("body", 0), s.FieldLength("body", 1))
	}
	if fs := s.FieldStats("body"); fs != (FieldStats{DocCount: 2, SumTotalTermFreq: 13, SumDocFreq: 11}) {
		t.Fatalf("stats %+v", fs)
	}
	if got := s.Fields(); !slices.Equal(got, []string{"body", "n", "price", "tag", "title"}) {
		t.Fatalf("fields %v", got)
	}
	if got := postingsOf(t, s, "tag", "blue"); len(got) != 2 || got[0].doc != 0 || got[1].doc != 1 || got[0].pos != nil {
		t.Fatalf("tag blue %v", got)
	}
	if got := postingsOf(t, s, "n", string(EncodeInt(100))); len(got) != 1 || got[0].doc != 1 {
		t.Fatalf("n=100 %v", got)
	}
	if got := postingsOf(t, s, "price", string(EncodeFloat(-2.25))); len(got) != 1 || got[0].doc != 2 {
		t.Fatalf("price %v", got)
	}
	ints := s.Ints("n")
	if got := ints.Values(0, nil); !slices.Equal(got, []int64{-3, 7}) {
		t.Fatalf("n[0] %v", got)
	}
	if got := ints.Values(2, nil); len(got) != 0 {
		t.Fatalf("n[2] %v", got)
	}
	fl := s.Floats("price")
	if got := fl.Values(0, nil); !slices.Equal(got, []float64{1.5}) {
		t.Fatalf("price[0] %v", got)
	}
	if got := fl.Values(2, nil); !slices.Equal(got, []float64{-2.25}) {
		t.Fatalf("price[2] %v", got)
	}
	if s.Ints("price") != nil || s.Floats("n") != nil || s.Keywords("n") != nil {
		t.Fatal("doc values of the wrong type")
	}
	kw := s.Keywords("tag")
	if kw.Count() != 2 || string(kw.Lookup(0)) != "blue" || string(kw.Lookup(1)) != "red" {
		t.Fatalf("keywords %d", kw.Count())
	}
	if got := kw.Ords(0, nil); !slices.Equal(got, []uint32{0, 1}) {
		t.Fatalf("ords[0] %v", got)
	}
	if got := kw.Ords(2, nil); len(got) != 0 {
		t.Fatalf("ords[2] %v", got)
	}
	var terms []string
	it := s.Terms("body").Iterate(nil, nil, nil)
	for it.Next() {
		terms = append(terms, string(it.Term()))
	}
	if !slices.Equal(terms, []string{"brown", "dog", "end", "fox", "jumps", "lazy", "over", "quick", "the"}) || it.Err() != nil {
		t.Fatalf("terms %v %v", terms, it.Err())
	}
	if s.Terms("nope") != nil || s.Terms("body").Len() != 9 {
		t.Fatal("Terms")
	}
}

func TestEncodeOrder(t *testing.T) {
	ints := []int64{math.MinInt64, -1 << 40, -5, -1, 0, 1, 2, 1 << 40, math.MaxInt64}
	for i := 1; i < len(ints); i++ {
		if bytes.Compare(EncodeInt(ints[i-1]), EncodeInt(ints[i])) >= 0 {
			t.Fatalf("EncodeInt(%d) >= EncodeInt(%d)", ints[i-1], ints[i])
		}
		if DecodeInt(EncodeInt(ints[i])) != ints[i] {
			t.Fatal("DecodeInt")
		}
	}
	fs := []float64{math.Inf(-1), -1e300, -2.5, -1e-300, 0, 1e-300, 0.5, 3, 1e300, math.Inf(1)}
	for i := 1; i < len(fs); i++ {
		if bytes.Compare(EncodeFloat(fs[i-1]), EncodeFloat(fs[i])) >= 0 {
			t.Fatalf("EncodeFloat(%g) >= EncodeFloat(%g)", fs[i-1], fs[i])
		}
		if SortableFloat(fs[i-1]) >= SortableFloat(fs[i]) {
			t.Fatalf("SortableFloat(%g) >= SortableFloat(%g)", fs[i-1], fs[i])
		}
		if DecodeFloat(EncodeFloat(fs[i])) != fs[i] || FloatFromSortable(SortableFloat(fs[i])) != fs[i] {
			t.Fatal("decode float")
		}
	}
	if !bytes.Equal(EncodeFloat(math.Copysign(0, -1)), EncodeFloat(0)) {
		t.Fatal("-0 != 0")
	}
}

func TestNorms(t *testing.T) {
	prev := uint32(0)
	for l := uint32(0); l < 1<<20; l++ {
		b := EncodeNorm(l)
		d := DecodeNorm(b)
		if d > l || (l < normFreeValues && d != l) {
			t.Fatalf("length %d → %d → %d", l, b, d)
		}
		if d < prev {
			t.Fatalf("not monotonic at %d", l)
		}
		prev = d
	}
	if EncodeNorm(40) == 0 || DecodeNorm(EncodeNorm(1<<31)) == 0 {
		t.Fatal("norm range")
	}
}

func TestIterateAutomaton(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	words := []string{"hello", "help", "hell", "yellow", "hallo", "world", "helmet", "he"}
	for i, wd := range words {
		must(t, w.Index(newDoc(fmt.Sprint(i), text("f", wd, 0))))
	}
	must(t, w.Refresh())
	r := w.Acquire()
	defer r.Release()
	td := r.Segments[0].Terms("f")
	collect := func(it TermIterator) []string {
		var out []string
		for it.Next() {
			out = append(out, string(it.Term()))
			if it.Info().DocFreq != 1 {
				t.Fatalf("%s DocFreq %d", it.Term(), it.Info().DocFreq)
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		return out
	}
	if got := collect(td.Iterate(nil, []byte("hel"), []byte("hem"))); !slices.Equal(got, []string{"hell", "hello", "helmet", "help"}) {
		t.Fatalf("prefix hel: %v", got)
	}
	if got := collect(td.Iterate(nil, []byte("x"), nil)); !slices.Equal(got, []string{"yellow"}) {
		t.Fatalf("from x: %v", got)
	}
	if got := collect(td.Iterate(nil, []byte("zz"), nil)); len(got) != 0 {
		t.Fatalf("from zz: %v", got)
	}
	lb, err := levenshtein.NewLevenshteinAutomatonBuilder(1, false)
	must(t, err)
	dfa, err := lb.BuildDfa("hello", 1)
	must(t, err)
	if got := collect(td.Iterate(dfa, nil, nil)); !slices.Equal(got, []string{"hallo", "hell", "hello"}) {
		t.Fatalf("fuzzy hello~1: %v", got)
	}
	if got := collect(td.Iterate(dfa, []byte("hellp"), nil)); len(got) != 0 {
		t.Fatalf("fuzzy from hellp: %v", got)
	}
}

var _ = mapping.Text

// TestEdgeValues: the empty keyword and id, long and non-ASCII terms,
// extreme numbers, a doc without fields; through a flush and a merge.
func TestEdgeValues(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	longKw := string(bytes.Repeat([]byte("é"), 3000))
	must(t, w.Index(newDoc("", keyword("k", ""), long("n", math.MinInt64), double("f", math.Inf(-1)))))
	must(t, w.Index(newDoc("ü", keyword("k", longKw), long("n", math.MaxInt64), double("f", math.MaxFloat64))))
	must(t, w.Index(newDoc("bare")))
	must(t, w.Refresh())
	must(t, w.Index(newDoc("x", keyword("k", ""))))
	must(t, w.ForceMerge(1))
	r := w.Acquire()
	defer r.Release()
	s := r.Segments[0]
	if s.MaxDoc() != 4 || countTerm(r, "k", "") != 2 || countTerm(r, "k", longKw) != 1 {
		t.Fatalf("maxDoc %d", s.MaxDoc())
	}
	if src, ok := getSource(t, w, ""); !ok || src != `{"id":""}` {
		t.Fatalf("get empty id: %q", src)
	}
	var got []int64
	var gotF []float64
	for d := uint32(0); d < s.MaxDoc(); d++ {
		got = s.Ints("n").Values(d, got)
		gotF = s.Floats("f").Values(d, gotF)
	}
	if !slices.Equal(got, []int64{math.MinInt64, math.MaxInt64}) || !slices.Equal(gotF, []float64{math.Inf(-1), math.MaxFloat64}) {
		t.Fatalf("doc values %v %v", got, gotF)
	}
	if kw := s.Keywords("k"); kw.Count() != 2 || string(kw.Lookup(1)) != longKw {
		t.Fatal("keyword values")
	}
}
