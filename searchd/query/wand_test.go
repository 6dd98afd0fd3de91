package query

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

// randomCorpus makes n documents of Zipf-distributed words over a
// vocabulary of v words.
func randomCorpus(rng *rand.Rand, n, v int) [][2]string {
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(v-1))
	docs := make([][2]string, n)
	for i := range docs {
		words := make([]string, 1+rng.IntN(30))
		for j := range words {
			words[j] = fmt.Sprintf("w%c%c", 'a'+rune(zipf.Uint64()%26), 'a'+rune(zipf.Uint64()/26%26))
		}
		docs[i] = doc(fmt.Sprintf("d%04d", i), "title", strings.Join(words, " "))
	}
	return docs
}

// TestMaxScoreSameTopK checks that pruned disjunctions (track_total_hits
// false) return exactly the hits and scores of exhaustive scoring.
func TestMaxScoreSameTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 7))
	docs := randomCorpus(rng, 1500, 200)
	f := newFix(t, testMapping, 400, docs...)
	skipped := 0
	for q := 0; q < 60; q++ {
		var words []string
		for i := 0; i < 2+rng.IntN(5); i++ {
			w := docs[rng.IntN(len(docs))][1]
			fields := strings.Fields(strings.Trim(w[strings.Index(w, ":")+1:], `"}`))
			words = append(words, fields[rng.IntN(len(fields))])
		}
		size := 1 + rng.IntN(20)
		body := fmt.Sprintf(`{"query":{"match":{"title":%q}},"size":%d`, strings.Join(words, " "), size)
		exact := f.search(body + `,"track_total_hits":true}`)
		pruned := f.search(body + `,"track_total_hits":false}`)
		if len(exact.Hits) != len(pruned.Hits) {
			t.Fatalf("%s: %d hits exhaustive, %d pruned", body, len(exact.Hits), len(pruned.Hits))
		}
		for i := range exact.Hits {
			if exact.Hits[i].ID != pruned.Hits[i].ID || exact.Hits[i].Score != pruned.Hits[i].Score {
				t.Fatalf("%s: hit %d: exhaustive %s %v, pruned %s %v", body, i,
					exact.Hits[i].ID, exact.Hits[i].Score, pruned.Hits[i].ID, pruned.Hits[i].Score)
			}
		}
		if exact.TotalRelation != "eq" || pruned.Total > exact.Total {
			t.Fatalf("%s: totals %d %s vs %d %s", body, exact.Total, exact.TotalRelation, pruned.Total, pruned.TotalRelation)
		}
		if pruned.Total < exact.Total {
			skipped++
		}
		// a small threshold counts exactly up to it.
		part := f.search(body + `,"track_total_hits":5}`)
		if part.Total < min(5, exact.Total) || (part.TotalRelation == "eq" && part.Total != exact.Total) {
			t.Fatalf("%s: threshold total %d %s, exact %d", body, part.Total, part.TotalRelation, exact.Total)
		}
	}
	if skipped == 0 {
		t.Fatal("MaxScore never skipped a document")
	}
	t.Logf("MaxScore skipped documents in %d of 60 queries", skipped)
}
