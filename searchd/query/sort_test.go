package query

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSortByFields(t *testing.T) {
	f := newFix(t, testMapping, 2,
		[2]string{"a", `{"title":"red","stock":[5,1],"price":2.5,"brand":"zeta","tags":["x","m"]}`},
		[2]string{"b", `{"title":"red red","stock":3,"price":1.5,"brand":"acme","tags":"b"}`},
		[2]string{"c", `{"title":"blue","price":9,"brand":"mid"}`},
		[2]string{"d", `{"title":"red blue","stock":4,"brand":"acme"}`})
	cases := []struct{ sort, want string }{
		{`[{"stock":"asc"}]`, "a,b,d,c"},                              // min of [5,1] is 1; missing last
		{`[{"stock":"desc"}]`, "a,d,b,c"},                             // max of [5,1] is 5
		{`[{"stock":{"order":"asc","mode":"max"}}]`, "b,d,a,c"},       // by max ascending
		{`[{"stock":{"order":"asc","missing":"_first"}}]`, "c,a,b,d"}, //
		{`[{"stock":{"order":"asc","missing":2}}]`, "a,c,b,d"},        // c counts as 2
		{`[{"price":"desc"}]`, "c,a,b,d"},
		{`[{"brand":"asc"},{"_id":"desc"}]`, "d,b,c,a"},
		{`[{"tags":"asc"},"_id"]`, "b,a,c,d"},
		{`["_doc"]`, "a,b,c,d"},
		{`[{"_score":"desc"},"_id"]`, "b,a,d,c"},
		{`[{"nope":{"order":"asc","unmapped_type":"long"}},"_id"]`, "a,b,c,d"},
	}
	for _, c := range cases {
		body := `{"query":{"bool":{"should":[{"match":{"title":"red"}},{"match_all":{"boost":0.01}}]}},"sort":` + c.sort + `}`
		res := f.search(body)
		if got := strings.Join(ids(res), ","); got != c.want {
			t.Errorf("sort %s: got %s, want %s (%v)", c.sort, got, c.want, sortVals(res))
		}
	}
	res := f.search(`{"sort":[{"stock":"asc"}],"size":1}`)
	if len(res.Hits[0].Sort) != 1 || res.Hits[0].Sort[0] != int64(1) || res.Hits[0].Score == res.Hits[0].Score {
		t.Fatalf("sort values %v score %v", res.Hits[0].Sort, res.Hits[0].Score)
	}
	res = f.search(`{"sort":[{"stock":"asc"},"_score"],"size":1}`)
	if res.Hits[0].Score != res.Hits[0].Score {
		t.Fatal("sorting on _score gave no score")
	}
	res = f.search(`{"sort":[{"stock":"asc"}],"size":1,"track_scores":true}`)
	if res.Hits[0].Score != res.Hits[0].Score {
		t.Fatal("track_scores gave no score")
	}
}

func sortVals(res *ShardResult) string {
	var b strings.Builder
	for _, h := range res.Hits {
		j, _ := json.Marshal(h.Sort)
		fmt.Fprintf(&b, "%s=%s ", h.ID, j)
	}
	return b.String()
}

func TestSearchAfterScore(t *testing.T) {
	var docs [][2]string
	for i := 0; i < 30; i++ {
		docs = append(docs, doc(fmt.Sprintf("d%02d", i), "title", strings.Repeat("red ", 1+i%5)+"blue"))
	}
	f := newFix(t, testMapping, 8, docs...)
	seen := map[string]bool{}
	after := ""
	for page := 0; page < 20; page++ {
		body := `{"query":{"match":{"title":"red"}},"size":4,"sort":["_score","_id"]`
		if after != "" {
			body += `,"search_after":` + after
		}
		res := f.search(body + "}")
		if len(res.Hits) == 0 {
			break
		}
		for _, h := range res.Hits {
			if seen[h.ID] {
				t.Fatalf("%s twice", h.ID)
			}
			seen[h.ID] = true
		}
		b, _ := json.Marshal(res.Hits[len(res.Hits)-1].Sort)
		after = string(b)
	}
	if len(seen) != 30 {
		t.Fatalf("saw %d", len(seen))
	}
	// min_score drops low scores.
	all := f.search(`{"query":{"match":{"title":"red"}},"size":30}`)
	cut := all.Hits[10].Score
	res := f.search(fmt.Sprintf(`{"query":{"match":{"title":"red"}},"size":30,"min_score":%v}`, cut))
	for _, h := range res.Hits {
		if h.Score < cut {
			t.Fatalf("min_score let %v through", h.Score)
		}
	}
}
