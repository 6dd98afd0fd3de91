// Package query parses the Elasticsearch query DSL and runs it over one
// shard's index.Reader: match (operator, minimum_should_match, fuzziness),
// multi_match with field boosts, bool (must/should/must_not/filter),
// term(s), match_phrase with slop, match_phrase_prefix, prefix, fuzzy (edit
// distance 1-2 or AUTO), wildcard, range (numbers, dates with date math,
// keywords), exists, ids, match_all, match_none, constant_score, dis_max;
// BM25 scoring with global statistics and top-k pruning (MaxScore); sort by
// score or fields, from/size and search_after; highlighting; "did you mean"
// (term suggester) and completion suggestions.
//
// Use: Parse a body once; on each shard CollectStats (the DFS phase), sum
// the shards' Stats with Add, Execute with the sum; Merge the shard results.
// A Request is immutable after Parse and may be executed on many shards
// concurrently.
//
// Where it departs from Elasticsearch: multi_match cross_fields is scored
// as most_fields; fuzzy edits, wildcard "?" and highlight fragment sizes
// count bytes, not characters (terms are ASCII-folded by the default
// analyzers); a filtered _source is re-encoded with its keys sorted;
// synonyms of one position are alternatives of that position (multi-word
// synonyms are not turned into phrases); highlighting marks every
// occurrence of a matched term (a phrase's terms are not checked position
// by position).
package query

import (
	"cairn.dev/cairn/searchd/aggs"
)

// Limits bound what a query may cost; exceeding one is an error naming it.
type Limits struct {
	// MaxClauses caps the clauses of a query after expansion (fuzzy, prefix
	// and wildcard terms count), default 1024 (indices.query.bool.max_clause_count).
	MaxClauses int
	// MaxExpansions caps the terms one fuzzy or prefix query expands to
	// (default 50, as Elasticsearch's max_expansions).
	MaxExpansions int
	// MaxResultWindow caps from+size (default 10000).
	MaxResultWindow int
	Aggs            aggs.Limits
}

// Settings are the index settings that change scoring.
type Settings struct {
	// K1 and B are BM25's parameters (defaults 1.2 and 0.75).
	K1, B float64
}

// Request is a parsed _search body.
type Request struct {
	// From and Size page the hits (defaults 0 and 10).
	From, Size int
	// Aggs is nil when the body asked for none.
	Aggs *aggs.Request
	// TrackTotalHits: count exactly up to this many hits (default 10000;
	// -1 for all: "true"; 0 for none: "false", the response then has no
	// total).
	TrackTotalHits int
	// parsed query, sort, search_after, highlight, _source filter, suggest
	// and min_score are internal.
	spec any
}

// Stats are the statistics BM25 needs, summed over every shard so scores
// do not depend on the sharding: per field, documents with the field and
// their total tokens; per field and term, the document frequency.
type Stats struct {
	Docs   int64                       `json:"docs"`
	Fields map[string]FieldStats       `json:"fields"`
	Terms  map[string]map[string]int64 `json:"terms"`
}

// FieldStats are one field's totals.
type FieldStats struct {
	DocCount         int64 `json:"doc_count"`
	SumTotalTermFreq int64 `json:"sum_ttf"`
}

// Hit is one shard's hit.
type Hit struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	// Sort holds the hit's sort values when the request sorts by fields.
	Sort []any `json:"sort,omitempty"`
	// Source is filtered by the request's _source option.
	Source    []byte              `json:"source,omitempty"`
	Highlight map[string][]string `json:"highlight,omitempty"`
}

// ShardResult is one shard's answer: its top from+size hits in order, the
// total it counted, partial aggregations and suggestions.
type ShardResult struct {
	Total         int64   `json:"total"`
	TotalRelation string  `json:"total_relation"`
	MaxScore      float64 `json:"max_score"`
	Hits          []Hit   `json:"hits"`
	Aggs          []byte  `json:"aggs,omitempty"`
	Suggest       []byte  `json:"suggest,omitempty"`
}

// Result is the merged answer of every shard, in Elasticsearch's shape.
type Result struct {
	Total         int64
	TotalRelation string
	MaxScore      float64
	// Hits are the merged page; Shard is the index of the ShardResult each
	// came from.
	Hits []MergedHit
	// Aggregations and Suggest are Elasticsearch's JSON objects (nil when
	// not asked).
	Aggregations []byte
	Suggest      []byte
}

// MergedHit is a hit of the merged page.
type MergedHit struct {
	Hit
	Shard int
}

// Suggestion is a completion of a typed prefix.
type Suggestion struct {
	Text    string
	DocFreq int64
	Edits   int
}
