package balance

import "testing"

// TestRebuildsContinueTheRotation rebuilds the picker before every pick, as
// a pool in slow start does: with Previous the rotation still visits every
// backend in turn (without it, each new picker would start over at the first).
func TestRebuildsContinueTheRotation(t *testing.T) {
	for _, alg := range []Algorithm{RoundRobin, WeightedRoundRobin} {
		bs := []*Backend{NewBackend("a", "x:1", 1), NewBackend("b", "x:2", 1), NewBackend("c", "x:3", 1)}
		var prev Picker
		counts := map[string]int{}
		for range 300 {
			p, err := New(alg, bs, Options{Previous: prev})
			if err != nil {
				t.Fatal(err)
			}
			counts[p.Pick(0, nil).Name]++
			prev = p
		}
		if counts["a"] != 100 || counts["b"] != 100 || counts["c"] != 100 {
			t.Errorf("%s rebuilt before every pick: %v, want 100 each", alg, counts)
		}
	}
}
