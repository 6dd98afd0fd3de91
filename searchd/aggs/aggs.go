// Package aggs computes Elasticsearch aggregations (the facets of a search
// page) over the documents a query matches: terms, range, date_range,
// histogram, date_histogram, min, max, avg, sum, value_count, stats,
// cardinality (HyperLogLog++) and their sub-aggregations. Each shard
// collects a Partial from doc values; the coordinating node reduces the
// partials of every shard into the response's "aggregations" object.
//
// Request and response shapes are Elasticsearch 8's, with these
// differences: dates are epoch milliseconds in UTC and time_zone accepts
// UTC only; a terms aggregation's default shard_size is size*1.5+10 even
// on a one-shard index (the result of one shard is still exact, its
// doc_count_error_upper_bound 0); include/exclude take value lists or a
// regular expression (Go's RE2 syntax, matching the whole term), not
// partitions; date formats are the common built-in names and patterns of
// the letters y u M d H m s S; a field the mapping does not have is an
// error, not an empty result.
//
// Use: Parse once per search; on each shard, NewCollector, then for every
// segment SetSegment followed by Collect of its live matching documents in
// any order, then Partial; on the coordinating node, Reduce the partials.
package aggs

import (
	"encoding/json"
	"errors"

	"cairn.dev/cairn/searchd/index"
)

// Errors of the package. Parse errors wrap ErrParse and name the
// aggregation's path (outer>inner) and the parameter; exceeding
// Limits.MaxBuckets wraps ErrTooManyBuckets; a partial that does not decode
// wraps ErrPartial.
var (
	ErrParse          = errors.New("aggs: parse error")
	ErrTooManyBuckets = errors.New("aggs: too many buckets")
	ErrPartial        = errors.New("aggs: bad partial")
)

// Defaults of Limits.
const (
	DefaultMaxBuckets = 10000
	DefaultMaxDepth   = 10
)

// Request is a parsed "aggs" (or "aggregations") object.
type Request struct {
	// Aggs are the named top-level aggregations, in request order.
	Aggs []*Agg
	// limits are the Limits Parse was given, defaults applied.
	limits Limits
}

// Agg is one named aggregation (its parsed parameters are internal).
type Agg struct {
	Name string
	Type string
	Subs []*Agg
	spec any
	// path is the aggregation's path for error messages ("by_tag>avg").
	path string
}

// Limits bound what an aggregation may cost.
type Limits struct {
	// MaxBuckets caps the buckets of one response (default 10000, as
	// Elasticsearch's search.max_buckets); more is an error naming it.
	MaxBuckets int
	// MaxDepth caps the nesting of sub-aggregations (default 10; a
	// top-level aggregation is at depth 1).
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBuckets <= 0 {
		l.MaxBuckets = DefaultMaxBuckets
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Collector gathers one shard's partial aggregations. Not safe for
// concurrent use.
type Collector struct {
	req  *Request
	tops []collector
	seg  bool
}

// NewCollector returns a collector for req.
func NewCollector(req *Request) *Collector {
	c := &Collector{req: req}
	for _, a := range req.Aggs {
		c.tops = append(c.tops, newCollector(a))
	}
	return c
}

// SetSegment switches the collector to a segment before its documents.
func (c *Collector) SetSegment(seg index.Segment) {
	c.seg = true
	for _, t := range c.tops {
		t.setSegment(seg)
	}
}

// Collect adds a matching document of the current segment. Collect
// before any SetSegment is ignored.
func (c *Collector) Collect(doc uint32) {
	if !c.seg {
		return
	}
	for _, t := range c.tops {
		t.collect(doc, 0)
	}
}

// Partial returns the shard's partial result, encoded for the wire. It
// fails with ErrTooManyBuckets when the shard's buckets exceed the limit.
// The collector may not be used after Partial.
func (c *Collector) Partial() ([]byte, error) {
	b := newBudget(c.req.limits.withDefaults().MaxBuckets)
	parts := make([]partialAgg, len(c.tops))
	for i, t := range c.tops {
		t.finish()
		p, err := t.build(0, b)
		if err != nil {
			return nil, err
		}
		parts[i] = p
	}
	return encodePartial(parts)
}

// Reduce merges the partials of every shard into Elasticsearch's
// "aggregations" object. A nil or empty partial stands for a shard that
// collected nothing.
func Reduce(req *Request, partials [][]byte) (json.RawMessage, error) {
	merged := make([]partialAgg, len(req.Aggs))
	for i, a := range req.Aggs {
		merged[i] = emptyPartial(a)
	}
	shards := 0
	for _, raw := range partials {
		if len(raw) == 0 {
			continue
		}
		parts, err := decodePartial(raw)
		if err != nil {
			return nil, err
		}
		if len(parts) != len(req.Aggs) {
			return nil, errors.Join(ErrPartial, errors.New("aggs: partial has the wrong number of aggregations"))
		}
		for i, a := range req.Aggs {
			if shards == 0 {
				merged[i] = parts[i]
				continue
			}
			mergePartial(a, &merged[i], &parts[i])
		}
		shards++
	}
	b := newBudget(req.limits.withDefaults().MaxBuckets)
	w := &jsonWriter{}
	w.b = append(w.b, '{')
	for i, a := range req.Aggs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(a.Name)
		w.b = append(w.b, ':')
		if err := render(w, a, &merged[i], shards == 1, b); err != nil {
			return nil, err
		}
	}
	w.b = append(w.b, '}')
	return json.RawMessage(w.b), nil
}
