// Package aggs computes Elasticsearch aggregations (the facets of a search
// page) over the documents a query matches: terms, range, histogram,
// date_histogram, min, max, avg, sum, value_count, cardinality (HyperLogLog++)
// and their sub-aggregations. Each shard collects a Partial from doc values;
// the coordinating node reduces the partials of every shard into the
// response's "aggregations" object.
package aggs

import (
	"encoding/json"

	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// Request is a parsed "aggs" (or "aggregations") object.
type Request struct {
	// Aggs are the named top-level aggregations.
	Aggs []*Agg
}

// Agg is one named aggregation (its parsed parameters are internal).
type Agg struct {
	Name string
	Type string
	Subs []*Agg
	spec any
}

// Limits bound what an aggregation may cost.
type Limits struct {
	// MaxBuckets caps the buckets of one response (default 10000, as
	// Elasticsearch's search.max_buckets); more is an error naming it.
	MaxBuckets int
}

// Parse parses an aggs object against the mapping (fields must exist and
// have doc values). Errors name the aggregation and the parameter.
func Parse(aggsJSON []byte, m *mapping.Mapping, limits Limits) (*Request, error) {
	panic("searchd: not built yet")
}

// Collector gathers one shard's partial aggregations. Not safe for
// concurrent use.
type Collector struct{}

// NewCollector returns a collector for req.
func NewCollector(req *Request) *Collector { panic("searchd: not built yet") }

// SetSegment switches the collector to a segment before its documents.
func (c *Collector) SetSegment(seg index.Segment) { panic("searchd: not built yet") }

// Collect adds a matching document of the current segment.
func (c *Collector) Collect(doc uint32) { panic("searchd: not built yet") }

// Partial returns the shard's partial result, encoded for the wire.
func (c *Collector) Partial() ([]byte, error) { panic("searchd: not built yet") }

// Reduce merges the partials of every shard into Elasticsearch's
// "aggregations" object.
func Reduce(req *Request, partials [][]byte) (json.RawMessage, error) {
	panic("searchd: not built yet")
}
