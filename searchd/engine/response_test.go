package engine

import (
	"math"
	"testing"

	"cairn.dev/cairn/searchd/query"
)

func TestResponseShape(t *testing.T) {
	res := &query.Result{Total: 12, TotalRelation: "eq", MaxScore: 1.5,
		Hits: []query.MergedHit{
			{Hit: query.Hit{ID: "a", Score: 1.5, Source: []byte(`{"t":"x"}`), Highlight: map[string][]string{"t": {"<em>x</em>"}}}, Shard: 1},
			{Hit: query.Hit{ID: "b", Score: math.NaN(), Sort: []any{int64(3), "k"}}, Shard: 0},
		},
		Aggregations: []byte(`{"g":{"value":1}}`),
		Suggest:      []byte(`{"s":[]}`)}
	got := string(Response(res, func(s int) string { return []string{"i0", "i1"}[s] }, 7, 2))
	want := `{"took":7,"timed_out":false,"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},` +
		`"hits":{"total":{"value":12,"relation":"eq"},"max_score":1.5,"hits":[` +
		`{"_index":"i1","_id":"a","_score":1.5,"_source":{"t":"x"},"highlight":{"t":["<em>x</em>"]}},` +
		`{"_index":"i0","_id":"b","_score":null,"sort":[3,"k"]}]},` +
		`"aggregations":{"g":{"value":1}},"suggest":{"s":[]}}`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	empty := string(Response(&query.Result{MaxScore: math.NaN()}, func(int) string { return "" }, 0, 1))
	if empty != `{"took":0,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"max_score":null,"hits":[]}}` {
		t.Fatalf("empty %s", empty)
	}
}
