package index

import (
	"fmt"
	"testing"
)

// TestStoredBlocksAmongOtherSections is the regression test of stored
// blocks read past their end: blocks are written as documents arrive, with
// the postings and doc values sections between the last blocks, and the
// reader took each block's end to be the next block's start, so a segment
// of a few thousand documents failed at the block before the last one
// ("magic number mismatch").
func TestStoredBlocksAmongOtherSections(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	const n = 5000
	for i := range n {
		d := newDoc(fmt.Sprint(i), text("title", fmt.Sprintf("w%dx w%dx", i, i), 0), long("n", int64(i)))
		d.Source = fmt.Appendf(nil, `{"title":"w%dx","n":%d}`, i, i)
		must(t, w.Index(d))
	}
	must(t, w.Refresh())
	r := w.Acquire()
	defer r.Release()
	seen := 0
	for _, s := range r.Segments {
		for doc := range s.MaxDoc() {
			src, err := s.Source(doc)
			if err != nil {
				t.Fatalf("doc %d (%s): %v", doc, s.ID(doc), err)
			}
			if want := fmt.Sprintf(`{"title":"w%sx","n":%s}`, s.ID(doc), s.ID(doc)); string(src) != want {
				t.Fatalf("doc %s: source %s, want %s", s.ID(doc), src, want)
			}
			seen++
		}
	}
	if seen != n {
		t.Fatalf("read %d sources, want %d", seen, n)
	}
}
