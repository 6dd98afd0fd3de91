package aggs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRange(t *testing.T) {
	got := reduceJSON(t, `{"r":{"range":{"field":"price","ranges":[{"from":50},{"to":10},{"from":10,"to":50,"key":"mid"}]}}}`,
		[][]doc{shopDocs[:3]}, [][]doc{shopDocs[3:]})
	// Sorted by from; default keys print doubles as Java does.
	assert.JSONEq(t, `{"r":{"buckets":[
		{"key":"*-10.0","to":10.0,"doc_count":1},
		{"key":"mid","from":10.0,"to":50.0,"doc_count":3},
		{"key":"50.0-*","from":50.0,"doc_count":1}]}}`, got)

	got = reduceJSON(t, `{"r":{"range":{"field":"stock","keyed":true,"ranges":[{"to":4},{"from":4}]},"aggs":{"p":{"sum":{"field":"price"}}}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"r":{"buckets":{
		"*-4.0":{"to":4.0,"doc_count":2,"p":{"value":40.0}},
		"4.0-*":{"from":4.0,"doc_count":2,"p":{"value":20.0}}}}}`, got)
}

func TestDateRange(t *testing.T) {
	d := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	docs := []doc{{"when": d("2024-01-15T10:00:00Z")}, {"when": d("2024-02-01T00:00:00Z")}, {"when": d("2024-03-10T00:00:00Z")}}
	got := reduceJSON(t, `{"r":{"date_range":{"field":"when","format":"yyyy-MM-dd","ranges":[{"to":"2024-02-01"},{"from":"2024-02-01||/M","to":"2024-02-01||+1M"}]}}}`, [][]doc{docs})
	assert.JSONEq(t, `{"r":{"buckets":[
		{"key":"*-2024-02-01","to":1706745600000.0,"to_as_string":"2024-02-01","doc_count":1},
		{"key":"2024-02-01-2024-03-01","from":1706745600000.0,"from_as_string":"2024-02-01","to":1709251200000.0,"to_as_string":"2024-03-01","doc_count":1}]}}`, got)
}

func TestHistogram(t *testing.T) {
	got := reduceJSON(t, `{"h":{"histogram":{"field":"price","interval":10}}}`, [][]doc{shopDocs[:2]}, [][]doc{shopDocs[2:5]})
	// Empty buckets fill the gaps between the smallest and largest key.
	assert.JSONEq(t, `{"h":{"buckets":[
		{"key":0.0,"doc_count":1},{"key":10.0,"doc_count":1},{"key":20.0,"doc_count":1},{"key":30.0,"doc_count":1}]}}`, got)

	got = reduceJSON(t, `{"h":{"histogram":{"field":"price","interval":25,"offset":5,"extended_bounds":{"min":-30,"max":80}}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"h":{"buckets":[
		{"key":-45.0,"doc_count":0},{"key":-20.0,"doc_count":0},{"key":5.0,"doc_count":3},{"key":30.0,"doc_count":1},
		{"key":55.0,"doc_count":0},{"key":80.0,"doc_count":1}]}}`, got)

	got = reduceJSON(t, `{"h":{"histogram":{"field":"stock","interval":2,"min_doc_count":1,"keyed":true},"aggs":{"c":{"value_count":{"field":"tag"}}}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"h":{"buckets":{
		"2.0":{"key":2.0,"doc_count":2,"c":{"value":3}},
		"4.0":{"key":4.0,"doc_count":1,"c":{"value":1}},
		"6.0":{"key":6.0,"doc_count":1,"c":{"value":1}}}}}`, got)

	// A fractional interval keeps keys on the grid while filling.
	got = reduceJSON(t, `{"h":{"histogram":{"field":"price","interval":0.1}}}`, [][]doc{{{"price": 0.05}, {"price": 0.75}}})
	m := search(t, `{"h":{"histogram":{"field":"price","interval":0.1}}}`, [][]doc{{{"price": 0.05}, {"price": 0.75}}})
	buckets := m["h"].(map[string]any)["buckets"].([]any)
	assert.Len(t, buckets, 8, got)
	assert.Equal(t, 1.0, buckets[7].(map[string]any)["doc_count"], got)
}

func TestDateHistogram(t *testing.T) {
	d := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	docs := []doc{
		{"when": d("2024-01-31T23:59:59Z")},
		{"when": d("2024-02-29T12:00:00Z")},
		{"when": d("2024-04-01T00:00:00Z")},
		{"when": []int64{d("2024-04-02T00:00:00Z"), d("2024-04-03T00:00:00Z")}},
	}
	got := reduceJSON(t, `{"m":{"date_histogram":{"field":"when","calendar_interval":"month"}}}`, [][]doc{docs[:2]}, [][]doc{docs[2:]})
	assert.JSONEq(t, `{"m":{"buckets":[
		{"key_as_string":"2024-01-01T00:00:00.000Z","key":1704067200000,"doc_count":1},
		{"key_as_string":"2024-02-01T00:00:00.000Z","key":1706745600000,"doc_count":1},
		{"key_as_string":"2024-03-01T00:00:00.000Z","key":1709251200000,"doc_count":0},
		{"key_as_string":"2024-04-01T00:00:00.000Z","key":1711929600000,"doc_count":2}]}}`, got)

	got = reduceJSON(t, `{"q":{"date_histogram":{"field":"when","calendar_interval":"1q","format":"yyyy-MM"}},
		"y":{"date_histogram":{"field":"when","calendar_interval":"year","time_zone":"UTC"}}}`, [][]doc{docs})
	assert.JSONEq(t, `{
		"q":{"buckets":[{"key_as_string":"2024-01","key":1704067200000,"doc_count":2},{"key_as_string":"2024-04","key":1711929600000,"doc_count":2}]},
		"y":{"buckets":[{"key_as_string":"2024-01-01T00:00:00.000Z","key":1704067200000,"doc_count":4}]}}`, got)

	// Weeks start on Monday: 2024-04-01 was a Monday.
	got = reduceJSON(t, `{"w":{"date_histogram":{"field":"when","calendar_interval":"week","min_doc_count":1,"format":"yyyy-MM-dd"}}}`, [][]doc{docs})
	assert.JSONEq(t, `{"w":{"buckets":[
		{"key_as_string":"2024-01-29","key":1706486400000,"doc_count":1},
		{"key_as_string":"2024-02-26","key":1708905600000,"doc_count":1},
		{"key_as_string":"2024-04-01","key":1711929600000,"doc_count":2}]}}`, got)

	got = reduceJSON(t, `{"f":{"date_histogram":{"field":"when","fixed_interval":"30m","offset":"+10m","min_doc_count":1,"format":"yyyy-MM-dd HH:mm"}}}`, [][]doc{docs[:2]})
	assert.JSONEq(t, `{"f":{"buckets":[
		{"key_as_string":"2024-01-31 23:40","key":1706744400000,"doc_count":1},
		{"key_as_string":"2024-02-29 11:40","key":1709206800000,"doc_count":1}]}}`, got)

	got = reduceJSON(t, `{"h":{"date_histogram":{"field":"when","calendar_interval":"hour","extended_bounds":{"min":"2024-04-01T00:00:00Z","max":"2024-04-01T02:00:00Z"}}}}`, [][]doc{docs[2:3]})
	assert.JSONEq(t, `{"h":{"buckets":[
		{"key_as_string":"2024-04-01T00:00:00.000Z","key":1711929600000,"doc_count":1},
		{"key_as_string":"2024-04-01T01:00:00.000Z","key":1711933200000,"doc_count":0},
		{"key_as_string":"2024-04-01T02:00:00.000Z","key":1711936800000,"doc_count":0}]}}`, got)
}

func TestMetrics(t *testing.T) {
	got := reduceJSON(t, `{"mn":{"min":{"field":"price"}},"mx":{"max":{"field":"stock"}},"av":{"avg":{"field":"price"}},
		"sm":{"sum":{"field":"price"}},"vc":{"value_count":{"field":"tag"}},"st":{"stats":{"field":"stock"}},
		"mi":{"avg":{"field":"rating","missing":4}}}`, [][]doc{shopDocs[:3]}, [][]doc{shopDocs[3:]})
	assert.JSONEq(t, `{"mn":{"value":5.0},"mx":{"value":7.0},"av":{"value":33.0},"sm":{"value":165.0},"vc":{"value":6},
		"st":{"count":4,"min":3.0,"max":7.0,"avg":4.5,"sum":18.0},"mi":{"value":4.0}}`, got)

	// No values: null, as Elasticsearch 8.
	got = reduceJSON(t, `{"mn":{"min":{"field":"rating"}},"av":{"avg":{"field":"rating"}},"sm":{"sum":{"field":"rating"}},
		"st":{"stats":{"field":"rating"}},"c":{"cardinality":{"field":"rating"}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"mn":{"value":null},"av":{"value":null},"sm":{"value":0.0},
		"st":{"count":0,"min":null,"max":null,"avg":null,"sum":0.0},"c":{"value":0}}`, got)

	// A keyword's missing value counts once per document without values.
	got = reduceJSON(t, `{"vc":{"value_count":{"field":"tag","missing":"none"}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{"vc":{"value":7}}`, got)

	// Date metrics add value_as_string.
	got = reduceJSON(t, `{"mx":{"max":{"field":"when"}}}`, [][]doc{{{"when": int64(1704067200000)}}})
	assert.JSONEq(t, `{"mx":{"value":1704067200000.0,"value_as_string":"2024-01-01T00:00:00.000Z"}}`, got)

	// No shard at all.
	req, err := Parse([]byte(`{"mn":{"min":{"field":"price"}},"t":{"terms":{"field":"tag"}},"r":{"range":{"field":"price","ranges":[{"to":1}]}}}`), testMapping(), Limits{})
	assert.NoError(t, err)
	out, err := Reduce(req, nil)
	assert.NoError(t, err)
	assert.JSONEq(t, `{"mn":{"value":null},"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[]},
		"r":{"buckets":[{"key":"*-1.0","to":1.0,"doc_count":0}]}}`, string(out))
}
