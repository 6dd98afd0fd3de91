package query

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

// boolGen builds random bool queries over a keyword field and evaluates
// them by brute force.
type boolGen struct {
	rng  *rand.Rand
	tags []string
}

// gen returns a query body and its matcher over a document's tags.
func (g *boolGen) gen(depth int) (string, func(map[string]bool) bool) {
	if depth == 0 || g.rng.IntN(3) == 0 {
		t := g.tags[g.rng.IntN(len(g.tags))]
		return fmt.Sprintf(`{"term":{"tags":%q}}`, t), func(d map[string]bool) bool { return d[t] }
	}
	type clause struct {
		body  string
		match func(map[string]bool) bool
	}
	lists := map[string][]clause{}
	for _, occur := range []string{"must", "should", "must_not", "filter"} {
		for i := g.rng.IntN(3); i > 0; i-- {
			b, m := g.gen(depth - 1)
			lists[occur] = append(lists[occur], clause{b, m})
		}
	}
	msm := -1
	if len(lists["should"]) > 0 && g.rng.IntN(3) == 0 {
		msm = g.rng.IntN(len(lists["should"]) + 1)
	}
	var parts []string
	for _, occur := range []string{"must", "should", "must_not", "filter"} {
		if len(lists[occur]) == 0 {
			continue
		}
		var bs []string
		for _, c := range lists[occur] {
			bs = append(bs, c.body)
		}
		parts = append(parts, fmt.Sprintf(`%q:[%s]`, occur, strings.Join(bs, ",")))
	}
	if msm >= 0 {
		parts = append(parts, fmt.Sprintf(`"minimum_should_match":%d`, msm))
	}
	body := `{"bool":{` + strings.Join(parts, ",") + `}}`
	need := msm
	if need < 0 {
		need = 0
		if len(lists["must"]) == 0 && len(lists["filter"]) == 0 && len(lists["should"]) > 0 {
			need = 1
		}
	}
	if need == 0 && len(lists["should"]) > 0 && len(lists["must"]) == 0 && len(lists["filter"]) == 0 {
		need = 1 // only should clauses: one must match, as Lucene
	}
	return body, func(d map[string]bool) bool {
		for _, c := range lists["must"] {
			if !c.match(d) {
				return false
			}
		}
		for _, c := range lists["filter"] {
			if !c.match(d) {
				return false
			}
		}
		for _, c := range lists["must_not"] {
			if c.match(d) {
				return false
			}
		}
		n := 0
		for _, c := range lists["should"] {
			if c.match(d) {
				n++
			}
		}
		if len(lists["must"])+len(lists["filter"])+len(lists["should"]) == 0 {
			return true // no positive clause: match all (but must_not)
		}
		return n >= need
	}
}

// TestBoolMatchesBruteForce runs random nested bool queries and compares
// the matches with a direct evaluation.
func TestBoolMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 11))
	g := &boolGen{rng: rng, tags: []string{"a", "b", "c", "d", "e", "f"}}
	var docs [][2]string
	tagsOf := map[string]map[string]bool{}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("d%03d", i)
		set := map[string]bool{}
		var ts []string
		for _, tg := range g.tags {
			if rng.IntN(3) == 0 {
				set[tg] = true
				ts = append(ts, tg)
			}
		}
		tagsOf[id] = set
		docs = append(docs, doc(id, "tags", ts, "title", "x"))
	}
	f := newFix(t, testMapping, 70, docs...)
	for q := 0; q < 300; q++ {
		body, match := g.gen(3)
		res := f.search(`{"size":300,"track_total_hits":true,"query":` + body + `}`)
		got := ids(res)
		sort.Strings(got)
		var want []string
		for _, d := range docs {
			if match(tagsOf[d[0]]) {
				want = append(want, d[0])
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s\n got  %d %v\n want %d %v", body, len(got), got, len(want), want)
		}
		if res.Total != int64(len(want)) {
			t.Fatalf("%s: total %d, want %d", body, res.Total, len(want))
		}
	}
}
