package aggs

import "cairn.dev/cairn/searchd/index"

// collector collects one aggregation on one shard. Documents arrive with
// the ordinal of the bucket that owns them (0 at the top level): a
// sub-aggregation keeps its state per owner, so one collector serves every
// bucket of its parent.
type collector interface {
	setSegment(seg index.Segment)
	collect(doc uint32, owner int32)
	// finish runs once after the last document.
	finish()
	// build returns owner's partial result (after finish).
	build(owner int32, b *budget) (partialAgg, error)
}

func newCollector(a *Agg) collector { return newCollectorAt(a, true) }

func newCollectors(aggs []*Agg) []collector {
	out := make([]collector, len(aggs))
	for i, a := range aggs {
		out[i] = newCollectorAt(a, false)
	}
	return out
}

func newCollectorAt(a *Agg, top bool) collector {
	switch s := a.spec.(type) {
	case *termsSpec:
		return newTermsCollector(a, s, top)
	case *rangeSpec:
		return newRangeCollector(a, s)
	case *histSpec:
		return newHistCollector(a, s)
	case *metricSpec:
		return newMetricCollector(s)
	case *cardSpec:
		return newCardCollector(s)
	}
	// Parse builds every Agg; an Agg made by hand has no spec.
	return nopCollector{}
}

// nopCollector stands for an aggregation without a parsed spec.
type nopCollector struct{}

func (nopCollector) setSegment(index.Segment) {}
func (nopCollector) collect(uint32, int32)    {}
func (nopCollector) finish()                  {}
func (nopCollector) build(int32, *budget) (partialAgg, error) {
	return partialAgg{}, nil
}
