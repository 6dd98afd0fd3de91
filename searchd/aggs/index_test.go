package aggs

import (
	"fmt"
	"testing"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealSegments collects over the index package's segments: documents
// indexed by hand, two refreshes (two segments), a delete and a
// replacement, one shard's reader.
func TestRealSegments(t *testing.T) {
	w, err := index.Open(index.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })

	kw := func(path, v string) mapping.FieldValue {
		return mapping.FieldValue{Path: path, Type: mapping.Keyword, Keyword: v, Tokens: []analysis.Token{{Term: v}}, Indexed: true, DocValues: true}
	}
	num := func(path string, typ mapping.Type, v int64) mapping.FieldValue {
		return mapping.FieldValue{Path: path, Type: typ, Int: v, Indexed: true, DocValues: true}
	}
	dbl := func(path string, v float64) mapping.FieldValue {
		return mapping.FieldValue{Path: path, Type: mapping.Double, Float: v, Indexed: true, DocValues: true}
	}
	put := func(id string, fields ...mapping.FieldValue) {
		t.Helper()
		require.NoError(t, w.Index(&mapping.Document{ID: id, Source: []byte(fmt.Sprintf(`{"id":%q}`, id)), Fields: fields}))
	}
	day := int64(86400000)
	put("1", kw("tag", "red"), dbl("price", 10), num("stock", mapping.Long, 3), num("when", mapping.Date, 19000*day), num("sale", mapping.Boolean, 1))
	put("2", kw("tag", "red"), kw("tag", "blue"), dbl("price", 20), num("stock", mapping.Long, 5), num("when", mapping.Date, 19001*day))
	put("3", kw("tag", "green"), dbl("price", 99), num("sale", mapping.Boolean, 0))
	require.NoError(t, w.Refresh())
	put("4", kw("tag", "blue"), dbl("price", 30), num("stock", mapping.Long, 3), num("when", mapping.Date, 19031*day))
	put("3", kw("tag", "green"), dbl("price", 5), num("sale", mapping.Boolean, 1)) // replaces 3
	put("5", kw("tag", "gone"), dbl("price", 1000))
	_, err = w.Delete("5")
	require.NoError(t, err)
	require.NoError(t, w.Refresh())

	r := w.Acquire()
	defer r.Release()
	require.GreaterOrEqual(t, len(r.Segments), 2)

	req, err := Parse([]byte(`{
		"tags":{"terms":{"field":"tag"},"aggs":{"avg_price":{"avg":{"field":"price"}}}},
		"stock":{"terms":{"field":"stock"}},
		"sale":{"terms":{"field":"sale"}},
		"months":{"date_histogram":{"field":"when","calendar_interval":"month","format":"yyyy-MM"}},
		"prices":{"range":{"field":"price","ranges":[{"to":15},{"from":15}]}},
		"st":{"stats":{"field":"price"}},
		"distinct":{"cardinality":{"field":"tag"}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	c := NewCollector(req)
	for _, seg := range r.Segments {
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			if seg.Live(d) {
				c.Collect(d)
			}
		}
	}
	p, err := c.Partial()
	require.NoError(t, err)
	out, err := Reduce(req, [][]byte{p})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"tags":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"blue","doc_count":2,"avg_price":{"value":25.0}},
			{"key":"red","doc_count":2,"avg_price":{"value":15.0}},
			{"key":"green","doc_count":1,"avg_price":{"value":5.0}}]},
		"stock":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[{"key":3,"doc_count":2},{"key":5,"doc_count":1}]},
		"sale":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[{"key":1,"key_as_string":"true","doc_count":2}]},
		"months":{"buckets":[
			{"key_as_string":"2022-01","key":1640995200000,"doc_count":2},
			{"key_as_string":"2022-02","key":1643673600000,"doc_count":1}]},
		"prices":{"buckets":[{"key":"*-15.0","to":15.0,"doc_count":2},{"key":"15.0-*","from":15.0,"doc_count":2}]},
		"st":{"count":4,"min":5.0,"max":30.0,"avg":16.25,"sum":65.0},
		"distinct":{"value":3}}`, string(out))
}
