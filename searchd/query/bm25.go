package query

import (
	"math"

	"cairn.dev/cairn/searchd/index"
)

// bm25 scores one term (or phrase) of one field, as Lucene's BM25Similarity
// (Lucene 8+, as Elasticsearch 8):
//
//	score = boost * idf * freq / (freq + k1 * (1 - b + b * dl / avgdl))
//	idf   = ln(1 + (N - df + 0.5) / (df + 0.5))
//
// with N the documents holding the field, df the term's document frequency
// and avgdl the field's average length, all from the (global) Stats.
// Lucene dropped the constant (k1 + 1) factor of the textbook formula in
// version 8; it does not change rankings, and leaving it out keeps scores
// equal to Elasticsearch's. A document without a stored length (a keyword
// field, whose norms are off) gets avgdl, so length does not matter.
type bm25 struct {
	weight float64 // boost * idf
	k1, b  float64
	avgdl  float64
}

// idf is BM25's inverse document frequency.
func idf(docCount, df int64) float64 {
	return math.Log(1 + (float64(docCount)-float64(df)+0.5)/(float64(df)+0.5))
}

func newBM25(s Settings, fs FieldStats, idfSum, boost float64) *bm25 {
	avg := 1.0
	if fs.DocCount > 0 && fs.SumTotalTermFreq > 0 {
		avg = float64(fs.SumTotalTermFreq) / float64(fs.DocCount)
	}
	return &bm25{weight: boost * idfSum, k1: s.K1, b: s.B, avgdl: avg}
}

// score scores freq in a document of length dl (0: unknown).
func (m *bm25) score(freq float64, dl uint32) float64 {
	l := m.avgdl
	if dl > 0 {
		l = float64(dl)
	}
	return m.weight * freq / (freq + m.k1*(1-m.b+m.b*l/m.avgdl))
}

// normCache returns k1*(1-b+b*dl/avgdl) for every norm byte (as Lucene
// caches it), dl decoded by index.DecodeNorm; 0 (no length) uses avgdl.
func (m *bm25) normCache() *[256]float64 {
	var c [256]float64
	for i := range c {
		l := float64(index.DecodeNorm(byte(i)))
		if i == 0 {
			l = m.avgdl
		}
		c[i] = m.k1 * (1 - m.b + m.b*l/m.avgdl)
	}
	return &c
}

// upperBound bounds the term's score in a segment from its largest
// frequency and smallest field length (TermInfo.MaxFreq, MinFieldLength,
// which must not exceed the FieldLength the segment reports); without them,
// the weight (the limit of the score as freq grows). A little slack covers
// rounding.
func (m *bm25) upperBound(info index.TermInfo) float64 {
	if info.MaxFreq == 0 {
		return m.weight * (1 + 1e-9)
	}
	f := float64(info.MaxFreq)
	l := float64(info.MinFieldLength)
	if info.MinFieldLength == 0 {
		l = min(m.avgdl, 1)
	}
	ub := m.weight * f / (f + m.k1*(1-m.b+m.b*min(l, m.avgdl)/m.avgdl))
	return ub*(1+1e-9) + 1e-12
}
