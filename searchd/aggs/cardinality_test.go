package aggs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/node/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrecisionFor(t *testing.T) {
	// Elasticsearch: 3000 → 14 bits; bounded to [4, 18].
	assert.Equal(t, uint8(14), precisionFor(3000))
	assert.Equal(t, uint8(4), precisionFor(0))
	assert.Equal(t, uint8(18), precisionFor(40000))
}

func TestCardinalityExactBelowThreshold(t *testing.T) {
	var a, b []doc
	for i := range 500 {
		a = append(a, doc{"tag": fmt.Sprintf("t%d", i), "stock": int64(i)})
		b = append(b, doc{"tag": fmt.Sprintf("t%d", i+250), "stock": int64(i + 250)})
	}
	got := reduceJSON(t, `{"k":{"cardinality":{"field":"tag"}},"n":{"cardinality":{"field":"stock"}}}`,
		[][]doc{a[:200], a[200:]}, [][]doc{b})
	assert.JSONEq(t, `{"k":{"value":750},"n":{"value":750}}`, got)

	got = reduceJSON(t, `{"k":{"cardinality":{"field":"brand","missing":"none"}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"k":{"value":3}}`, got)
}

func TestCardinalityEstimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	for _, n := range []int{5000, 60000, 300000} {
		// Three shards' sketches of overlapping ranges: the union is n.
		var sketches []*sketch
		for s := range 3 {
			sk := newSketch(precisionFor(3000), 3000)
			for i := range n / 2 {
				v := uint64(rng.IntN(n))
				if s == 0 {
					v = uint64(i) // one shard sees 0..n/2 for sure
				}
				if s == 1 {
					v = uint64(n/2 + i)
				}
				sk.add(hashUint64(math.Float64bits(float64(v))))
			}
			sketches = append(sketches, sk)
		}
		all := sketches[0]
		for _, sk := range sketches[1:] {
			all.merge(sk)
		}
		est := float64(all.estimate())
		assert.InDelta(t, float64(n), est, 0.03*float64(n), "n=%d", n)
	}
}

func TestCardinalityPartialRoundTrip(t *testing.T) {
	req, err := Parse([]byte(`{"c":{"cardinality":{"field":"stock","precision_threshold":100}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	var docs []doc
	for i := range 5000 {
		docs = append(docs, doc{"stock": int64(i)})
	}
	p1 := collectShard(t, req, buildSegment(docs[:50]))   // exact
	p2 := collectShard(t, req, buildSegment(docs[:4000])) // dense
	p3 := collectShard(t, req, buildSegment(docs[3000:])) // dense
	out, err := Reduce(req, [][]byte{p1, p2, p3})
	require.NoError(t, err)
	m := map[string]map[string]float64{}
	require.NoError(t, jsonUnmarshal(out, &m))
	assert.InDelta(t, 5000, m["c"]["value"], 5000*0.15)
}
