package aggs

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/searchd/index"
)

// benchSegment holds n documents with a keyword among 1000 values (Zipf
// skewed), a price and a stock.
func benchSegment(n int) *testSegment {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.2, 1, 999)
	docs := make([]doc, n)
	for i := range docs {
		docs[i] = doc{"tag": fmt.Sprintf("tag-%03d", zipf.Uint64()), "price": rng.Float64() * 100, "stock": int64(rng.IntN(50))}
	}
	return buildSegment(docs)
}

func benchCollect(b *testing.B, body string, seg index.Segment) {
	req, err := Parse([]byte(body), testMapping(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := NewCollector(req)
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			c.Collect(d)
		}
		if _, err := c.Partial(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(seg.MaxDoc()), "ns/doc")
}

// BenchmarkTermsAgg is a facet: top 10 keyword terms of every document of
// a segment, alone and with an avg sub-aggregation.
func BenchmarkTermsAgg(b *testing.B) {
	seg := benchSegment(200_000)
	b.Run("keyword", func(b *testing.B) {
		benchCollect(b, `{"t":{"terms":{"field":"tag"}}}`, seg)
	})
	b.Run("keyword-avg", func(b *testing.B) {
		benchCollect(b, `{"t":{"terms":{"field":"tag"},"aggs":{"a":{"avg":{"field":"price"}}}}}`, seg)
	})
	b.Run("long", func(b *testing.B) {
		benchCollect(b, `{"t":{"terms":{"field":"stock"}}}`, seg)
	})
	b.Run("histogram", func(b *testing.B) {
		benchCollect(b, `{"h":{"histogram":{"field":"price","interval":5}}}`, seg)
	})
	b.Run("cardinality", func(b *testing.B) {
		benchCollect(b, `{"c":{"cardinality":{"field":"tag"}}}`, seg)
	})
}

func BenchmarkReduceTerms(b *testing.B) {
	seg := benchSegment(50_000)
	req, err := Parse([]byte(`{"t":{"terms":{"field":"tag","size":100}}}`), testMapping(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	p := collectShard(b, req, seg)
	partials := [][]byte{p, p, p, p, p}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Reduce(req, partials); err != nil {
			b.Fatal(err)
		}
	}
}
