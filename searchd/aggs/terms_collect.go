package aggs

import (
	"math"
	"slices"

	"cairn.dev/cairn/searchd/index"
)

// termsCollector counts documents per (owning bucket, key).
//
// Keyword fields are counted by segment ordinal: a top-level terms
// aggregation without sub-aggregations counts into a slice indexed by
// ordinal and turns ordinals into bytes once per segment (at the switch);
// otherwise a segment ordinal is mapped to its bucket once per segment.
// Numeric keys go through a hash map.
type termsCollector struct {
	agg  *Agg
	spec *termsSpec
	subs []collector
	// top: the aggregation is top-level, so every owner is 0.
	top bool

	// Keyword state of the current segment.
	kw        index.KeywordValues
	ordBuf    []uint32
	accept    []bool  // by ordinal; nil: every ordinal passes
	segCounts []int64 // top, no subs: counts by ordinal
	segBucket []int32 // top, subs: bucket by ordinal, -1 unknown
	segPair   map[uint64]int32
	strOrds   map[strKey]int32

	// Numeric state.
	ints    index.NumericValues
	floats  index.FloatValues
	intBuf  []int64
	fltBuf  []float64
	numOrds map[numKey]int32

	// Buckets, by bucket ordinal.
	owners []int32
	keys   []partialBucket // key fields only
	counts []int64

	// Every key seen in the segments, for min_doc_count 0.
	allS map[string]struct{}
	allN map[uint64]struct{}

	byOwner map[int32][]int32
}

type strKey struct {
	owner int32
	s     string
}

type numKey struct {
	owner int32
	bits  uint64
}

func newTermsCollector(a *Agg, s *termsSpec, top bool) *termsCollector {
	c := &termsCollector{agg: a, spec: s, top: top, subs: newCollectors(a.Subs)}
	if s.field.kind == kindKeyword {
		c.strOrds = map[strKey]int32{}
		if !top {
			c.segPair = map[uint64]int32{}
		}
	} else {
		c.numOrds = map[numKey]int32{}
	}
	if s.minDocCount == 0 {
		c.allS, c.allN = map[string]struct{}{}, map[uint64]struct{}{}
	}
	return c
}

func (c *termsCollector) fastPath() bool { return c.top && len(c.subs) == 0 }

func (c *termsCollector) setSegment(seg index.Segment) {
	for _, s := range c.subs {
		s.setSegment(seg)
	}
	if c.spec.field.kind != kindKeyword {
		c.ints, c.floats = nil, nil
		if c.spec.field.kind == kindFloat {
			c.floats = seg.Floats(c.spec.field.path)
		} else {
			c.ints = seg.Ints(c.spec.field.path)
		}
		if c.allN != nil {
			c.scanAllNumeric(seg)
		}
		return
	}
	c.flushSegment()
	c.kw = seg.Keywords(c.spec.field.path)
	n := 0
	if c.kw != nil {
		n = int(c.kw.Count())
	}
	c.accept = nil
	if c.spec.includeS != nil || c.spec.excludeS != nil || c.spec.includeRe != nil || c.spec.excludeRe != nil {
		c.accept = resize(c.accept, n)
		for o := range n {
			c.accept[o] = c.spec.acceptsKeyword(c.kw.Lookup(uint32(o)))
		}
	}
	if c.allS != nil {
		for o := range n {
			if c.accept == nil || c.accept[o] {
				c.allS[string(c.kw.Lookup(uint32(o)))] = struct{}{}
			}
		}
	}
	switch {
	case c.fastPath():
		c.segCounts = resize(c.segCounts, n)
	case c.top:
		c.segBucket = resize(c.segBucket, n)
		for i := range c.segBucket {
			c.segBucket[i] = -1
		}
	default:
		clear(c.segPair)
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// flushSegment adds the fast path's per-ordinal counts to the buckets.
func (c *termsCollector) flushSegment() {
	if !c.fastPath() || c.kw == nil {
		return
	}
	for o, n := range c.segCounts {
		if n > 0 {
			b := c.strBucket(0, c.kw.Lookup(uint32(o)))
			c.counts[b] += n
		}
	}
	c.segCounts = c.segCounts[:0]
}

func (c *termsCollector) scanAllNumeric(seg index.Segment) {
	for d := range seg.MaxDoc() {
		if !seg.Live(d) {
			continue
		}
		if c.floats != nil {
			c.fltBuf = c.floats.Values(d, c.fltBuf[:0])
			for _, v := range c.fltBuf {
				if bits := math.Float64bits(v); c.spec.acceptsNum(bits) {
					c.allN[bits] = struct{}{}
				}
			}
		} else if c.ints != nil {
			c.intBuf = c.ints.Values(d, c.intBuf[:0])
			for _, v := range c.intBuf {
				if c.spec.acceptsNum(uint64(v)) {
					c.allN[uint64(v)] = struct{}{}
				}
			}
		}
	}
}

func (c *termsCollector) strBucket(owner int32, k []byte) int32 {
	if b, ok := c.strOrds[strKey{owner, string(k)}]; ok {
		return b
	}
	s := string(k)
	b := c.newBucket(owner, partialBucket{S: s})
	c.strOrds[strKey{owner, s}] = b
	return b
}

func (c *termsCollector) numBucket(owner int32, bits uint64) int32 {
	k := numKey{owner, bits}
	if b, ok := c.numOrds[k]; ok {
		return b
	}
	var key partialBucket
	if c.spec.field.kind == kindFloat {
		key.N = math.Float64frombits(bits)
	} else {
		key.I = int64(bits)
	}
	b := c.newBucket(owner, key)
	c.numOrds[k] = b
	return b
}

func (c *termsCollector) newBucket(owner int32, key partialBucket) int32 {
	b := int32(len(c.counts))
	c.owners = append(c.owners, owner)
	c.keys = append(c.keys, key)
	c.counts = append(c.counts, 0)
	return b
}

func (c *termsCollector) hit(doc uint32, b int32) {
	c.counts[b]++
	for _, s := range c.subs {
		s.collect(doc, b)
	}
}

func (c *termsCollector) collect(doc uint32, owner int32) {
	switch c.spec.field.kind {
	case kindKeyword:
		c.collectKeyword(doc, owner)
	case kindFloat:
		c.collectFloat(doc, owner)
	default:
		c.collectInt(doc, owner)
	}
}

func (c *termsCollector) collectKeyword(doc uint32, owner int32) {
	if c.kw != nil {
		c.ordBuf = c.kw.Ords(doc, c.ordBuf[:0])
	} else {
		c.ordBuf = c.ordBuf[:0]
	}
	if len(c.ordBuf) == 0 {
		if c.spec.hasMissing {
			c.hit(doc, c.strBucket(owner, []byte(c.spec.missing.S)))
		}
		return
	}
	if c.fastPath() {
		for _, o := range c.ordBuf {
			if c.accept == nil || c.accept[o] {
				c.segCounts[o]++
			}
		}
		return
	}
	for _, o := range c.ordBuf {
		if c.accept != nil && !c.accept[o] {
			continue
		}
		var b int32
		if c.top {
			b = c.segBucket[o]
			if b < 0 {
				b = c.strBucket(0, c.kw.Lookup(o))
				c.segBucket[o] = b
			}
		} else {
			k := uint64(uint32(owner))<<32 | uint64(o)
			var ok bool
			if b, ok = c.segPair[k]; !ok {
				b = c.strBucket(owner, c.kw.Lookup(o))
				c.segPair[k] = b
			}
		}
		c.hit(doc, b)
	}
}

func (c *termsCollector) collectInt(doc uint32, owner int32) {
	if c.ints != nil {
		c.intBuf = c.ints.Values(doc, c.intBuf[:0])
	} else {
		c.intBuf = c.intBuf[:0]
	}
	if len(c.intBuf) == 0 {
		if c.spec.hasMissing {
			c.hit(doc, c.numBucket(owner, uint64(c.spec.missing.I)))
		}
		return
	}
	filter := c.spec.hasNumFilter()
	for i, v := range c.intBuf {
		if i > 0 && v == c.intBuf[i-1] {
			continue // sorted: a repeated value counts the document once
		}
		if filter && !c.spec.acceptsNum(uint64(v)) {
			continue
		}
		c.hit(doc, c.numBucket(owner, uint64(v)))
	}
}

func (c *termsCollector) collectFloat(doc uint32, owner int32) {
	if c.floats != nil {
		c.fltBuf = c.floats.Values(doc, c.fltBuf[:0])
	} else {
		c.fltBuf = c.fltBuf[:0]
	}
	if len(c.fltBuf) == 0 {
		if c.spec.hasMissing {
			c.hit(doc, c.numBucket(owner, math.Float64bits(c.spec.missing.N)))
		}
		return
	}
	filter := c.spec.hasNumFilter()
	for i, v := range c.fltBuf {
		if slices.Contains(c.fltBuf[:i], v) {
			continue
		}
		bits := math.Float64bits(v)
		if filter && !c.spec.acceptsNum(bits) {
			continue
		}
		c.hit(doc, c.numBucket(owner, bits))
	}
}

func (c *termsCollector) finish() {
	if c.spec.field.kind == kindKeyword {
		c.flushSegment()
	}
	c.byOwner = map[int32][]int32{}
	for b, o := range c.owners {
		c.byOwner[o] = append(c.byOwner[o], int32(b))
	}
	for _, s := range c.subs {
		s.finish()
	}
}

// build returns owner's top shard_size buckets, by the aggregation's
// order, and what Elasticsearch's reduce needs of the rest: the documents
// they hold (Other) and the shard's doc_count error bound.
func (c *termsCollector) build(owner int32, bud *budget) (partialAgg, error) {
	s := c.spec
	ords := c.byOwner[owner]
	cands := make([]partialBucket, 0, len(ords))
	bucketOf := make(map[bucketKey]int32, len(ords))
	for _, b := range ords {
		k := c.keys[b]
		k.DocCount = c.counts[b]
		cands = append(cands, k)
		bucketOf[k.key()] = b
	}
	if s.minDocCount == 0 {
		present := make(map[bucketKey]bool, len(cands))
		for i := range cands {
			present[cands[i].key()] = true
		}
		for k := range c.allS {
			if !present[bucketKey{s: k}] {
				cands = append(cands, partialBucket{S: k})
			}
		}
		for bits := range c.allN {
			var k partialBucket
			if s.field.kind == kindFloat {
				k.N = math.Float64frombits(bits)
			} else {
				k.I = int64(bits)
			}
			if !present[k.key()] {
				cands = append(cands, k)
			}
		}
	}
	// Sub-aggregations an order needs are built before the cut.
	orderSubs := map[int]bool{}
	for _, o := range s.order {
		if o.by == bySub {
			orderSubs[o.sub] = true
		}
	}
	subsOf := func(bk *partialBucket, only map[int]bool) error {
		b, ok := bucketOf[bk.key()]
		if bk.Subs == nil {
			bk.Subs = make([]partialAgg, len(c.subs))
			for k := range c.subs {
				bk.Subs[k] = emptyPartial(c.agg.Subs[k])
			}
		}
		if !ok {
			return nil
		}
		for k, sub := range c.subs {
			if only != nil && !only[k] {
				continue
			}
			if only == nil && orderSubs[k] {
				continue // built already
			}
			p, err := sub.build(b, bud)
			if err != nil {
				return err
			}
			bk.Subs[k] = p
		}
		return nil
	}
	if len(orderSubs) > 0 {
		for i := range cands {
			if err := subsOf(&cands[i], orderSubs); err != nil {
				return partialAgg{}, err
			}
		}
	}
	sortBuckets(cands, func(x, y *partialBucket) bool { return s.less(c.agg, x, y) })
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1)}
	n := len(cands)
	switch {
	case n < s.shardSize || s.keyOrder():
		p.ErrBound = 0
	case s.countDesc():
		p.ErrBound = cands[min(n, s.shardSize)-1].DocCount
	default:
		p.ErrBound = -1
	}
	if n > s.shardSize {
		for _, bk := range cands[s.shardSize:] {
			p.Other += bk.DocCount
		}
		cands = cands[:s.shardSize]
	}
	if err := bud.take(len(cands)); err != nil {
		return partialAgg{}, err
	}
	if len(c.subs) > 0 {
		for i := range cands {
			if err := subsOf(&cands[i], nil); err != nil {
				return partialAgg{}, err
			}
		}
	}
	p.Buckets = cands
	return p, nil
}
