// Package engine is searchd's search engine without the daemon: a Shard is
// one shard copy (an index.Writer with its mapping and analyzers) that
// applies writes and answers the phases of a distributed search; an Index
// is a local index of one or more shards that parses and indexes JSON
// documents and answers Elasticsearch _search bodies with Elasticsearch's
// JSON response — usable as a library, and what the benchmarks compare with
// Bleve.
//
// A distributed search is two phases over one copy of every shard:
// TermStats (the DFS phase) returns each shard's statistics of the query's
// terms, summed with query.Stats.Add; Search runs the query on each shard
// with the summed statistics, so scores do not depend on how documents are
// sharded; query.Merge merges the shard results and Response renders them.
package engine

import (
	"sync"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/query"
)

// Settings are an index's settings that the engine uses.
type Settings struct {
	Shards int
	Query  query.Settings
	Limits query.Limits
	// AnalysisJSON is settings.analysis.
	AnalysisJSON []byte
	// MaxDocumentBytes refuses larger sources (default 10 MiB).
	MaxDocumentBytes int
}

// Shard is one shard copy as the daemon holds it (see NewShard).
type Shard struct {
	W        *index.Writer
	Mapping  *mapping.Mapping
	Analysis *analysis.Registry
	// Query and Limits are the index's scoring settings and query limits.
	Query  query.Settings
	Limits query.Limits

	mu sync.RWMutex // guards Mapping once the shard is in use (SetMapping)
}
