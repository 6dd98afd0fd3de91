// Package engine is searchd's search engine without the daemon: a Shard is
// one shard copy (an index.Writer with its mapping and analyzers) that
// applies writes and answers the phases of a distributed search; an Index
// is a local index of one or more shards that parses and indexes JSON
// documents and answers Elasticsearch _search bodies with Elasticsearch's
// JSON response — usable as a library, and what the benchmarks compare with
// Bleve.
package engine

import (
	"context"
	"encoding/json"

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

// Index is a local, single-process index. Safe for concurrent use.
type Index struct{}

// Open opens or creates a local index in dir.
func Open(dir string, mappingsJSON []byte, s Settings) (*Index, error) {
	panic("searchd: not built yet")
}

// Put indexes a JSON document (dynamic mapping updates applied in place).
func (ix *Index) Put(id string, source []byte) error { panic("searchd: not built yet") }

// Delete deletes a document; false if absent.
func (ix *Index) Delete(id string) (bool, error) { panic("searchd: not built yet") }

// Get returns a document's source (realtime).
func (ix *Index) Get(id string) ([]byte, bool, error) { panic("searchd: not built yet") }

// Refresh makes every write searchable.
func (ix *Index) Refresh() error { panic("searchd: not built yet") }

// Search answers an Elasticsearch _search body with Elasticsearch's
// response JSON.
func (ix *Index) Search(ctx context.Context, body []byte) (json.RawMessage, error) {
	panic("searchd: not built yet")
}

// Close commits and closes the index.
func (ix *Index) Close() error { panic("searchd: not built yet") }

// Shard is one shard copy as the daemon holds it.
type Shard struct {
	W        *index.Writer
	Mapping  *mapping.Mapping
	Analysis *analysis.Registry
}

// Response renders a merged result as Elasticsearch's _search response
// (took, timed_out, _shards, hits, aggregations, suggest); indexName names
// the index of every hit.
func Response(res *query.Result, indexName func(shard int) string, tookMillis int64, shards int) json.RawMessage {
	panic("searchd: not built yet")
}
