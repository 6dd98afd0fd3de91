package index

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/searchd/mapping"
)

// modelDoc is what the model expects of a live document.
type modelDoc struct {
	word string
	n    int64
}

func modelIndex(id string, m modelDoc) *mapping.Document {
	d := newDoc(id,
		text("body", "common "+m.word+" "+strings.Repeat("x ", pad(m.n)), 0),
		keyword("word", m.word), long("n", m.n), long("n", m.n*2))
	d.Source = []byte(id + "=" + m.word)
	return d
}

// checkModel compares a reader (and the realtime Get) with the model.
func checkModel(t *testing.T, w *Writer, r *Reader, model map[string]modelDoc) {
	t.Helper()
	if r.NumDocs() != int64(len(model)) {
		t.Fatalf("reader has %d docs, model %d", r.NumDocs(), len(model))
	}
	seen := map[string]bool{}
	commons := 0
	for _, s := range r.Segments {
		kw := s.Keywords("word")
		ints := s.Ints("n")
		td := s.Terms("body")
		if td == nil {
			t.Fatal("no body terms")
		}
		p := td.Postings(mustGet(t, td, "common"), true)
		for d := p.Next(); d != NoMoreDocs; d = p.Next() {
			if s.Live(d) {
				commons++
				if pos := p.Positions(nil); len(pos) != 1 || pos[0] != 0 {
					t.Fatalf("positions of common in %s: %v", s.ID(d), pos)
				}
			}
		}
		for d := uint32(0); d < s.MaxDoc(); d++ {
			if !s.Live(d) {
				continue
			}
			id := s.ID(d)
			m, ok := model[id]
			if !ok || seen[id] {
				t.Fatalf("unexpected live doc %q (dup %v)", id, seen[id])
			}
			seen[id] = true
			if src, err := s.Source(d); err != nil || string(src) != id+"="+m.word {
				t.Fatalf("source of %s: %q %v", id, src, err)
			}
			if ords := kw.Ords(d, nil); len(ords) != 1 || string(kw.Lookup(ords[0])) != m.word {
				t.Fatalf("keyword of %s: %v", id, ords)
			}
			if got := ints.Values(d, nil); !slices.Equal(got, sortedPair(m.n)) {
				t.Fatalf("ints of %s: %v want %v", id, got, sortedPair(m.n))
			}
			if fl := s.FieldLength("body", d); fl != uint32(2+pad(m.n)) {
				t.Fatalf("length of %s: %d", id, fl)
			}
			wt := s.Terms("word")
			ti, ok := wt.Get([]byte(m.word))
			if !ok || wt.Postings(ti, false).Advance(d) != d {
				t.Fatalf("term %s of %s missing", m.word, id)
			}
		}
	}
	if commons != len(model) {
		t.Fatalf("common matches %d live docs, want %d", commons, len(model))
	}
	for id, m := range model {
		src, ok, err := w.Get(id)
		if err != nil || !ok || string(src) != id+"="+m.word {
			t.Fatalf("Get(%s) = %q %v %v", id, src, ok, err)
		}
	}
}

func pad(n int64) int { return int((n%7 + 7) % 7) }

func sortedPair(n int64) []int64 {
	if n < 0 {
		return []int64{2 * n, n}
	}
	return []int64{n, 2 * n}
}

// TestMergeModel runs random writes, refreshes, commits, merges
// (background and forced) and reopens against a map model.
func TestMergeModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	dir := t.TempDir()
	opts := func(o *Options) {
		o.DisableMerges = false
		o.MergeFactor = 3
		o.RAMBufferBytes = 64 << 10
	}
	w := openTest(t, dir, opts)
	model := map[string]modelDoc{}
	committed := map[string]modelDoc{}
	words := []string{"alpha", "beta", "gamma", "delta", "eps"}
	var readers []*Reader
	var readerModels []map[string]modelDoc
	for step := 0; step < 1200; step++ {
		id := fmt.Sprint("id", rng.IntN(200))
		switch op := rng.IntN(100); {
		case op < 75:
			m := modelDoc{words[rng.IntN(len(words))], rng.Int64N(2000) - 1000}
			must(t, w.Index(modelIndex(id, m)))
			model[id] = m
		case op < 91:
			ok, err := w.Delete(id)
			must(t, err)
			if _, want := model[id]; ok != want {
				t.Fatalf("step %d: Delete(%s) = %v, model %v", step, id, ok, want)
			}
			delete(model, id)
		case op < 97:
			must(t, w.Refresh())
			r := w.Acquire()
			checkModel(t, w, r, model)
			if rng.IntN(3) == 0 {
				readers = append(readers, r)
				readerModels = append(readerModels, maps.Clone(model))
			} else {
				r.Release()
			}
		case op < 98:
			must(t, w.Commit(map[string]string{"step": fmt.Sprint(step)}))
			committed = maps.Clone(model)
		case op < 99:
			must(t, w.ForceMerge(1+rng.IntN(2)))
		case rng.IntN(3) == 0:
			for _, r := range readers {
				r.Release()
			}
			readers, readerModels = nil, nil
			must(t, w.Close())
			w = openTest(t, dir, opts)
			model = maps.Clone(committed)
		}
		// Old readers keep their view through merges and deletes.
		if len(readers) > 0 && rng.IntN(50) == 0 {
			i := rng.IntN(len(readers))
			if readers[i].NumDocs() != int64(len(readerModels[i])) {
				t.Fatalf("step %d: old reader has %d docs, want %d", step, readers[i].NumDocs(), len(readerModels[i]))
			}
			ids := liveIDs(readers[i])
			for id := range readerModels[i] {
				if !ids[id] {
					t.Fatalf("step %d: old reader lost %s", step, id)
				}
			}
		}
	}
	for _, r := range readers {
		r.Release()
	}
	must(t, w.ForceMerge(1))
	r := w.Acquire()
	defer r.Release()
	checkModel(t, w, r, model)
	if len(r.Segments) > 1 || w.Stats().DeletedDocs != 0 {
		t.Fatalf("after ForceMerge(1): %d segments, stats %+v", len(r.Segments), w.Stats())
	}
	if len(r.Segments) == 1 {
		fs := r.Segments[0].FieldStats("body")
		if fs.DocCount != int64(len(model)) {
			t.Fatalf("DocCount %d want %d", fs.DocCount, len(model))
		}
	}
}

// TestConcurrentUse runs writers, deleters, getters, refreshes, commits
// and readers at once (for the race detector).
func TestConcurrentUse(t *testing.T) {
	w := openTest(t, t.TempDir(), func(o *Options) {
		o.DisableMerges = false
		o.MergeFactor = 2
		o.RAMBufferBytes = 32 << 10
	})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				id := fmt.Sprint(g, "-", i%150)
				switch i % 5 {
				case 0, 1, 2:
					must(t, w.Index(modelIndex(id, modelDoc{"alpha", int64(i)})))
				case 3:
					if _, err := w.Delete(id); err != nil {
						t.Error(err)
					}
				case 4:
					if _, _, err := w.Get(id); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 30; i++ {
			if i%10 == 9 {
				must(t, w.Commit(nil))
			} else {
				must(t, w.Refresh())
			}
			r := w.Acquire()
			for _, s := range r.Segments {
				for d := uint32(0); d < s.MaxDoc(); d++ {
					if s.Live(d) {
						if _, err := s.Source(d); err != nil {
							t.Error(err)
						}
					}
				}
			}
			r.Release()
		}
	}()
	wg.Wait()
	must(t, w.Refresh())
	r := w.Acquire()
	defer r.Release()
	if got, want := r.NumDocs(), w.Stats().Docs; got != want {
		t.Fatalf("reader %d docs, stats %d", got, want)
	}
}
