package aggs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string // substrings of the message
	}{
		{`{"a":{"bogus":{}}}`, []string{"[a]", "unknown aggregation type [bogus]"}},
		{`{"a":{"terms":{"field":"tag","sise":3}}}`, []string{"[a terms]", "unknown parameter [sise]"}},
		{`{"a":{"terms":{"field":"title"}}}`, []string{"Text fields are not optimised", "use a keyword field", "[title]"}},
		{`{"a":{"terms":{"field":"nope"}}}`, []string{"no field [nope]"}},
		{`{"a":{"terms":{"field":"nodv"}}}`, []string{"[nodv]", "no doc values"}},
		{`{"a":{"terms":{"size":3}}}`, []string{"[a terms]", "[field] is missing"}},
		{`{"a":{"terms":{"field":"tag","size":0}}}`, []string{"[size]", ">= 1"}},
		{`{"a":{"terms":{"field":"tag","size":"x"}}}`, []string{"[size]", "integer"}},
		{`{"a":{"terms":{"field":"tag","order":{"nope":"desc"}}}}`, []string{"[order]", "no sub-aggregation [nope]"}},
		{`{"a":{"terms":{"field":"tag","order":{"_count":"up"}}}}`, []string{"[order]", "asc"}},
		{`{"a":{"terms":{"field":"tag","order":{"s":"desc"}},"aggs":{"s":{"stats":{"field":"price"}}}}}`, []string{"[order]", "s.min"}},
		{`{"a":{"terms":{"field":"tag"},"aggs":{"b":{"avg":{"field":"tag"}}}}}`, []string{"[a>b avg]", "keyword"}},
		{`{"a":{"avg":{"field":"price"},"aggs":{"b":{"max":{"field":"price"}}}}}`, []string{"[a]", "cannot accept sub-aggregations"}},
		{`{"a":{"terms":{"field":"tag"},"max":{"field":"price"}}}`, []string{"[a]", "two aggregation types"}},
		{`{"a":{}}`, []string{"[a]", "missing aggregation type"}},
		{`{"a>b":{"max":{"field":"price"}}}`, []string{"invalid aggregation name"}},
		{`{"a":{"max":{"field":"price"}},"a":{"min":{"field":"price"}}}`, []string{"duplicate key [a]"}},
		{`[1]`, []string{"[aggs]", "expected an object"}},
		{`{"a":{"histogram":{"field":"price"}}}`, []string{"[interval] is missing"}},
		{`{"a":{"histogram":{"field":"price","interval":-1}}}`, []string{"[interval] must be > 0"}},
		{`{"a":{"date_histogram":{"field":"when","interval":"1d"}}}`, []string{"[interval] was removed", "calendar_interval"}},
		{`{"a":{"date_histogram":{"field":"when","calendar_interval":"2d"}}}`, []string{"[calendar_interval]", "fixed_interval"}},
		{`{"a":{"date_histogram":{"field":"when","fixed_interval":"1M"}}}`, []string{"[fixed_interval]", "unknown unit [M]"}},
		{`{"a":{"date_histogram":{"field":"when","fixed_interval":"1h","time_zone":"Europe/Paris"}}}`, []string{"[time_zone]", "only UTC"}},
		{`{"a":{"date_histogram":{"field":"price","fixed_interval":"1h"}}}`, []string{"not a date field"}},
		{`{"a":{"range":{"field":"price"}}}`, []string{"[ranges] is missing"}},
		{`{"a":{"range":{"field":"price","ranges":[{"form":1}]}}}`, []string{"unknown parameter [ranges.form]"}},
		{`{"a":{"range":{"field":"tag","ranges":[{"to":1}]}}}`, []string{"keyword field"}},
		{`{"a":{"date_range":{"field":"when","ranges":[{"to":"yesterday"}]}}}`, []string{"[ranges.to]", "yesterday"}},
		{`{"a":{"cardinality":{"field":"title.keyword","precision_threshold":-1}}}`, []string{"[precision_threshold]"}},
		{`{"a":{"terms":{"field":"stock","include":"1.*"}}}`, []string{"[include]", "keyword fields only"}},
		{`{"a":{"terms":{"field":"tag","include":"("}}}`, []string{"[include]", "regular expression"}},
	} {
		_, err := Parse([]byte(tc.body), testMapping(), Limits{})
		if !assert.Error(t, err, tc.body) {
			continue
		}
		assert.ErrorIs(t, err, ErrParse, tc.body)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w, tc.body)
		}
	}
}

func TestParseFieldPaths(t *testing.T) {
	req, err := Parse([]byte(`{"a":{"terms":{"field":"title.keyword"}},"b":{"aggregations":{"c":{"cardinality":{"field":"owner.name"}}},"terms":{"field":"sale"}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	require.Len(t, req.Aggs, 2)
	assert.Equal(t, "a", req.Aggs[0].Name)
	assert.Equal(t, "terms", req.Aggs[0].Type)
	assert.Equal(t, "c", req.Aggs[1].Subs[0].Name)
	assert.Equal(t, "cardinality", req.Aggs[1].Subs[0].Type)
}

func TestParseDepthLimit(t *testing.T) {
	nest := func(depth int) string {
		s := `{"max":{"field":"price"}}`
		for range depth - 1 {
			s = `{"terms":{"field":"tag"},"aggs":{"x":` + s + `}}`
		}
		return `{"x":` + s + `}`
	}
	_, err := Parse([]byte(nest(3)), testMapping(), Limits{MaxDepth: 3})
	require.NoError(t, err)
	_, err = Parse([]byte(nest(4)), testMapping(), Limits{MaxDepth: 3})
	require.ErrorIs(t, err, ErrParse)
	assert.Contains(t, err.Error(), "deeper than 3")
}

func TestMaxBuckets(t *testing.T) {
	var docs []doc
	for i := range 50 {
		docs = append(docs, doc{"tag": fmt.Sprintf("t%02d", i), "brand": fmt.Sprintf("b%d", i%5), "price": float64(i)})
	}
	check := func(body string, limit int, shardErr bool) {
		t.Helper()
		req, err := Parse([]byte(body), testMapping(), Limits{MaxBuckets: limit})
		require.NoError(t, err)
		c := NewCollector(req)
		seg := buildSegment(docs)
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			c.Collect(d)
		}
		p, err := c.Partial()
		if shardErr {
			require.ErrorIs(t, err, ErrTooManyBuckets, body)
			assert.Contains(t, err.Error(), "search.max_buckets")
			return
		}
		require.NoError(t, err, body)
		_, err = Reduce(req, [][]byte{p})
		require.ErrorIs(t, err, ErrTooManyBuckets, body)
		assert.Contains(t, err.Error(), "search.max_buckets")
	}
	// 5 brands × 10 tags each on the shard.
	check(`{"b":{"terms":{"field":"brand"},"aggs":{"t":{"terms":{"field":"tag","size":20}}}}}`, 40, true)
	// Histogram gaps filled on reduce: 1000 buckets from 0 to 999000.
	check(`{"h":{"histogram":{"field":"price","interval":1,"extended_bounds":{"max":999999}}}}`, 500, false)
}

func TestPartialErrors(t *testing.T) {
	req, err := Parse([]byte(`{"a":{"max":{"field":"price"}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	_, err = Reduce(req, [][]byte{[]byte("garbage")})
	assert.ErrorIs(t, err, ErrPartial)

	other, err := Parse([]byte(`{"a":{"max":{"field":"price"}},"b":{"min":{"field":"price"}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	p := collectShard(t, other, buildSegment(shopDocs))
	_, err = Reduce(req, [][]byte{p})
	assert.ErrorIs(t, err, ErrPartial)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":{"terms":{"field":"tag","size":3,"order":{"m":"desc"}},"aggs":{"m":{"max":{"field":"price"}}}}}`,
		`{"h":{"date_histogram":{"field":"when","calendar_interval":"month","format":"yyyy-MM"}}}`,
		`{"r":{"date_range":{"field":"when","ranges":[{"from":"now-1d/d"}]}}}`,
		`{"c":{"cardinality":{"field":"tag"}}}`,
	} {
		f.Add(s)
	}
	m := testMapping()
	f.Fuzz(func(t *testing.T, body string) {
		req, err := Parse([]byte(body), m, Limits{MaxBuckets: 1000})
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		// A parsed request collects and reduces without panicking.
		c := NewCollector(req)
		seg := buildSegment(shopDocs)
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			c.Collect(d)
		}
		p, err := c.Partial()
		if err != nil {
			if !errors.Is(err, ErrTooManyBuckets) {
				t.Fatalf("Partial: %v", err)
			}
			return
		}
		if _, err := Reduce(req, [][]byte{p, p}); err != nil && !errors.Is(err, ErrTooManyBuckets) {
			t.Fatalf("Reduce: %v", err)
		}
	})
}
