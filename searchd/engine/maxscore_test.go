package engine

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

// TestPrunedTopKOnRealSegments checks MaxScore with the index's block
// bounds: the pruned top k (track_total_hits false) equals the exhaustive
// one on segments large enough to hold many postings blocks.
func TestPrunedTopKOnRealSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 13))
	ix, err := Open(filepath.Join(t.TempDir(), "prune"), []byte(productsMapping), Settings{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	zipf := rand.NewZipf(rng, 1.2, 2, 299)
	var docs []Doc
	for i := 0; i < 3000; i++ {
		ws := make([]string, 1+rng.IntN(40))
		for j := range ws {
			ws[j] = benchWord(zipf.Uint64())
		}
		docs = append(docs, Doc{ID: fmt.Sprint(i), Source: []byte(fmt.Sprintf(`{"title":%q}`, strings.Join(ws, " ")))})
	}
	if err := ix.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	for q := 0; q < 40; q++ {
		var words []string
		for i := 0; i < 2+rng.IntN(4); i++ {
			words = append(words, benchWord(zipf.Uint64()))
		}
		body := fmt.Sprintf(`{"_source":false,"size":%d,"query":{"match":{"title":%q}}`, 1+rng.IntN(15), strings.Join(words, " "))
		exact := search(t, ix, body+`,"track_total_hits":true}`)
		pruned := search(t, ix, body+`,"track_total_hits":false}`)
		if len(exact.Hits.Hits) != len(pruned.Hits.Hits) {
			t.Fatalf("%s: %d vs %d hits", body, len(exact.Hits.Hits), len(pruned.Hits.Hits))
		}
		for i, h := range exact.Hits.Hits {
			p := pruned.Hits.Hits[i]
			if h.ID != p.ID || *h.Score != *p.Score {
				t.Fatalf("%s: hit %d exhaustive %s %v, pruned %s %v", body, i, h.ID, *h.Score, p.ID, *p.Score)
			}
		}
	}
}
