package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

// TestAdvanceAcrossBlocks checks Next, Advance, Freq and Positions on
// terms spanning many blocks (full bit-packed blocks and a partial tail)
// against the generating model.
func TestAdvanceAcrossBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	w := openTest(t, t.TempDir(), nil)
	const n = 3000
	positions := map[string]map[uint32][]uint32{}
	lens := make([]uint32, n)
	model := map[string][]uint32{} // term → docs
	freqs := map[string]map[uint32]int{}
	for d := 0; d < n; d++ {
		var words []string
		for _, term := range []string{"common", "half", "rare"} {
			var f int
			switch term {
			case "common":
				f = 1 + rng.IntN(3)
			case "half":
				if rng.IntN(2) == 0 {
					f = 1 + rng.IntN(200)
				}
			case "rare":
				if rng.IntN(97) == 0 {
					f = 1
				}
			}
			for range f {
				words = append(words, term)
			}
			if f > 0 {
				model[term] = append(model[term], uint32(d))
				if freqs[term] == nil {
					freqs[term] = map[uint32]int{}
				}
				freqs[term][uint32(d)] = f
			}
		}
		rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
		lens[d] = DecodeNorm(EncodeNorm(uint32(len(words))))
		for i, wd := range words {
			if positions[wd] == nil {
				positions[wd] = map[uint32][]uint32{}
			}
			positions[wd][uint32(d)] = append(positions[wd][uint32(d)], uint32(i))
		}
		must(t, w.Index(newDoc(fmt.Sprint(d), text("f", strings.Join(words, " "), 0))))
	}
	must(t, w.Refresh())
	r := w.Acquire()
	defer r.Release()
	s := r.Segments[0]
	td := s.Terms("f")
	for term, docs := range model {
		ti, ok := td.Get([]byte(term))
		if !ok || ti.DocFreq != uint32(len(docs)) {
			t.Fatalf("%s: %+v want df %d", term, ti, len(docs))
		}
		// Full scan.
		p := td.Postings(ti, true)
		for _, want := range docs {
			if got := p.Next(); got != want {
				t.Fatalf("%s: Next %d want %d", term, got, want)
			}
			if int(p.Freq()) != freqs[term][want] {
				t.Fatalf("%s doc %d: freq %d want %d", term, want, p.Freq(), freqs[term][want])
			}
		}
		if p.Next() != NoMoreDocs || p.Next() != NoMoreDocs {
			t.Fatalf("%s: not exhausted", term)
		}
		// Random advances, with positions checked on some documents.
		for round := 0; round < 20; round++ {
			p := td.Postings(ti, true)
			target := uint32(0)
			for {
				target += uint32(rng.IntN(300))
				i, _ := slices.BinarySearch(docs, target)
				want := NoMoreDocs
				if i < len(docs) {
					want = docs[i]
				}
				checkBlockMax(t, p.(BlockMaxPostings), target, docs, freqs[term], lens)
				got := p.Advance(target)
				if got != want {
					t.Fatalf("%s: Advance(%d) = %d want %d", term, target, got, want)
				}
				if got == NoMoreDocs {
					break
				}
				if rng.IntN(3) == 0 {
					pos := p.Positions(nil)
					if !slices.Equal(pos, positions[term][got]) {
						t.Fatalf("%s doc %d: positions %v freq %d", term, got, pos, freqs[term][got])
					}
				}
				target = got
				if rng.IntN(2) == 0 {
					next := p.Next()
					if i+1 < len(docs) && next != docs[i+1] || i+1 == len(docs) && next != NoMoreDocs {
						t.Fatalf("%s: Next after %d = %d", term, got, next)
					}
					if next == NoMoreDocs {
						break
					}
					target = next
				}
			}
		}
	}
	// Positions asked twice for a doc, and without asking for positions.
	p := td.Postings(mustGet(t, td, "common"), true)
	p.Advance(10)
	if got := p.Positions(nil); !slices.Equal(got, positions["common"][10]) || !slices.Equal(p.Positions(nil), got) {
		t.Fatalf("positions of doc 10: %v", got)
	}
	if got := td.Postings(mustGet(t, td, "common"), false); got.Next() != 0 || got.Positions(nil) != nil {
		t.Fatal("positions without asking")
	}
}

func mustGet(t *testing.T, td TermDict, term string) TermInfo {
	t.Helper()
	ti, ok := td.Get([]byte(term))
	if !ok {
		t.Fatalf("no term %q", term)
	}
	return ti
}

// checkBlockMax checks BlockMax(target)'s bounds against the model.
func checkBlockMax(t *testing.T, p BlockMaxPostings, target uint32, docs []uint32, freqs map[uint32]int, lens []uint32) {
	t.Helper()
	last, maxFreq, minLen := p.BlockMax(target)
	i, _ := slices.BinarySearch(docs, target)
	if i == len(docs) {
		if last != NoMoreDocs && last != NoMoreDocs-1 {
			t.Fatalf("BlockMax(%d) past the end = %d", target, last)
		}
		return
	}
	if last < docs[i] {
		t.Fatalf("BlockMax(%d): last %d before the next doc %d", target, last, docs[i])
	}
	for ; i < len(docs) && docs[i] <= last; i++ {
		d := docs[i]
		if uint32(freqs[d]) > maxFreq || lens[d] < minLen {
			t.Fatalf("BlockMax(%d) = (%d, %d, %d) but doc %d has freq %d length %d", target, last, maxFreq, minLen, d, freqs[d], lens[d])
		}
	}
}
