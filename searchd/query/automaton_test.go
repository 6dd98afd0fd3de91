package query

import (
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

// TestLevAutomatonMatchesDistance checks the lazy automaton against the
// edit distance on random words.
func TestLevAutomatonMatchesDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 1))
	word := func() string {
		b := make([]byte, 1+rng.IntN(7))
		for i := range b {
			b[i] = "abcde"[rng.IntN(5)]
		}
		return string(b)
	}
	for i := 0; i < 300; i++ {
		q := word()
		k := 1 + rng.IntN(2)
		tr := rng.IntN(2) == 0
		a := newLevAutomaton(q, k, tr, false)
		for j := 0; j < 30; j++ {
			w := word()
			want := editDistance(q, w, tr) <= k
			if got := runAutomaton(a, w); got != want {
				t.Fatalf("q=%q k=%d tr=%v w=%q: automaton %v, distance %d", q, k, tr, w, got, editDistance(q, w, tr))
			}
		}
	}
}

func TestLevPrefixAutomaton(t *testing.T) {
	a := newLevAutomaton("lap", 1, true, true)
	for w, want := range map[string]bool{"laptop": true, "lapel": true, "lamp": true, "lap": true, "la": false,
		"label": true, "clap": true, "xyz": false, "lxxp": false, "plap": true} {
		if got := runAutomaton(a, w); got != want {
			t.Errorf("%s: %v, want %v", w, got, want)
		}
	}
}

func TestWildcardAutomaton(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{{"wi*ss", "wireless", true}, {"wi*ss", "wires", false}, {"w?re*", "wireless", true}, {"*less", "wireless", true},
		{"a\\*b", "a*b", true}, {"a\\*b", "axb", false}, {"*", "", true}, {"?", "", false}} {
		if got := runAutomaton(newWildcardAutomaton(c.pat), c.s); got != c.want {
			t.Errorf("%s ~ %s: %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}
