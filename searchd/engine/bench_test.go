package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// benchIndex is a generated corpus of 20 000 documents (Zipf-distributed
// words) in one shard, refreshed into a few segments.
func benchIndex(b *testing.B) *Index {
	b.Helper()
	ix, err := Open(filepath.Join(b.TempDir(), "bench"), []byte(productsMapping), Settings{Shards: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.07, 3, 4999)
	for i := 0; i < 20000; i++ {
		ws := make([]string, 5+rng.IntN(25))
		for j := range ws {
			ws[j] = benchWord(zipf.Uint64())
		}
		src := fmt.Sprintf(`{"title":%q,"brand":"b%d","price":%d}`, strings.Join(ws, " "), rng.IntN(50), rng.IntN(1000))
		if err := ix.Put(fmt.Sprint(i), []byte(src)); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 {
			if err := ix.Refresh(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ix
}

// benchWord spells word number n with letters only (so analyzers keep it).
func benchWord(n uint64) string {
	var b []byte
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			break
		}
	}
	return "w" + string(b) + "x"
}

// runBench runs one search body repeatedly. Bodies turn _source off: the
// benchmarks measure matching and scoring, not fetching.
func runBench(b *testing.B, ix *Index, body string) {
	ctx := context.Background()
	body = `{"_source":false,` + body[1:]
	if _, err := ix.Search(ctx, []byte(body)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ix.Search(ctx, []byte(body)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueries(b *testing.B) {
	ix := benchIndex(b)
	common, rare := benchWord(0), benchWord(700)
	for _, c := range []struct{ name, body string }{
		{"term", `{"query":{"match":{"title":"` + common + `"}}}`},
		{"or3", `{"query":{"match":{"title":"` + common + " " + benchWord(1) + " " + rare + `"}}}`},
		{"or3-pruned", `{"track_total_hits":false,"query":{"match":{"title":"` + common + " " + benchWord(1) + " " + rare + `"}}}`},
		{"and2", `{"query":{"match":{"title":{"query":"` + common + " " + benchWord(2) + `","operator":"and"}}}}`},
		{"phrase", `{"query":{"match_phrase":{"title":"` + common + " " + benchWord(1) + `"}}}`},
		{"fuzzy", `{"query":{"match":{"title":{"query":"` + rare[:len(rare)-1] + `q","fuzziness":"AUTO"}}}}`},
		{"prefix", `{"query":{"prefix":{"title":"wa"}}}`},
		{"filtered-aggs", `{"query":{"bool":{"must":{"match":{"title":"` + rare + `"}},"filter":{"range":{"price":{"lt":500}}}}},"aggs":{"b":{"terms":{"field":"brand"}}}}`},
	} {
		b.Run(c.name, func(b *testing.B) { runBench(b, ix, c.body) })
	}
}
