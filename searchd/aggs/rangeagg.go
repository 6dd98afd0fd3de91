package aggs

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"cairn.dev/cairn/searchd/index"
)

// rangeSpec is range or date_range: buckets [from, to).
type rangeSpec struct {
	field  fieldRef
	ranges []rangeDef
	keyed  bool
	date   bool
	// format renders date bounds (date_range).
	format  *dateFormat
	missing *float64
}

type rangeDef struct {
	key      string
	from, to float64 // -Inf / +Inf when open
}

func parseRange(p *parser, where string, params []member) (any, error) {
	return parseRangeSpec(p, where, params, false)
}

func parseDateRange(p *parser, where string, params []member) (any, error) {
	return parseRangeSpec(p, where, params, true)
}

func parseRangeSpec(p *parser, where string, params []member, date bool) (any, error) {
	s := &rangeSpec{date: date}
	var rangesRaw, missingRaw json.RawMessage
	var format string
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
		case "ranges":
			rangesRaw = m.val
		case "keyed":
			v, err := paramBool(where, m.key, m.val)
			if err != nil {
				return nil, err
			}
			s.keyed = v
		case "format":
			if !date {
				return nil, unknownParam(where, m.key)
			}
			v, err := paramString(where, m.key, m.val)
			if err != nil {
				return nil, err
			}
			format = v
		case "missing":
			missingRaw = m.val
		case "time_zone":
			if err := checkUTC(where, m.val); err != nil {
				return nil, err
			}
		default:
			return nil, unknownParam(where, m.key)
		}
	}
	if s.field.path == "" {
		return nil, perr(where, "required parameter [field] is missing")
	}
	if !s.field.numeric() {
		return nil, perr(where, "field [%s] is a keyword field; range needs a numeric or date field", s.field.path)
	}
	if date && s.field.kind != kindDate {
		return nil, perr(where, "field [%s] is not a date field; use range", s.field.path)
	}
	if date || s.field.kind == kindDate {
		s.date = true
		s.format = s.field.format
		if format != "" {
			df, err := parseDateFormat(format)
			if err != nil {
				return nil, perr(where, "parameter [format]: %v", err)
			}
			s.format = df
			s.field.format = df
		}
	}
	if rangesRaw == nil {
		return nil, perr(where, "required parameter [ranges] is missing")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rangesRaw, &list); err != nil || len(list) == 0 {
		return nil, perr(where, "parameter [ranges] must be a non-empty array of {\"from\", \"to\", \"key\"} objects")
	}
	for i, item := range list {
		ms, err := objectMembers(item)
		if err != nil {
			return nil, perr(where, "parameter [ranges][%d]: %v", i, err)
		}
		r := rangeDef{from: math.Inf(-1), to: math.Inf(1)}
		for _, m := range ms {
			switch m.key {
			case "key":
				if r.key, err = paramString(where, "ranges.key", m.val); err != nil {
					return nil, err
				}
			case "from", "to":
				if string(m.val) == "null" {
					continue
				}
				v, err := parseBound(where, "ranges."+m.key, m.val, s.field)
				if err != nil {
					return nil, err
				}
				if m.key == "from" {
					r.from = v
				} else {
					r.to = v
				}
			default:
				return nil, unknownParam(where, "ranges."+m.key)
			}
		}
		if r.key == "" {
			r.key = s.boundString(r.from, "*") + "-" + s.boundString(r.to, "*")
		}
		s.ranges = append(s.ranges, r)
	}
	// Elasticsearch answers ranges sorted by from, then to.
	sort.SliceStable(s.ranges, func(i, j int) bool {
		a, b := s.ranges[i], s.ranges[j]
		if a.from != b.from {
			return a.from < b.from
		}
		return a.to < b.to
	})
	if missingRaw != nil {
		v, err := parseBound(where, "missing", missingRaw, s.field)
		if err != nil {
			return nil, err
		}
		s.missing = &v
	}
	return s, nil
}

// boundString renders a bound for keys: a date, or a double as Java prints
// it ("100.0"); open bounds are star.
func (s *rangeSpec) boundString(v float64, star string) string {
	if math.IsInf(v, 0) {
		return star
	}
	if s.date {
		return s.format.format(int64(v))
	}
	return javaDouble(v)
}

// javaDouble prints a double as Java's Double.toString does for common
// values: integral values keep a ".0".
func javaDouble(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e7 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// parseBound reads a number; a date field also takes a date string or
// date math, a boolean field true/false.
func parseBound(where, param string, raw json.RawMessage, f fieldRef) (float64, error) {
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		v, err := n.Float64()
		if err != nil {
			return 0, perr(where, "parameter [%s]: bad number %s", param, describe(raw))
		}
		return v, nil
	}
	var b bool
	if f.kind == kindBool && json.Unmarshal(raw, &b) == nil {
		if b {
			return 1, nil
		}
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, perr(where, "parameter [%s] must be a number, found %s", param, describe(raw))
	}
	switch f.kind {
	case kindDate:
		ms, err := parseDateMath(s, f.format, time.Now())
		if err != nil {
			return 0, perr(where, "parameter [%s]: %v", param, err)
		}
		return float64(ms), nil
	case kindBool:
		switch s {
		case "true":
			return 1, nil
		case "false":
			return 0, nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, perr(where, "parameter [%s] must be a number, found %s", param, describe(raw))
	}
	return v, nil
}

func checkUTC(where string, raw json.RawMessage) error {
	var tz string
	if json.Unmarshal(raw, &tz) != nil {
		return perr(where, "parameter [time_zone] must be a string")
	}
	switch tz {
	case "UTC", "Z", "+00:00", "-00:00", "Etc/UTC", "GMT", "+0000":
		return nil
	}
	return perr(where, "parameter [time_zone]: only UTC is supported, found [%s]", tz)
}

// rangeCollector counts documents per (owner, range): bucket ordinal
// owner*len(ranges)+i.
type rangeCollector struct {
	agg    *Agg
	spec   *rangeSpec
	subs   []collector
	src    numSource
	counts []int64
}

func newRangeCollector(a *Agg, s *rangeSpec) *rangeCollector {
	return &rangeCollector{agg: a, spec: s, subs: newCollectors(a.Subs), src: numSource{field: s.field, missing: s.missing}}
}

func (c *rangeCollector) setSegment(seg index.Segment) {
	c.src.setSegment(seg)
	for _, s := range c.subs {
		s.setSegment(seg)
	}
}

func (c *rangeCollector) collect(doc uint32, owner int32) {
	vals := c.src.float64s(doc)
	if len(vals) == 0 {
		return
	}
	n := len(c.spec.ranges)
	base := int(owner) * n
	for base+n > len(c.counts) {
		c.counts = append(c.counts, 0)
	}
	for i, r := range c.spec.ranges {
		for _, v := range vals {
			if v >= r.from && v < r.to {
				b := int32(base + i)
				c.counts[b]++
				for _, s := range c.subs {
					s.collect(doc, b)
				}
				break
			}
		}
	}
}

func (c *rangeCollector) finish() {
	for _, s := range c.subs {
		s.finish()
	}
}

func (c *rangeCollector) build(owner int32, bud *budget) (partialAgg, error) {
	n := len(c.spec.ranges)
	if err := bud.take(n); err != nil {
		return partialAgg{}, err
	}
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1), Buckets: make([]partialBucket, n)}
	for i := range n {
		b := int32(int(owner)*n + i)
		bk := &p.Buckets[i]
		bk.I = int64(i)
		if int(b) < len(c.counts) {
			bk.DocCount = c.counts[b]
		}
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

func renderRange(w *jsonWriter, a *Agg, s *rangeSpec, p *partialAgg, singleShard bool, bud *budget) error {
	if err := bud.take(len(s.ranges)); err != nil {
		return err
	}
	byIndex := make(map[int64]*partialBucket, len(p.Buckets))
	for i := range p.Buckets {
		byIndex[p.Buckets[i].I] = &p.Buckets[i]
	}
	if s.keyed {
		w.raw(`{"buckets":{`)
	} else {
		w.raw(`{"buckets":[`)
	}
	for i, r := range s.ranges {
		bk := byIndex[int64(i)]
		if bk == nil {
			bk = &partialBucket{I: int64(i)}
		}
		if i > 0 {
			w.raw(",")
		}
		if s.keyed {
			w.str(r.key)
			w.raw(`:{`)
		} else {
			w.raw(`{"key":`)
			w.str(r.key)
			w.raw(",")
		}
		if !math.IsInf(r.from, 0) {
			w.raw(`"from":`)
			w.float(r.from)
			w.raw(",")
			if s.date {
				w.raw(`"from_as_string":`)
				w.str(s.format.format(int64(r.from)))
				w.raw(",")
			}
		}
		if !math.IsInf(r.to, 0) {
			w.raw(`"to":`)
			w.float(r.to)
			w.raw(",")
			if s.date {
				w.raw(`"to_as_string":`)
				w.str(s.format.format(int64(r.to)))
				w.raw(",")
			}
		}
		w.raw(`"doc_count":`)
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
