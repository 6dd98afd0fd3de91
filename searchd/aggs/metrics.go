package aggs

import (
	"math"

	"cairn.dev/cairn/searchd/index"
)

// metricSpec is min, max, avg, sum, value_count or stats.
type metricSpec struct {
	typ     string
	field   fieldRef
	missing *float64
}

func parseMetric(p *parser, where string, params []member) (any, error) {
	typ := where[lastSpace(where)+1:]
	s := &metricSpec{typ: typ}
	var missingRaw []byte
	for _, m := range params {
		switch m.key {
		case "field":
			f, err := paramString(where, m.key, m.val)
			if err != nil {
				return nil, err
			}
			if s.field, err = p.resolveField(where, f); err != nil {
				return nil, err
			}
		case "missing":
			missingRaw = m.val
		case "format":
		default:
			return nil, unknownParam(where, m.key)
		}
	}
	if s.field.path == "" {
		return nil, perr(where, "required parameter [field] is missing")
	}
	if !s.field.numeric() && typ != "value_count" {
		return nil, perr(where, "field [%s] of type [keyword] is not supported for aggregation [%s]: it needs a numeric, date or boolean field", s.field.path, typ)
	}
	if missingRaw != nil {
		// A keyword's missing value only counts (value_count); its text
		// does not matter.
		v := 0.0
		if s.field.numeric() {
			var err error
			if v, err = parseBound(where, "missing", missingRaw, s.field); err != nil {
				return nil, err
			}
		}
		s.missing = &v
	}
	return s, nil
}

func lastSpace(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return i
		}
	}
	return -1
}

// metricCollector accumulates count, sum, min and max per owning bucket.
type metricCollector struct {
	spec *metricSpec
	src  numSource
	// kw counts a keyword field's values (value_count only).
	kw     index.KeywordValues
	ordBuf []uint32

	count    []int64
	sum      []float64
	min, max []float64
}

func newMetricCollector(s *metricSpec) *metricCollector {
	return &metricCollector{spec: s, src: numSource{field: s.field, missing: s.missing}}
}

func (c *metricCollector) setSegment(seg index.Segment) {
	if c.spec.field.kind == kindKeyword {
		c.kw = seg.Keywords(c.spec.field.path)
		return
	}
	c.src.setSegment(seg)
}

func (c *metricCollector) grow(owner int32) {
	for int(owner) >= len(c.count) {
		c.count = append(c.count, 0)
		c.sum = append(c.sum, 0)
		c.min = append(c.min, math.Inf(1))
		c.max = append(c.max, math.Inf(-1))
	}
}

func (c *metricCollector) collect(doc uint32, owner int32) {
	if c.spec.field.kind == kindKeyword {
		var n int64
		if c.kw != nil {
			c.ordBuf = c.kw.Ords(doc, c.ordBuf[:0])
			n = int64(len(c.ordBuf))
		}
		if n == 0 && c.spec.missing != nil {
			n = 1
		}
		if n > 0 {
			c.grow(owner)
			c.count[owner] += n
		}
		return
	}
	vals := c.src.float64s(doc)
	if len(vals) == 0 {
		return
	}
	c.grow(owner)
	sum, lo, hi := c.sum[owner], c.min[owner], c.max[owner]
	for _, v := range vals {
		sum += v
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
	}
	c.count[owner] += int64(len(vals))
	c.sum[owner], c.min[owner], c.max[owner] = sum, lo, hi
}

func (c *metricCollector) finish() {}

func (c *metricCollector) build(owner int32, _ *budget) (partialAgg, error) {
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1)}
	if int(owner) < len(c.count) {
		p.Count, p.Sum, p.Min, p.Max = c.count[owner], c.sum[owner], c.min[owner], c.max[owner]
	}
	return p, nil
}

// cardSpec is cardinality.
type cardSpec struct {
	field    fieldRef
	missing  *float64
	missingS *string
	// missingHash is the hash of missingS.
	missingHash uint64
	threshold   int
	precision   uint8
}

func parseCardinality(p *parser, where string, params []member) (any, error) {
	s := &cardSpec{threshold: 3000}
	var missingRaw []byte
	for _, m := range params {
		switch m.key {
		case "field":
			f, err := paramString(where, m.key, m.val)
			if err != nil {
				return nil, err
			}
			if s.field, err = p.resolveField(where, f); err != nil {
				return nil, err
			}
		case "precision_threshold":
			v, err := paramInt(where, m.key, m.val, 0)
			if err != nil {
				return nil, err
			}
			s.threshold = int(min(v, maxThreshold))
		case "missing":
			missingRaw = m.val
		case "rehash":
		default:
			return nil, unknownParam(where, m.key)
		}
	}
	if s.field.path == "" {
		return nil, perr(where, "required parameter [field] is missing")
	}
	if missingRaw != nil {
		if s.field.kind == kindKeyword {
			v, err := paramString(where, "missing", missingRaw)
			if err != nil {
				return nil, err
			}
			s.missingS = &v
			s.missingHash = keywordHash([]byte(v))
		} else {
			v, err := parseBound(where, "missing", missingRaw, s.field)
			if err != nil {
				return nil, err
			}
			s.missing = &v
		}
	}
	s.precision = precisionFor(s.threshold)
	return s, nil
}

// cardCollector feeds value hashes into one sketch per owning bucket.
// Keyword hashes are computed once per segment ordinal.
type cardCollector struct {
	spec *cardSpec
	src  numSource

	kw      index.KeywordValues
	ordBuf  []uint32
	segHash []uint64 // by segment ordinal; 0: not computed yet

	sketches []*sketch
}

func newCardCollector(s *cardSpec) *cardCollector {
	return &cardCollector{spec: s, src: numSource{field: s.field, missing: s.missing}}
}

func (c *cardCollector) setSegment(seg index.Segment) {
	if c.spec.field.kind != kindKeyword {
		c.src.setSegment(seg)
		return
	}
	c.kw = seg.Keywords(c.spec.field.path)
	c.segHash = c.segHash[:0]
	if c.kw != nil {
		n := int(c.kw.Count())
		if cap(c.segHash) < n {
			c.segHash = make([]uint64, n)
		} else {
			c.segHash = c.segHash[:n]
			clear(c.segHash)
		}
	}
}

func (c *cardCollector) sketch(owner int32) *sketch {
	for int(owner) >= len(c.sketches) {
		c.sketches = append(c.sketches, nil)
	}
	s := c.sketches[owner]
	if s == nil {
		s = newSketch(c.spec.precision, c.spec.threshold)
		c.sketches[owner] = s
	}
	return s
}

func (c *cardCollector) collect(doc uint32, owner int32) {
	if c.spec.field.kind == kindKeyword {
		if c.kw != nil {
			c.ordBuf = c.kw.Ords(doc, c.ordBuf[:0])
		} else {
			c.ordBuf = c.ordBuf[:0]
		}
		if len(c.ordBuf) == 0 {
			if c.spec.missingS != nil {
				c.sketch(owner).add(c.spec.missingHash)
			}
			return
		}
		s := c.sketch(owner)
		for _, o := range c.ordBuf {
			h := c.segHash[o]
			if h == 0 {
				h = keywordHash(c.kw.Lookup(o))
				c.segHash[o] = h
			}
			s.add(h)
		}
		return
	}
	vals := c.src.float64s(doc)
	if len(vals) == 0 {
		return
	}
	s := c.sketch(owner)
	for _, v := range vals {
		s.add(hashUint64(math.Float64bits(v)))
	}
}

func (c *cardCollector) finish() {}

func (c *cardCollector) build(owner int32, _ *budget) (partialAgg, error) {
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1)}
	if int(owner) < len(c.sketches) && c.sketches[owner] != nil {
		p.Card = c.sketches[owner]
	} else {
		p.Card = newSketch(c.spec.precision, c.spec.threshold)
	}
	return p, nil
}
