package es

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQueryString(t *testing.T) {
	for _, tc := range []struct {
		q, df, op, want string
	}{
		{"", "", "", `{"match_all":{}}`},
		{"*:*", "", "", `{"match_all":{}}`},
		{"wireless", "", "", `{"multi_match":{"query":"wireless"}}`},
		{"wireless", "title", "", `{"match":{"title":"wireless"}}`},
		{"title:wireless", "", "", `{"match":{"title":"wireless"}}`},
		{`title:"noise cancelling"`, "", "", `{"match_phrase":{"title":"noise cancelling"}}`},
		{`"noise cancelling"`, "", "", `{"multi_match":{"query":"noise cancelling","type":"phrase"}}`},
		{"title:wire*", "", "", `{"prefix":{"title":"wire"}}`},
		{"price:[10 TO 100]", "", "", `{"range":{"price":{"gte":"10","lte":"100"}}}`},
		{"price:{10 TO *}", "", "", `{"range":{"price":{"gt":"10"}}}`},
		{"price:>=10", "", "", `{"range":{"price":{"gte":"10"}}}`},
		{"price:<5", "", "", `{"range":{"price":{"lt":"5"}}}`},
		{"_exists_:brand", "", "", `{"exists":{"field":"brand"}}`},
		{"a b", "", "", `{"bool":{"should":[{"multi_match":{"query":"a"}},{"multi_match":{"query":"b"}}],"minimum_should_match":1}}`},
		{"a b", "", "AND", `{"bool":{"must":[{"multi_match":{"query":"a"}},{"multi_match":{"query":"b"}}]}}`},
		{"title:a AND brand:b", "", "", `{"bool":{"must":[{"match":{"title":"a"}},{"match":{"brand":"b"}}]}}`},
		{"+title:a -brand:b c", "", "", `{"bool":{"must":[{"match":{"title":"a"}}],"must_not":[{"match":{"brand":"b"}}],"should":[{"multi_match":{"query":"c"}}]}}`},
		{"NOT brand:b", "", "", `{"bool":{"must":[{"match_all":{}}],"must_not":[{"match":{"brand":"b"}}]}}`},
	} {
		got, err := parseQueryString(tc.q, tc.df, tc.op)
		require.NoError(t, err, tc.q)
		b, _ := json.Marshal(got)
		require.JSONEq(t, tc.want, string(b), tc.q)
	}
	for _, bad := range []string{`title:"open`, "price:[1 TO 2", "price:[1 2]", "title:", "[1 TO 2]"} {
		_, err := parseQueryString(bad, "", "")
		require.Error(t, err, bad)
		require.Equal(t, "query_shard_exception", err.(*esError).typ)
	}
}

func FuzzParseQueryString(f *testing.F) {
	for _, s := range []string{"a", `t:"x y"`, "p:[1 TO 2]", "+a -b NOT c", "x:>=3", "_exists_:f", "w*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := parseQueryString(q, "", "")
		if err != nil {
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("%q: %v", q, err)
		}
	})
}

func FuzzParseBulk(f *testing.F) {
	f.Add("{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n{\"delete\":{\"_id\":\"2\"}}\n")
	f.Add("{\"create\":{}}\n{}\n")
	f.Add("{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{}}\n")
	f.Fuzz(func(t *testing.T, body string) {
		items, err := parseBulk([]byte(body), "i")
		if err != nil {
			if err.status != 400 {
				t.Fatalf("status %d", err.status)
			}
			return
		}
		for _, it := range items {
			if it.index == "" || it.action == "delete" && it.id == "" {
				t.Fatalf("item without an index or a delete without an id: %+v", it)
			}
			if it.action != "delete" && len(it.source) == 0 {
				t.Fatalf("write without a source: %+v", it)
			}
		}
	})
}
