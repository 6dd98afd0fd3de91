package aggs

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"cairn.dev/cairn/searchd/index"
)

// histSpec is histogram or date_histogram.
type histSpec struct {
	field fieldRef
	date  bool
	// interval is the bucket width (a fixed date interval in ms); cal a
	// calendar interval (date_histogram; interval unused then).
	interval    float64
	cal         calendarUnit
	offset      float64
	minDocCount int64
	// extMin/extMax are extended_bounds (NaN when absent).
	extMin, extMax float64
	keyed          bool
	order          termsOrder
	missing        *float64
}

func parseHistogram(p *parser, where string, params []member) (any, error) {
	return parseHistSpec(p, where, params, false)
}

func parseDateHistogram(p *parser, where string, params []member) (any, error) {
	return parseHistSpec(p, where, params, true)
}

func parseHistSpec(p *parser, where string, params []member, date bool) (any, error) {
	s := &histSpec{date: date, extMin: math.NaN(), extMax: math.NaN(), order: termsOrder{by: byKey}}
	var extRaw, missingRaw, offsetRaw, orderRaw json.RawMessage
	var format, calendar, fixed string
	for _, m := range params {
		var err error
		switch m.key {
		case "field":
			var f string
			if f, err = paramString(where, m.key, m.val); err == nil {
				s.field, err = p.resolveField(where, f)
			}
		case "interval":
			if date {
				return nil, perr(where, "parameter [interval] was removed in Elasticsearch 8: use [calendar_interval] or [fixed_interval]")
			}
			s.interval, err = paramFloat(where, m.key, m.val)
			if err == nil && !(s.interval > 0) {
				err = perr(where, "parameter [interval] must be > 0, found %s", describe(m.val))
			}
		case "calendar_interval":
			if !date {
				return nil, unknownParam(where, m.key)
			}
			calendar, err = paramString(where, m.key, m.val)
		case "fixed_interval":
			if !date {
				return nil, unknownParam(where, m.key)
			}
			fixed, err = paramString(where, m.key, m.val)
		case "offset":
			offsetRaw = m.val
		case "min_doc_count":
			s.minDocCount, err = paramInt(where, m.key, m.val, 0)
		case "extended_bounds":
			extRaw = m.val
		case "keyed":
			s.keyed, err = paramBool(where, m.key, m.val)
		case "format":
			if !date {
				return nil, unknownParam(where, m.key)
			}
			format, err = paramString(where, m.key, m.val)
		case "time_zone":
			if !date {
				return nil, unknownParam(where, m.key)
			}
			err = checkUTC(where, m.val)
		case "missing":
			missingRaw = m.val
		case "order":
			orderRaw = m.val
		default:
			return nil, unknownParam(where, m.key)
		}
		if err != nil {
			return nil, err
		}
	}
	if s.field.path == "" {
		return nil, perr(where, "required parameter [field] is missing")
	}
	if !s.field.numeric() {
		return nil, perr(where, "field [%s] is a keyword field; histograms need a numeric or date field", s.field.path)
	}
	if date {
		if s.field.kind != kindDate {
			return nil, perr(where, "field [%s] is not a date field; use histogram", s.field.path)
		}
		if format != "" {
			df, err := parseDateFormat(format)
			if err != nil {
				return nil, perr(where, "parameter [format]: %v", err)
			}
			s.field.format = df
		}
		switch {
		case calendar != "" && fixed != "":
			return nil, perr(where, "give one of [calendar_interval] and [fixed_interval], not both")
		case calendar != "":
			u, ok := calendarUnitOf(calendar)
			if !ok {
				return nil, perr(where, "parameter [calendar_interval]: [%s] is not a calendar interval (minute, hour, day, week, month, quarter, year or 1m, 1h, 1d, 1w, 1M, 1q, 1y); multiples are fixed_interval", calendar)
			}
			s.cal = u
		case fixed != "":
			ms, err := parseFixedInterval(fixed)
			if err != nil {
				return nil, perr(where, "parameter [fixed_interval]: %v", err)
			}
			s.interval = float64(ms)
		default:
			return nil, perr(where, "required parameter [calendar_interval] or [fixed_interval] is missing")
		}
	} else if s.interval == 0 {
		return nil, perr(where, "required parameter [interval] is missing")
	}
	if offsetRaw != nil {
		v, err := parseOffset(where, offsetRaw, date)
		if err != nil {
			return nil, err
		}
		s.offset = v
	}
	if extRaw != nil {
		ms, err := objectMembers(extRaw)
		if err != nil {
			return nil, perr(where, "parameter [extended_bounds]: %v", err)
		}
		for _, m := range ms {
			v, err := parseBound(where, "extended_bounds."+m.key, m.val, s.field)
			if err != nil {
				return nil, err
			}
			switch m.key {
			case "min":
				s.extMin = v
			case "max":
				s.extMax = v
			default:
				return nil, unknownParam(where, "extended_bounds."+m.key)
			}
		}
	}
	if missingRaw != nil {
		v, err := parseBound(where, "missing", missingRaw, s.field)
		if err != nil {
			return nil, err
		}
		s.missing = &v
	}
	if orderRaw != nil {
		os, err := parseOrder(where, orderRaw)
		if err != nil {
			return nil, err
		}
		if len(os) != 1 || os[0].by == bySub {
			return nil, perr(where, "parameter [order]: histograms order by one of _key or _count")
		}
		s.order = os[0]
	}
	return s, nil
}

// parseOffset reads a number, or for dates a signed fixed interval
// ("+6h", "-1d").
func parseOffset(where string, raw json.RawMessage, date bool) (float64, error) {
	var str string
	if !date || json.Unmarshal(raw, &str) != nil {
		return paramFloat(where, "offset", raw)
	}
	sign := 1.0
	switch {
	case strings.HasPrefix(str, "-"):
		sign, str = -1, str[1:]
	case strings.HasPrefix(str, "+"):
		str = str[1:]
	}
	ms, err := parseFixedInterval(str)
	if err != nil {
		return 0, perr(where, "parameter [offset]: %v", err)
	}
	return sign * float64(ms), nil
}

// key returns the start of the bucket holding v.
func (s *histSpec) key(v float64) float64 {
	if s.cal != 0 {
		return float64(s.cal.round(int64(v)-int64(s.offset))) + s.offset
	}
	if s.date {
		iv, off := int64(s.interval), int64(s.offset)
		return float64(floorDiv(int64(v)-off, iv)*iv + off)
	}
	return math.Floor((v-s.offset)/s.interval)*s.interval + s.offset
}

// next returns the key of the calendar bucket after the one at k.
func (s *histSpec) next(k float64) float64 {
	return float64(s.cal.next(int64(k)-int64(s.offset))) + s.offset
}

// step returns the j-th key after lo, k being the (j-1)-th. Fixed
// intervals multiply rather than add, so keys stay on the grid key()
// computes.
func (s *histSpec) step(lo, k float64, j int) float64 {
	if s.cal != 0 {
		return s.next(k)
	}
	base := math.Round((lo - s.offset) / s.interval)
	return (base+float64(j))*s.interval + s.offset
}

// histCollector counts documents per (owner, bucket key).
type histCollector struct {
	agg    *Agg
	spec   *histSpec
	subs   []collector
	src    numSource
	ords   map[numKey]int32
	owners []int32
	keys   []float64
	counts []int64
	docKey []float64

	byOwner map[int32][]int32
}

func newHistCollector(a *Agg, s *histSpec) *histCollector {
	return &histCollector{agg: a, spec: s, subs: newCollectors(a.Subs), src: numSource{field: s.field, missing: s.missing}, ords: map[numKey]int32{}}
}

func (c *histCollector) setSegment(seg index.Segment) {
	c.src.setSegment(seg)
	for _, s := range c.subs {
		s.setSegment(seg)
	}
}

func (c *histCollector) collect(doc uint32, owner int32) {
	vals := c.src.float64s(doc)
	c.docKey = c.docKey[:0]
	for _, v := range vals {
		k := c.spec.key(v)
		if slices.Contains(c.docKey, k) {
			continue // the document counts once per bucket
		}
		c.docKey = append(c.docKey, k)
		nk := numKey{owner, math.Float64bits(k)}
		b, ok := c.ords[nk]
		if !ok {
			b = int32(len(c.counts))
			c.ords[nk] = b
			c.owners = append(c.owners, owner)
			c.keys = append(c.keys, k)
			c.counts = append(c.counts, 0)
		}
		c.counts[b]++
		for _, s := range c.subs {
			s.collect(doc, b)
		}
	}
}

func (c *histCollector) finish() {
	c.byOwner = map[int32][]int32{}
	for b, o := range c.owners {
		c.byOwner[o] = append(c.byOwner[o], int32(b))
	}
	for _, s := range c.subs {
		s.finish()
	}
}

func (c *histCollector) build(owner int32, bud *budget) (partialAgg, error) {
	ords := c.byOwner[owner]
	if err := bud.take(len(ords)); err != nil {
		return partialAgg{}, err
	}
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1), Buckets: make([]partialBucket, len(ords))}
	for i, b := range ords {
		bk := &p.Buckets[i]
		bk.N, bk.DocCount = c.keys[b], c.counts[b]
		if len(c.subs) == 0 {
			continue
		}
		bk.Subs = make([]partialAgg, len(c.subs))
		for k, s := range c.subs {
			sp, err := s.build(b, bud)
			if err != nil {
				return partialAgg{}, err
			}
			bk.Subs[k] = sp
		}
	}
	return p, nil
}

// renderHistogram writes the buckets in key order, empty buckets filled
// between the smallest and largest key (widened by extended_bounds) when
// min_doc_count is 0.
func renderHistogram(w *jsonWriter, a *Agg, s *histSpec, p *partialAgg, singleShard bool, bud *budget) error {
	buckets := slices.Clone(p.Buckets)
	slices.SortFunc(buckets, func(x, y partialBucket) int { return cmpFloat(x.N, y.N) })
	if s.minDocCount == 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		if len(buckets) > 0 {
			lo, hi = buckets[0].N, buckets[len(buckets)-1].N
		}
		if !math.IsNaN(s.extMin) {
			lo = math.Min(lo, s.key(s.extMin))
		}
		if !math.IsNaN(s.extMax) {
			hi = math.Max(hi, s.key(s.extMax))
		}
		if lo <= hi {
			filled := make([]partialBucket, 0, len(buckets))
			i := 0
			for j, k := 1, lo; k <= hi; j, k = j+1, s.step(lo, k, j) {
				if len(filled) > bud.left {
					return bud.take(len(filled)) // fails before the gap grows further
				}
				if i < len(buckets) && buckets[i].N == k {
					filled = append(filled, buckets[i])
					i++
					continue
				}
				for i < len(buckets) && buckets[i].N < k {
					filled = append(filled, buckets[i]) // a key off the grid (mixed offsets); keep it
					i++
				}
				filled = append(filled, partialBucket{N: k})
			}
			filled = append(filled, buckets[i:]...)
			buckets = filled
		}
	} else {
		kept := buckets[:0]
		for _, bk := range buckets {
			if bk.DocCount >= s.minDocCount {
				kept = append(kept, bk)
			}
		}
		buckets = kept
	}
	if err := bud.take(len(buckets)); err != nil {
		return err
	}
	if s.order.by == byCount || s.order.desc {
		o := s.order
		sortBuckets(buckets, func(x, y *partialBucket) bool {
			c := cmpFloat(x.N, y.N)
			if o.by == byCount {
				c = cmpInt(x.DocCount, y.DocCount)
			}
			if o.desc {
				c = -c
			}
			if c == 0 {
				return x.N < y.N
			}
			return c < 0
		})
	}
	if s.keyed {
		w.raw(`{"buckets":{`)
	} else {
		w.raw(`{"buckets":[`)
	}
	for i := range buckets {
		bk := &buckets[i]
		if i > 0 {
			w.raw(",")
		}
		if s.keyed {
			if s.date {
				w.str(s.field.format.format(int64(bk.N)))
			} else {
				w.str(javaDouble(bk.N))
			}
			w.raw(":{")
		} else {
			w.raw("{")
		}
		if s.date {
			w.raw(`"key_as_string":`)
			w.str(s.field.format.format(int64(bk.N)))
			w.raw(`,"key":`)
			w.int(int64(bk.N))
		} else {
			w.raw(`"key":`)
			w.float(bk.N)
		}
		w.raw(`,"doc_count":`)
		w.int(bk.DocCount)
		if err := renderSubs(w, a, bk, singleShard, bud); err != nil {
			return err
		}
		w.raw("}")
	}
	if s.keyed {
		w.raw("}}")
	} else {
		w.raw("]}")
	}
	return nil
}
