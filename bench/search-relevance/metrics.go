package main

import (
	"math"
	"slices"
)

// AveragePrecision is the average, over the relevant documents of a query
// (those with a positive gain), of the precision at the rank where each is
// retrieved; a relevant document not in ranked contributes 0. It is 0 when
// the query has no relevant document.
func AveragePrecision(ranked []int, gains map[int]int) float64 {
	relevant := 0
	for _, g := range gains {
		if g > 0 {
			relevant++
		}
	}
	if relevant == 0 {
		return 0
	}
	found, sum := 0, 0.0
	for i, d := range ranked {
		if gains[d] > 0 {
			found++
			sum += float64(found) / float64(i+1)
		}
	}
	return sum / float64(relevant)
}

// PrecisionAt is the fraction of the first k ranks that hold a relevant
// document; missing ranks (fewer than k results) count as not relevant.
func PrecisionAt(k int, ranked []int, gains map[int]int) float64 {
	hits := 0
	for _, d := range ranked[:min(k, len(ranked))] {
		if gains[d] > 0 {
			hits++
		}
	}
	return float64(hits) / float64(k)
}

// NDCGAt is the normalised discounted cumulative gain of the first k
// ranks: DCG = Σ gain(rank i) / log2(i + 1) over i = 1..k, with linear
// gains (as trec_eval's ndcg_cut), divided by the DCG of the ideal ranking
// of the judged documents. It is 0 when no document has a positive gain.
func NDCGAt(k int, ranked []int, gains map[int]int) float64 {
	dcg := 0.0
	for i, d := range ranked[:min(k, len(ranked))] {
		dcg += float64(gains[d]) / math.Log2(float64(i+2))
	}
	ideal := make([]int, 0, len(gains))
	for _, g := range gains {
		if g > 0 {
			ideal = append(ideal, g)
		}
	}
	slices.Sort(ideal)
	slices.Reverse(ideal)
	idcg := 0.0
	for i, g := range ideal[:min(k, len(ideal))] {
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}
