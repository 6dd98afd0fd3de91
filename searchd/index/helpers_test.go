package index

import (
	"fmt"
	"strings"
	"testing"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/mapping"
)

// text builds an analysed text value: words split on spaces, positions
// from first.
func text(path, s string, first int) mapping.FieldValue {
	var toks []analysis.Token
	for i, w := range strings.Fields(s) {
		toks = append(toks, analysis.Token{Term: w, Position: first + i})
	}
	return mapping.FieldValue{Path: path, Type: mapping.Text, Tokens: toks, Indexed: true}
}

func keyword(path, v string) mapping.FieldValue {
	return mapping.FieldValue{Path: path, Type: mapping.Keyword, Keyword: v,
		Tokens: []analysis.Token{{Term: v}}, Indexed: true, DocValues: true}
}

func long(path string, v int64) mapping.FieldValue {
	return mapping.FieldValue{Path: path, Type: mapping.Long, Int: v, Indexed: true, DocValues: true}
}

func double(path string, v float64) mapping.FieldValue {
	return mapping.FieldValue{Path: path, Type: mapping.Double, Float: v, Indexed: true, DocValues: true}
}

func newDoc(id string, fields ...mapping.FieldValue) *mapping.Document {
	return &mapping.Document{ID: id, Source: []byte(fmt.Sprintf(`{"id":%q}`, id)), Fields: fields}
}

func openTest(t testing.TB, dir string, mod func(*Options)) *Writer {
	t.Helper()
	opts := Options{Dir: dir, DisableMerges: true}
	if mod != nil {
		mod(&opts)
	}
	w, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// docsOf lists a term's (doc, freq, positions) in a segment.
type hit struct {
	doc, freq uint32
	pos       []uint32
}

func postingsOf(t testing.TB, s Segment, field, term string) []hit {
	t.Helper()
	td := s.Terms(field)
	if td == nil {
		return nil
	}
	ti, ok := td.Get([]byte(term))
	if !ok {
		return nil
	}
	p := td.Postings(ti, true)
	var out []hit
	for d := p.Next(); d != NoMoreDocs; d = p.Next() {
		out = append(out, hit{d, p.Freq(), p.Positions(nil)})
	}
	if uint32(len(out)) != ti.DocFreq {
		t.Fatalf("%s:%s: %d docs, DocFreq %d", field, term, len(out), ti.DocFreq)
	}
	return out
}

// liveIDs lists the ids of a reader's live docs.
func liveIDs(r *Reader) map[string]bool {
	out := map[string]bool{}
	for _, s := range r.Segments {
		for d := uint32(0); d < s.MaxDoc(); d++ {
			if s.Live(d) {
				out[s.ID(d)] = true
			}
		}
	}
	return out
}
