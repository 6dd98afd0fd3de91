package query

import (
	"strings"
	"testing"
)

func TestParseErrorsNamePaths(t *testing.T) {
	f := newFix(t, testMapping, 0)
	many := make([]string, 1100)
	for i := range many {
		many[i] = `"t` + strings.Repeat("x", i%7) + `"`
	}
	cases := []struct {
		body     string
		err      error
		contains string
	}{
		{`{"query":{"bool":{"must":[{"match":{"title":"a"}},{"match":{"title":{"query":"x","foo":1}}}]}}}`, ErrParse, "query.bool.must[1].match.title.foo"},
		{`{"query":{"nope":{}}}`, ErrParse, "[query.nope]"},
		{`{"foo":1}`, ErrParse, "[foo]"},
		{`{"query":{"match":{"title":"a"},"term":{"brand":"b"}}}`, ErrParse, "[query]"},
		{`{"query":{"bool":{"should":{"term":{"brand":{"value":"x","bogus":true}}}}}}`, ErrParse, "query.bool.should.term.brand.bogus"},
		{`{"query":{"match":{"title":{"query":"x","fuzziness":"3"}}}}`, ErrParse, "query.match.title.fuzziness"},
		{`{"query":{"match":{"title":{"query":"x","operator":"xor"}}}}`, ErrParse, "query.match.title.operator"},
		{`{"query":{"range":{"added":{"gte":"yesterday"}}}}`, ErrParse, "query.range.added.gte"},
		{`{"size":-1}`, ErrParse, "[size]"},
		{`{"sort":[{"title":"desc"}]}`, ErrParse, "sort[0].title"},
		{`{"sort":[{"nofield":"desc"}]}`, ErrParse, "sort[0].nofield"},
		{`{"sort":[{"brand":{"order":"up"}}]}`, ErrParse, "sort[0].brand.order"},
		{`{"search_after":[1,2]}`, ErrParse, "search_after"},
		{`{"highlight":{"fields":{"title":{"fragment_size":0}}}}`, ErrParse, "highlight.fields.title.fragment_size"},
		{`{"suggest":{"s":{"text":"x","term":{"field":"title","max_edits":3}}}}`, ErrParse, "suggest.s.term.max_edits"},
		{`{"_source":{"includes":["a"],"nope":1}}`, ErrParse, "_source.nope"},
		{`{"from":9995,"size":10}`, ErrLimit, "max_result_window"},
		{`{"query":{"terms":{"brand":[` + strings.Join(many, ",") + `]}}}`, ErrTooManyClauses, "max_clauses"},
		{`{"query":` + strings.Repeat(`{"bool":{"must":`, 40) + `{"match_all":{}}` + strings.Repeat(`}}`, 40) + `}`, ErrLimit, "max_query_depth"},
		{`{"query":`, ErrParse, "body"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.body), f.m, f.reg, Limits{})
		mustErr(t, err, c.err, c.contains)
	}
}

func TestParseAccepts(t *testing.T) {
	f := newFix(t, testMapping, 0)
	bodies := []string{
		``,
		`{}`,
		`{"query":{"match_all":{"boost":2}}}`,
		`{"query":{"match":{"title":{"query":"a b","operator":"and","minimum_should_match":"75%","fuzziness":"AUTO","prefix_length":1,"boost":2,"analyzer":"standard"}}}}`,
		`{"query":{"multi_match":{"query":"a","fields":["title^3","body"],"type":"most_fields"}}}`,
		`{"query":{"multi_match":{"query":"a","fields":["title","body"],"tie_breaker":0.3}}}`,
		`{"query":{"match_phrase":{"title":{"query":"a b","slop":2}}}}`,
		`{"query":{"match_phrase_prefix":{"title":"a b"}}}`,
		`{"query":{"bool":{"must":{"match":{"title":"x"}},"filter":[{"term":{"brand":"b"}}],"must_not":[],"should":[{"prefix":{"title":"ab"}}],"minimum_should_match":1}}}`,
		`{"query":{"terms":{"brand":["a","b"],"boost":2}}}`,
		`{"query":{"fuzzy":{"title":{"value":"abc","fuzziness":2,"transpositions":false}}}}`,
		`{"query":{"wildcard":{"brand":{"value":"a*b?"}}}}`,
		`{"query":{"exists":{"field":"title"}}}`,
		`{"query":{"ids":{"values":["1","2"]}}}`,
		`{"query":{"constant_score":{"filter":{"term":{"brand":"x"}},"boost":3}}}`,
		`{"query":{"match_none":{}}}`,
		`{"sort":["_score",{"brand":{"order":"desc","missing":"_first"}},"_doc"],"track_scores":true}`,
		`{"sort":[{"_id":"asc"}],"search_after":["x"]}`,
		`{"track_total_hits":false,"min_score":0.5,"timeout":"1s"}`,
		`{"track_total_hits":100}`,
		`{"_source":false}`,
		`{"_source":["title","b*"]}`,
		`{"highlight":{"pre_tags":["<b>"],"post_tags":["</b>"],"fields":{"title":{}}}}`,
		`{"suggest":{"text":"wirless","s":{"term":{"field":"title"}},"c":{"prefix":"lap","completion":{"field":"title","fuzzy":true}}}}`,
	}
	for _, b := range bodies {
		if _, err := Parse([]byte(b), f.m, f.reg, Limits{}); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestFuzzyEditsAuto(t *testing.T) {
	for _, c := range []struct {
		f, term string
		want    int
	}{
		{"AUTO", "ab", 0}, {"AUTO", "abc", 1}, {"AUTO", "abcde", 1}, {"AUTO", "abcdef", 2},
		{"auto", "wirless", 2}, {"1", "x", 1}, {"0", "abcdef", 0}, {"AUTO:2,4", "ab", 1}, {"AUTO:2,4", "abcd", 2},
	} {
		got, err := fuzzyEdits(c.f, c.term, "p")
		if err != nil || got != c.want {
			t.Errorf("fuzzyEdits(%q, %q) = %d, %v; want %d", c.f, c.term, got, err, c.want)
		}
	}
}

func TestMinShouldMatch(t *testing.T) {
	for _, c := range []struct {
		spec string
		n    int
		want int
	}{{"2", 3, 2}, {"-1", 3, 2}, {"75%", 3, 2}, {"-25%", 3, 3}, {"100%", 4, 4}, {"5", 3, 3}, {"0", 3, 0}} {
		got, err := minShouldMatch(c.spec, c.n, "p")
		if err != nil || got != c.want {
			t.Errorf("minShouldMatch(%q, %d) = %d, %v; want %d", c.spec, c.n, got, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	fx := newFix(f, testMapping, 0)
	for _, s := range []string{`{"query":{"match":{"title":"a"}}}`, `{"query":{"bool":{"should":[{"term":{"brand":"x"}}]}}}`,
		`{"sort":["_score"],"size":3}`, `{"query":{"range":{"added":{"gte":"now-1d/d"}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = Parse(body, fx.m, fx.reg, Limits{})
	})
}
