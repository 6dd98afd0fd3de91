package main

import (
	"math"
	"testing"
)

// The examples are computed by hand. gains: docs 1 (gain 4), 2 (gain 2)
// and 3 (gain 1) are relevant, doc 9 is judged not relevant (gain 0).
var exampleGains = map[int]int{1: 4, 2: 2, 3: 1, 9: 0}

func TestAveragePrecision(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranked []int
		want   float64
	}{
		// relevant at ranks 1, 2, 3: (1/1 + 2/2 + 3/3) / 3 = 1
		{"perfect", []int{1, 2, 3, 9}, 1},
		// relevant at ranks 2 and 4, doc 3 missing: (1/2 + 2/4 + 0) / 3 = 1/3
		{"two of three", []int{9, 2, 7, 1}, 1.0 / 3},
		// relevant at ranks 1 and 3 and 5: (1/1 + 2/3 + 3/5) / 3 = 34/45
		{"interleaved", []int{3, 8, 1, 9, 2}, 34.0 / 45},
		{"none", []int{7, 8, 9}, 0},
		{"empty", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AveragePrecision(tc.ranked, exampleGains); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("AP = %v, want %v", got, tc.want)
			}
		})
	}
	if got := AveragePrecision([]int{1}, map[int]int{1: 0}); got != 0 {
		t.Fatalf("AP without relevant documents = %v, want 0", got)
	}
}

func TestPrecisionAt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		k      int
		ranked []int
		want   float64
	}{
		{"three of ten", 10, []int{1, 9, 2, 4, 5, 6, 7, 8, 3, 10, 11}, 0.3},
		{"short list counts missing ranks", 10, []int{1, 2}, 0.2},
		{"cut at k", 2, []int{9, 1, 2, 3}, 0.5},
		{"empty", 10, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PrecisionAt(tc.k, tc.ranked, exampleGains); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("P@%d = %v, want %v", tc.k, got, tc.want)
			}
		})
	}
}

func TestNDCGAt(t *testing.T) {
	// The ideal ranking is gains 4, 2, 1:
	// IDCG = 4/log2(2) + 2/log2(3) + 1/log2(4) = 4 + 1.2618595 + 0.5 = 5.7618595.
	idcg := 4 + 2/math.Log2(3) + 0.5
	for _, tc := range []struct {
		name   string
		k      int
		ranked []int
		want   float64
	}{
		{"ideal", 10, []int{1, 2, 3}, 1},
		// gains 1, 2, 4 at ranks 1..3: 1 + 2/log2(3) + 4/2 = 4.2618595.
		{"reversed", 10, []int{3, 2, 1}, (1 + 2/math.Log2(3) + 2) / idcg},
		// gain 0 at rank 1, 4 at rank 2: 4/log2(3) = 2.5237190.
		{"one late", 10, []int{9, 1}, (4 / math.Log2(3)) / idcg},
		// k = 1: DCG 2 (doc 2 first), IDCG 4.
		{"cut at 1", 1, []int{2, 1}, 0.5},
		{"nothing relevant found", 10, []int{7, 8}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NDCGAt(tc.k, tc.ranked, exampleGains); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("nDCG@%d = %v, want %v", tc.k, got, tc.want)
			}
		})
	}
	if got := NDCGAt(10, []int{1}, map[int]int{1: 0}); got != 0 {
		t.Fatalf("nDCG without relevant documents = %v, want 0", got)
	}
}

func TestGain(t *testing.T) {
	for grade, want := range map[int]int{1: 4, 2: 3, 3: 2, 4: 1, 5: 0, -1: 0, 0: 0} {
		if got := Gain(grade); got != want {
			t.Errorf("Gain(%d) = %d, want %d", grade, got, want)
		}
	}
}
