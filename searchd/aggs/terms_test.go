package aggs

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var shopDocs = []doc{
	{"tag": "red", "price": 10.0, "stock": int64(3), "sale": int64(1), "brand": "acme"},
	{"tag": "red", "price": 20.0, "stock": int64(5), "sale": int64(0), "brand": "acme"},
	{"tag": []string{"blue", "red"}, "price": 30.0, "stock": int64(3), "brand": "bolt"},
	{"tag": "green", "price": 5.0, "sale": int64(1)},
	{"tag": "blue", "stock": int64(7), "brand": "bolt"},
	{"price": 100.0},
}

func TestTermsKeywordShape(t *testing.T) {
	req, err := Parse([]byte(`{"tags":{"terms":{"field":"tag"}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	p := collectShard(t, req, buildSegment(shopDocs))
	out, err := Reduce(req, [][]byte{p})
	require.NoError(t, err)
	// Exact bytes: Elasticsearch's member order.
	assert.Equal(t, `{"tags":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[`+
		`{"key":"red","doc_count":3},{"key":"blue","doc_count":2},{"key":"green","doc_count":1}]}}`, string(out))
}

func TestTermsSizeOrderAndOther(t *testing.T) {
	segs := [][]doc{shopDocs[:3], shopDocs[3:]}
	got := reduceJSON(t, `{"t":{"terms":{"field":"tag","size":2}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":1,"buckets":[
		{"key":"red","doc_count":3},{"key":"blue","doc_count":2}]}}`, got)

	// Ties break by key ascending; _key and _count asc orders.
	got = reduceJSON(t, `{"t":{"terms":{"field":"tag","order":{"_key":"desc"}}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"red","doc_count":3},{"key":"green","doc_count":1},{"key":"blue","doc_count":2}]}}`, got)
	got = reduceJSON(t, `{"t":{"terms":{"field":"tag","order":[{"_count":"asc"}]}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"green","doc_count":1},{"key":"blue","doc_count":2},{"key":"red","doc_count":3}]}}`, got)
}

func TestTermsNumericBooleanDate(t *testing.T) {
	got := reduceJSON(t, `{"s":{"terms":{"field":"stock"}},"b":{"terms":{"field":"sale"}},"p":{"terms":{"field":"price","size":2}}}`, [][]doc{shopDocs})
	assert.JSONEq(t, `{
		"s":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[{"key":3,"doc_count":2},{"key":5,"doc_count":1},{"key":7,"doc_count":1}]},
		"b":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[{"key":1,"key_as_string":"true","doc_count":2},{"key":0,"key_as_string":"false","doc_count":1}]},
		"p":{"doc_count_error_upper_bound":0,"sum_other_doc_count":3,"buckets":[{"key":5.0,"doc_count":1},{"key":10.0,"doc_count":1}]}}`, got)

	day := int64(86400000)
	docs := []doc{{"when": 19000 * day}, {"when": 19000 * day}, {"when": 19001*day + 1500}}
	got = reduceJSON(t, `{"w":{"terms":{"field":"when"}}}`, [][]doc{docs})
	assert.JSONEq(t, `{"w":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":1641600000000,"key_as_string":"2022-01-08T00:00:00.000Z","doc_count":2},
		{"key":1641686401500,"key_as_string":"2022-01-09T00:00:01.500Z","doc_count":1}]}}`, got)
}

func TestTermsMissingIncludeExclude(t *testing.T) {
	segs := [][]doc{shopDocs}
	got := reduceJSON(t, `{"t":{"terms":{"field":"tag","missing":"none"}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"red","doc_count":3},{"key":"blue","doc_count":2},{"key":"green","doc_count":1},{"key":"none","doc_count":1}]}}`, got)

	got = reduceJSON(t, `{"t":{"terms":{"field":"tag","include":["red","green","nope"]}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"red","doc_count":3},{"key":"green","doc_count":1}]}}`, got)
	got = reduceJSON(t, `{"t":{"terms":{"field":"tag","exclude":["red"]}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"blue","doc_count":2},{"key":"green","doc_count":1}]}}`, got)
	got = reduceJSON(t, `{"t":{"terms":{"field":"tag","include":"gr.*|bl.*","exclude":["green"]}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"blue","doc_count":2}]}}`, got)
	got = reduceJSON(t, `{"t":{"terms":{"field":"stock","exclude":[3],"missing":0}}}`, segs)
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":0,"doc_count":2},{"key":5,"doc_count":1},{"key":7,"doc_count":1}]}}`, got)
}

func TestTermsMinDocCount(t *testing.T) {
	// Only docs 0 and 4 match: every term of the segment still shows with
	// min_doc_count 0.
	req, err := Parse([]byte(`{"t":{"terms":{"field":"tag","min_doc_count":0}},"m":{"terms":{"field":"tag","min_doc_count":2}},
		"n":{"terms":{"field":"stock","min_doc_count":0}}}`), testMapping(), Limits{})
	require.NoError(t, err)
	seg := buildSegment(shopDocs)
	c := NewCollector(req)
	c.SetSegment(seg)
	c.Collect(0)
	c.Collect(4)
	p, err := c.Partial()
	require.NoError(t, err)
	out, err := Reduce(req, [][]byte{p})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"blue","doc_count":1},{"key":"red","doc_count":1},{"key":"green","doc_count":0}]},
		"m":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[]},
		"n":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":3,"doc_count":1},{"key":7,"doc_count":1},{"key":5,"doc_count":0}]}}`, string(out))
}

func TestTermsOrderBySubAgg(t *testing.T) {
	got := reduceJSON(t, `{"t":{"terms":{"field":"tag","order":{"avg_price":"desc"}},"aggs":{"avg_price":{"avg":{"field":"price"}}}},
		"s":{"terms":{"field":"tag","order":{"st.min":"asc"}},"aggs":{"st":{"stats":{"field":"price"}}}}}`, [][]doc{shopDocs[:2]}, [][]doc{shopDocs[2:]})
	assert.JSONEq(t, `{
		"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"blue","doc_count":2,"avg_price":{"value":30.0}},
			{"key":"red","doc_count":3,"avg_price":{"value":20.0}},
			{"key":"green","doc_count":1,"avg_price":{"value":5.0}}]},
		"s":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"green","doc_count":1,"st":{"count":1,"min":5.0,"max":5.0,"avg":5.0,"sum":5.0}},
			{"key":"red","doc_count":3,"st":{"count":3,"min":10.0,"max":30.0,"avg":20.0,"sum":60.0}},
			{"key":"blue","doc_count":2,"st":{"count":1,"min":30.0,"max":30.0,"avg":30.0,"sum":30.0}}]}}`, got)
}

// TestTermsErrorBound follows Elasticsearch's documented example of
// doc_count_error_upper_bound: each shard returns its top shard_size
// terms, the error is the sum of each shard's last returned count.
func TestTermsErrorBound(t *testing.T) {
	shard := func(counts map[string]int) [][]doc {
		var docs []doc
		for k, n := range counts {
			for range n {
				docs = append(docs, doc{"tag": k})
			}
		}
		return [][]doc{docs}
	}
	a := shard(map[string]int{"P": 100, "Q": 50, "R": 45, "S": 40, "T": 1})
	b := shard(map[string]int{"P": 60, "R": 55, "Q": 40, "T": 38, "S": 1})
	c := shard(map[string]int{"P": 90, "S": 80, "Q": 70, "R": 60, "T": 1})
	m := search(t, `{"t":{"terms":{"field":"tag","size":3,"shard_size":3,"show_term_doc_count_error":true}}}`, a, b, c)
	got, _ := json.Marshal(m)
	// Shard A sends P Q R (last 45), B sends P R Q (last 40), C sends P S Q
	// (last 70). The other documents: 731 in all, less the 510 returned.
	// Per bucket, the error sums the bounds of the shards that did not
	// send it: R was not sent by C (70).
	assert.JSONEq(t, `{"t":{"doc_count_error_upper_bound":155,"sum_other_doc_count":221,"buckets":[
		{"key":"P","doc_count":250,"doc_count_error_upper_bound":0},
		{"key":"Q","doc_count":160,"doc_count_error_upper_bound":0},
		{"key":"R","doc_count":100,"doc_count_error_upper_bound":70}]}}`, string(got))
}

func TestTermsNested(t *testing.T) {
	got := reduceJSON(t, `{"b":{"terms":{"field":"brand"},"aggs":{"t":{"terms":{"field":"tag"},"aggs":{"mx":{"max":{"field":"price"}}}}}}}`,
		[][]doc{shopDocs[:2], shopDocs[2:4]}, [][]doc{shopDocs[4:]})
	assert.JSONEq(t, `{"b":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
		{"key":"acme","doc_count":2,"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"red","doc_count":2,"mx":{"value":20.0}}]}},
		{"key":"bolt","doc_count":2,"t":{"doc_count_error_upper_bound":0,"sum_other_doc_count":0,"buckets":[
			{"key":"blue","doc_count":2,"mx":{"value":30.0}},
			{"key":"red","doc_count":1,"mx":{"value":30.0}}]}}]}}`, got)
}
