package query

import (
	"context"
	"math"
	"testing"
)

// TestBM25HandComputed checks scores against the formula worked by hand:
// three titles of 2, 4 and 1 tokens, "red" in the first two (once, twice).
func TestBM25HandComputed(t *testing.T) {
	f := newFix(t, testMapping, 0,
		doc("1", "title", "red blue"),
		doc("2", "title", "red red green yellow"),
		doc("3", "title", "green"))
	res := f.expectIDs(`{"query":{"match":{"title":"red"}}}`, "2", "1")
	idf := math.Log(1 + (3-2+0.5)/(2+0.5))
	avgdl := 7.0 / 3
	want2 := idf * 2 / (2 + 1.2*(1-0.75+0.75*4/avgdl))
	want1 := idf * 1 / (1 + 1.2*(1-0.75+0.75*2/avgdl))
	if !near(res.Hits[0].Score, want2) || !near(res.Hits[1].Score, want1) {
		t.Fatalf("scores %v, %v; want %v, %v", res.Hits[0].Score, res.Hits[1].Score, want2, want1)
	}
	if res.Total != 2 || res.TotalRelation != "eq" || !near(res.MaxScore, want2) {
		t.Fatalf("total %d %s max %v", res.Total, res.TotalRelation, res.MaxScore)
	}

	// Boost multiplies; two terms add up.
	res = f.expectIDs(`{"query":{"match":{"title":{"query":"red","boost":2}}}}`, "2", "1")
	if !near(res.Hits[0].Score, 2*want2) {
		t.Fatalf("boosted %v, want %v", res.Hits[0].Score, 2*want2)
	}
	idfG := math.Log(1 + (3-2+0.5)/(2+0.5))
	res = f.expectIDs(`{"query":{"match":{"title":"blue green"}}}`, "1", "3", "2")
	_ = idfG

	// Global statistics replace the shard's.
	g := &Stats{Fields: map[string]FieldStats{"title": {DocCount: 10, SumTotalTermFreq: 30}},
		Terms: map[string]map[string]int64{"title": {"red": 3}}}
	r, err := Execute(context.Background(), f.parse(`{"query":{"match":{"title":"red"}}}`), f.r, g, Settings{K1: 2, B: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	gidf := math.Log(1 + (10-3+0.5)/(3+0.5))
	gwant := gidf * 2 / (2 + 2*(1-0.5+0.5*4/3.0))
	if !near(r.Hits[0].Score, gwant) {
		t.Fatalf("global score %v, want %v", r.Hits[0].Score, gwant)
	}
}

func TestCollectStatsAndAdd(t *testing.T) {
	f := newFix(t, testMapping, 2,
		doc("1", "title", "red blue"), doc("2", "title", "red red green"), doc("3", "title", "green"))
	st := CollectStats(f.parse(`{"query":{"bool":{"should":[{"match":{"title":"red green"}},{"term":{"brand":"x"}}]}}}`), f.r)
	if st.Fields["title"].DocCount != 3 || st.Fields["title"].SumTotalTermFreq != 6 {
		t.Fatalf("field stats %+v", st.Fields["title"])
	}
	if st.Terms["title"]["red"] != 2 || st.Terms["title"]["green"] != 2 {
		t.Fatalf("terms %+v", st.Terms)
	}
	sum := &Stats{}
	sum.Add(st)
	sum.Add(st)
	if sum.Terms["title"]["red"] != 4 || sum.Fields["title"].DocCount != 6 || sum.Docs != 6 {
		t.Fatalf("sum %+v", sum)
	}
}

func TestBoolSemantics(t *testing.T) {
	f := newFix(t, testMapping, 2,
		doc("a", "title", "red blue", "brand", "acme"),
		doc("b", "title", "red green", "brand", "zeta"),
		doc("c", "title", "blue green", "brand", "acme"),
		doc("d", "title", "yellow"))
	f.expectIDs(`{"query":{"bool":{"must":{"match":{"title":"red"}},"must_not":{"match":{"title":"green"}}}}}`, "a")
	f.expectIDs(`{"query":{"bool":{"should":[{"match":{"title":"red"}},{"match":{"title":"blue"}}],"minimum_should_match":2}}}`, "a")
	res := f.expectIDs(`{"query":{"bool":{"filter":{"term":{"brand":"acme"}}}}}`, "a", "c")
	if res.Hits[0].Score != 0 {
		t.Fatalf("filter scored %v", res.Hits[0].Score)
	}
	f.expectIDs(`{"query":{"bool":{"must_not":{"term":{"brand":"acme"}}}}}`, "b", "d")
	// should is optional beside must, and raises the score.
	res = f.expectIDs(`{"query":{"bool":{"must":{"match":{"title":"green"}},"should":{"term":{"brand":"acme"}}}}}`, "c", "b")
	if !(res.Hits[0].Score > res.Hits[1].Score) {
		t.Fatal("should did not add")
	}
	// with a filter, should is optional too (minimum_should_match 0).
	f.expectIDs(`{"query":{"bool":{"filter":{"match":{"title":"green"}},"should":{"term":{"brand":"acme"}}}}}`, "c", "b")
	f.expectIDs(`{"query":{"bool":{"filter":{"match":{"title":"green"}},"should":{"term":{"brand":"acme"}},"minimum_should_match":1}}}`, "c")
	f.expectIDs(`{"query":{"match":{"title":{"query":"red blue","operator":"and"}}}}`, "a")
	f.expectIDs(`{"query":{"match":{"title":{"query":"red blue yellow","minimum_should_match":"2"}}}}`, "a")
	f.expectIDs(`{"query":{"bool":{"must":[{"bool":{"should":[{"term":{"brand":"zeta"}},{"match":{"title":"yellow"}}]}}]}}}`, "d", "b")
	f.expectIDs(`{"query":{"ids":{"values":["d","b","zz"]}}}`, "b", "d")
	f.expectIDs(`{"query":{"exists":{"field":"brand"}}}`, "a", "b", "c")
	f.expectIDs(`{"query":{"constant_score":{"filter":{"match":{"title":"blue"}},"boost":1.5}}}`, "a", "c")
	f.expectIDs(`{"query":{"match_none":{}}}`)
	f.expectIDs(`{"query":{"bool":{}}}`, "a", "b", "c", "d")
	f.expectIDs(`{"query":{"terms":{"brand":["zeta","nope"]}}}`, "b")
	f.expectIDs(`{"query":{"match":{"nofield":"x"}}}`)
	// deleted documents are skipped.
	f.r.Segments[0].(*memSeg).delete("a")
	f.expectIDs(`{"query":{"match":{"title":"red"}}}`, "b")
}

func TestMultiMatch(t *testing.T) {
	f := newFix(t, testMapping, 0,
		doc("1", "title", "green apple", "body", "fruit"),
		doc("2", "title", "fruit salad", "body", "green green green"),
		doc("3", "title", "nothing", "body", "nothing"))
	// title boosted ×3: the title match wins.
	f.expectIDs(`{"query":{"multi_match":{"query":"green","fields":["title^3","body"]}}}`, "1", "2")
	f.expectIDs(`{"query":{"multi_match":{"query":"green","fields":["title","body^5"]}}}`, "2", "1")
	f.expectIDs(`{"query":{"multi_match":{"query":"green","fields":["t*^3","bo?y"]}}}`, "1", "2")
	f.expectIDs(`{"query":{"multi_match":{"query":"salad"}}}`, "2")
	// best_fields scores the best field; most_fields sums.
	best := f.search(`{"query":{"multi_match":{"query":"green fruit","fields":["title","body"]}}}`)
	most := f.search(`{"query":{"multi_match":{"query":"green fruit","fields":["title","body"],"type":"most_fields"}}}`)
	if !(most.Hits[0].Score > best.Hits[0].Score) {
		t.Fatalf("most_fields %v not above best_fields %v", most.Hits[0].Score, best.Hits[0].Score)
	}
}

func TestPhraseAndSlop(t *testing.T) {
	f := newFix(t, testMapping, 0,
		doc("1", "title", "quick brown fox"),
		doc("2", "title", "brown quick fox"),
		doc("3", "title", "quick red brown fox"),
		doc("4", "title", "quick brown quick brown"))
	res := f.expectIDs(`{"query":{"match_phrase":{"title":"quick brown"}}}`, "4", "1")
	if !(res.Hits[0].Score > res.Hits[1].Score) {
		t.Fatal("two occurrences should outscore one")
	}
	f.expectIDs(`{"query":{"match_phrase":{"title":{"query":"quick brown","slop":1}}}}`, "4", "1", "3")
	f.expectIDs(`{"query":{"match_phrase":{"title":{"query":"quick brown","slop":2}}}}`, "4", "1", "3", "2")
	f.expectIDs(`{"query":{"match_phrase":{"title":"quick brown fox"}}}`, "1")
	f.expectIDs(`{"query":{"match_phrase_prefix":{"title":"quick bro"}}}`, "4", "1")
}

func TestFuzzyPrefixWildcard(t *testing.T) {
	f := newFix(t, testMapping, 0,
		doc("1", "title", "wireless headphones", "brand", "Sony"),
		doc("2", "title", "wired mouse", "brand", "Logitech"),
		doc("3", "title", "laptop stand", "brand", "Lenovo"),
		doc("4", "title", "lapel pin", "brand", "Levi"),
		doc("5", "title", "desk lamp", "brand", "Ikea"))
	f.expectIDs(`{"query":{"match":{"title":{"query":"wirless","fuzziness":"AUTO"}}}}`, "1")
	f.expectIDs(`{"query":{"fuzzy":{"title":"wirless"}}}`, "1")
	f.expectIDs(`{"query":{"fuzzy":{"title":{"value":"wirless","fuzziness":1}}}}`, "1")
	f.expectIDs(`{"query":{"match":{"title":{"query":"wirless"}}}}`)
	f.expectIDs(`{"query":{"prefix":{"title":"lap"}}}`, "3", "4")
	f.expectIDs(`{"query":{"prefix":{"brand":"Le"}}}`, "3", "4")
	f.expectIDs(`{"query":{"wildcard":{"brand":{"value":"L*o*"}}}}`, "2", "3")
	f.expectIDs(`{"query":{"wildcard":{"brand":"?ony"}}}`, "1")
	// expansions are capped: only the most frequent terms stay.
	req, err := Parse([]byte(`{"query":{"prefix":{"title":"w"}}}`), f.m, f.reg, Limits{MaxExpansions: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Execute(context.Background(), req, f.r, nil, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 {
		t.Fatalf("capped prefix matched %v", ids(res))
	}
	// too many expansions for max_clauses.
	req, _ = Parse([]byte(`{"query":{"bool":{"should":[{"prefix":{"title":"w"}},{"prefix":{"title":"l"}}]}}}`), f.m, f.reg, Limits{MaxClauses: 3})
	_, err = Execute(context.Background(), req, f.r, nil, Settings{})
	mustErr(t, err, ErrTooManyClauses, "max_clauses")
}

func TestSourceFilterAndPaging(t *testing.T) {
	f := newFix(t, testMapping, 0,
		[2]string{"1", `{"title":"red one","brand":"a","meta":{"x":"1","y":"2"}}`},
		[2]string{"2", `{"title":"red two","brand":"b","meta":{"x":"3","y":"4"}}`})
	res := f.search(`{"query":{"match":{"title":"red"}},"_source":{"includes":["title","meta.*"],"excludes":["meta.y"]},"size":1,"from":1}`)
	if len(res.Hits) != 2 {
		t.Fatalf("shard hits %d, want from+size", len(res.Hits))
	}
	if got := string(res.Hits[0].Source); got != `{"meta":{"x":"1"},"title":"red one"}` {
		t.Fatalf("source %s", got)
	}
	res = f.search(`{"_source":false}`)
	if res.Hits[0].Source != nil {
		t.Fatal("source not off")
	}
	m, err := Merge(f.parse(`{"query":{"match":{"title":"red"}},"size":1,"from":1}`), []*ShardResult{res})
	if err != nil || len(m.Hits) != 1 || m.Hits[0].ID != "2" {
		t.Fatalf("merge page %+v %v", m, err)
	}
}
