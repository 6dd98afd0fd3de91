package aggs

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"cairn.dev/cairn/node/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAgainstBruteForce spreads random documents over random shards and
// segments and checks the reduced terms (shard_size large enough to be
// exact), nested sums, histogram and stats against counts done by hand.
func TestAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 7))
	for round := range 20 {
		n := 1 + rng.IntN(300)
		docs := make([]doc, n)
		for i := range docs {
			d := doc{}
			if rng.IntN(10) > 0 {
				k := 1 + rng.IntN(3)
				var tags []string
				for range k {
					tags = append(tags, fmt.Sprintf("t%d", rng.IntN(15)))
				}
				d["tag"] = tags
			}
			if rng.IntN(5) > 0 {
				d["stock"] = int64(rng.IntN(40) - 10)
			}
			docs[i] = d
		}
		// Split into shards, each into segments.
		shards := make([][][]doc, 1+rng.IntN(4))
		for _, d := range docs {
			s := rng.IntN(len(shards))
			if len(shards[s]) == 0 || rng.IntN(30) == 0 {
				shards[s] = append(shards[s], nil)
			}
			last := len(shards[s]) - 1
			shards[s][last] = append(shards[s][last], d)
		}
		var parts [][][]doc
		for _, s := range shards {
			if len(s) > 0 {
				parts = append(parts, s)
			}
		}

		// Brute force.
		tagDocs := map[string]int{}
		tagSum := map[string]int64{}
		hist := map[int64]int{}
		var count, sum int64
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, d := range docs {
			stock, hasStock := d["stock"].(int64)
			if hasStock {
				count++
				sum += stock
				lo, hi = min(lo, stock), max(hi, stock)
				hist[int64(math.Floor(float64(stock)/7))*7]++
			}
			seen := map[string]bool{}
			tags, _ := d["tag"].([]string)
			for _, tg := range tags {
				if seen[tg] {
					continue
				}
				seen[tg] = true
				tagDocs[tg]++
				if hasStock {
					tagSum[tg] += stock
				}
			}
		}
		m := search(t, `{"t":{"terms":{"field":"tag","size":100},"aggs":{"s":{"sum":{"field":"stock"}}}},
			"h":{"histogram":{"field":"stock","interval":7,"min_doc_count":1}},"st":{"stats":{"field":"stock"}}}`, parts...)
		raw, _ := json.Marshal(m)

		type bucket struct {
			Key      any   `json:"key"`
			DocCount int64 `json:"doc_count"`
			S        struct {
				Value float64 `json:"value"`
			} `json:"s"`
		}
		var got struct {
			T struct {
				Err, Other int64
				Buckets    []bucket `json:"buckets"`
			} `json:"t"`
			H struct {
				Buckets []bucket `json:"buckets"`
			} `json:"h"`
			St struct {
				Count int64    `json:"count"`
				Sum   float64  `json:"sum"`
				Min   *float64 `json:"min"`
				Max   *float64 `json:"max"`
			} `json:"st"`
		}
		require.NoError(t, json.Unmarshal(raw, &got))

		var want []string
		for k := range tagDocs {
			want = append(want, k)
		}
		sort.Slice(want, func(i, j int) bool {
			if tagDocs[want[i]] != tagDocs[want[j]] {
				return tagDocs[want[i]] > tagDocs[want[j]]
			}
			return want[i] < want[j]
		})
		require.Len(t, got.T.Buckets, len(want), "round %d: %s", round, raw)
		for i, k := range want {
			b := got.T.Buckets[i]
			assert.Equal(t, k, b.Key, "round %d", round)
			assert.Equal(t, int64(tagDocs[k]), b.DocCount, "round %d key %s", round, k)
			assert.Equal(t, float64(tagSum[k]), b.S.Value, "round %d key %s", round, k)
		}
		require.Len(t, got.H.Buckets, len(hist), "round %d: %s", round, raw)
		for _, b := range got.H.Buckets {
			assert.Equal(t, int64(hist[int64(b.Key.(float64))]), b.DocCount, "round %d key %v", round, b.Key)
		}
		assert.Equal(t, count, got.St.Count)
		assert.Equal(t, float64(sum), got.St.Sum)
		if count > 0 {
			assert.Equal(t, float64(lo), *got.St.Min)
			assert.Equal(t, float64(hi), *got.St.Max)
		}
	}
}
