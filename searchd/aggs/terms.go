package aggs

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
)

// termsSpec is a terms aggregation.
type termsSpec struct {
	field       fieldRef
	size        int
	shardSize   int
	minDocCount int64
	// showErr adds each bucket's doc_count_error_upper_bound.
	showErr bool
	order   []termsOrder
	// missing is the key of documents without the field (hasMissing).
	missing    partialBucket
	hasMissing bool
	// include/exclude: exact keys (bits of numeric keys), or regular
	// expressions matching a whole keyword.
	includeS, excludeS map[string]bool
	includeN, excludeN map[uint64]bool
	includeRe          *regexp.Regexp
	excludeRe          *regexp.Regexp
}

type orderBy uint8

const (
	byCount orderBy = iota + 1
	byKey
	bySub
)

// termsOrder is one criterion of "order".
type termsOrder struct {
	by   orderBy
	desc bool
	// path is the sub-aggregation path ("avg_price", "price_stats.max")
	// and sub / metric its resolution (bySub).
	path   string
	sub    int
	metric string
}

func parseTerms(p *parser, where string, params []member) (any, error) {
	s := &termsSpec{size: 10, shardSize: -1, minDocCount: 1}
	var missingRaw, includeRaw, excludeRaw, orderRaw json.RawMessage
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
		case "size":
			v, err := paramInt(where, m.key, m.val, 1)
			if err != nil {
				return nil, err
			}
			s.size = int(min(v, math.MaxInt32))
		case "shard_size":
			v, err := paramInt(where, m.key, m.val, 1)
			if err != nil {
				return nil, err
			}
			s.shardSize = int(min(v, math.MaxInt32))
		case "min_doc_count":
			v, err := paramInt(where, m.key, m.val, 0)
			if err != nil {
				return nil, err
			}
			s.minDocCount = v
		case "show_term_doc_count_error":
			v, err := paramBool(where, m.key, m.val)
			if err != nil {
				return nil, err
			}
			s.showErr = v
		case "shard_min_doc_count", "execution_hint", "collect_mode", "format", "value_type":
			// Hints and settings that change nothing here.
		case "missing":
			missingRaw = m.val
		case "include":
			includeRaw = m.val
		case "exclude":
			excludeRaw = m.val
		case "order":
			orderRaw = m.val
		default:
			return nil, unknownParam(where, m.key)
		}
	}
	if s.field.path == "" {
		return nil, perr(where, "required parameter [field] is missing")
	}
	if s.shardSize < 0 {
		s.shardSize = s.size + s.size/2 + 10
	}
	s.shardSize = max(s.shardSize, s.size)
	if missingRaw != nil {
		k, err := termKeyOf(where, "missing", missingRaw, s.field)
		if err != nil {
			return nil, err
		}
		s.missing, s.hasMissing = k, true
	}
	var err error
	if includeRaw != nil {
		if s.includeS, s.includeN, s.includeRe, err = parseIncludeExclude(where, "include", includeRaw, s.field); err != nil {
			return nil, err
		}
	}
	if excludeRaw != nil {
		if s.excludeS, s.excludeN, s.excludeRe, err = parseIncludeExclude(where, "exclude", excludeRaw, s.field); err != nil {
			return nil, err
		}
	}
	if s.order, err = parseOrder(where, orderRaw); err != nil {
		return nil, err
	}
	return s, nil
}

// termKeyOf reads a key of the field's kind (for missing, include and
// exclude).
func termKeyOf(where, param string, raw json.RawMessage, f fieldRef) (partialBucket, error) {
	switch f.kind {
	case kindKeyword:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			// Numbers and booleans are keywords too.
			var v any
			if json.Unmarshal(raw, &v) != nil {
				return partialBucket{}, perr(where, "parameter [%s] must be a string, found %s", param, describe(raw))
			}
			s = strings.TrimSpace(string(raw))
		}
		return partialBucket{S: s}, nil
	case kindFloat:
		v, err := parseBound(where, param, raw, f)
		return partialBucket{N: v}, err
	default:
		v, err := parseBound(where, param, raw, f)
		return partialBucket{I: int64(v)}, err
	}
}

func parseIncludeExclude(where, param string, raw json.RawMessage, f fieldRef) (map[string]bool, map[uint64]bool, *regexp.Regexp, error) {
	var pattern string
	if json.Unmarshal(raw, &pattern) == nil {
		if f.kind != kindKeyword {
			return nil, nil, nil, perr(where, "parameter [%s]: a regular expression applies to keyword fields only; [%s] is numeric, give an array of values", param, f.path)
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return nil, nil, nil, perr(where, "parameter [%s]: bad regular expression: %v", param, err)
		}
		return nil, nil, re, nil
	}
	var vals []json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, nil, nil, perr(where, "parameter [%s] must be an array of values or a regular expression, found %s", param, describe(raw))
	}
	strs, nums := map[string]bool{}, map[uint64]bool{}
	for _, v := range vals {
		k, err := termKeyOf(where, param, v, f)
		if err != nil {
			return nil, nil, nil, err
		}
		switch f.kind {
		case kindKeyword:
			strs[k.S] = true
		case kindFloat:
			nums[math.Float64bits(k.N)] = true
		default:
			nums[uint64(k.I)] = true
		}
	}
	return strs, nums, nil, nil
}

func parseOrder(where string, raw json.RawMessage) ([]termsOrder, error) {
	if raw == nil {
		return []termsOrder{{by: byCount, desc: true}}, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	var out []termsOrder
	for _, item := range list {
		ms, err := objectMembers(item)
		if err != nil || len(ms) != 1 {
			return nil, perr(where, "parameter [order] must be an object like {\"_count\": \"desc\"} or an array of them, found %s", describe(item))
		}
		var dir string
		if json.Unmarshal(ms[0].val, &dir) != nil || (dir != "asc" && dir != "desc") {
			return nil, perr(where, "parameter [order]: direction of [%s] must be \"asc\" or \"desc\", found %s", ms[0].key, describe(ms[0].val))
		}
		o := termsOrder{desc: dir == "desc", path: ms[0].key}
		switch ms[0].key {
		case "_count":
			o.by = byCount
		case "_key", "_term":
			o.by = byKey
		default:
			o.by = bySub
		}
		out = append(out, o)
	}
	return out, nil
}

// resolveOrder binds sub-aggregation orders to a's metric sub-aggregations.
func (s *termsSpec) resolveOrder(a *Agg) error {
	where := a.path + " terms"
	for i := range s.order {
		o := &s.order[i]
		if o.by != bySub {
			continue
		}
		name, metric, _ := strings.Cut(o.path, ".")
		o.sub = -1
		for k, sub := range a.Subs {
			if sub.Name == name {
				o.sub = k
			}
		}
		if o.sub < 0 {
			return perr(where, "parameter [order]: no sub-aggregation [%s] to order by (order by _count, _key or a metric sub-aggregation)", name)
		}
		sub := a.Subs[o.sub]
		switch sub.Type {
		case "stats":
			switch metric {
			case "min", "max", "avg", "sum", "count":
			default:
				return perr(where, "parameter [order]: [%s] is a stats aggregation: order by [%s.min], .max, .avg, .sum or .count", name, name)
			}
		case "min", "max", "avg", "sum", "value_count", "cardinality":
			if metric != "" && metric != "value" {
				return perr(where, "parameter [order]: [%s] is a single-value metric, it has no [%s]", name, metric)
			}
			metric = "value"
		default:
			return perr(where, "parameter [order]: [%s] is a [%s] aggregation; order by a metric sub-aggregation", name, sub.Type)
		}
		o.metric = metric
	}
	return nil
}

// keyOrder reports whether the primary order is by key.
func (s *termsSpec) keyOrder() bool { return s.order[0].by == byKey }

func (s *termsSpec) countDesc() bool { return s.order[0].by == byCount && s.order[0].desc }

// compareKeys orders two bucket keys of the field's kind, ascending.
func (s *termsSpec) compareKeys(a, b *partialBucket) int {
	switch s.field.kind {
	case kindKeyword:
		return strings.Compare(a.S, b.S)
	case kindFloat:
		switch {
		case a.N < b.N:
			return -1
		case a.N > b.N:
			return 1
		}
		return 0
	}
	switch {
	case a.I < b.I:
		return -1
	case a.I > b.I:
		return 1
	}
	return 0
}

// less orders buckets by the aggregation's order, then by key ascending.
// Sub-aggregation values come from the buckets' Subs; a bucket without a
// value (an empty avg) sorts last either way.
func (s *termsSpec) less(a *Agg, x, y *partialBucket) bool {
	for _, o := range s.order {
		var c int
		switch o.by {
		case byCount:
			c = cmpInt(x.DocCount, y.DocCount)
		case byKey:
			c = s.compareKeys(x, y)
		case bySub:
			sub := a.Subs[o.sub]
			xv := metricValue(sub, subPartial(x, a, o.sub), o.metric)
			yv := metricValue(sub, subPartial(y, a, o.sub), o.metric)
			xn, yn := math.IsNaN(xv), math.IsNaN(yv)
			switch {
			case xn && yn:
				c = 0
			case xn:
				return false
			case yn:
				return true
			default:
				c = cmpFloat(xv, yv)
			}
		}
		if o.desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	return s.compareKeys(x, y) < 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// accepts applies include/exclude to a key.
func (s *termsSpec) acceptsKeyword(k []byte) bool {
	if s.includeS != nil && !s.includeS[string(k)] {
		return false
	}
	if s.excludeS != nil && s.excludeS[string(k)] {
		return false
	}
	if s.includeRe != nil && !s.includeRe.Match(k) {
		return false
	}
	if s.excludeRe != nil && s.excludeRe.Match(k) {
		return false
	}
	return true
}

func (s *termsSpec) hasNumFilter() bool { return s.includeN != nil || s.excludeN != nil }

func (s *termsSpec) acceptsNum(bits uint64) bool {
	if s.includeN != nil && !s.includeN[bits] {
		return false
	}
	return !s.excludeN[bits]
}

// renderTerms writes a reduced terms aggregation: the top size buckets of
// those with at least min_doc_count documents.
func renderTerms(w *jsonWriter, a *Agg, s *termsSpec, p *partialAgg, singleShard bool, b *budget) error {
	buckets := p.Buckets[:0:0]
	for _, bk := range p.Buckets {
		if bk.DocCount >= s.minDocCount {
			buckets = append(buckets, bk)
		}
	}
	sortBuckets(buckets, func(x, y *partialBucket) bool { return s.less(a, x, y) })
	other := p.Other
	if len(buckets) > s.size {
		for i := s.size; i < len(buckets); i++ {
			other += buckets[i].DocCount
		}
		buckets = buckets[:s.size]
	}
	errBound := p.ErrBound
	if singleShard {
		errBound = 0
	}
	if err := b.take(len(buckets)); err != nil {
		return err
	}
	w.raw(`{"doc_count_error_upper_bound":`)
	w.int(errBound)
	w.raw(`,"sum_other_doc_count":`)
	w.int(other)
	w.raw(`,"buckets":[`)
	for i := range buckets {
		bk := &buckets[i]
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"key":`)
		switch s.field.kind {
		case kindKeyword:
			w.str(bk.S)
		case kindFloat:
			w.float(bk.N)
		case kindDate:
			w.int(bk.I)
			w.raw(`,"key_as_string":`)
			w.str(s.field.format.format(bk.I))
		case kindBool:
			w.int(bk.I)
			w.raw(`,"key_as_string":`)
			if bk.I != 0 {
				w.str("true")
			} else {
				w.str("false")
			}
		default:
			w.int(bk.I)
		}
		w.raw(`,"doc_count":`)
		w.int(bk.DocCount)
		if s.showErr {
			w.raw(`,"doc_count_error_upper_bound":`)
			if singleShard {
				w.int(0)
			} else {
				w.int(bk.Err)
			}
		}
		if err := renderSubs(w, a, bk, singleShard, b); err != nil {
			return err
		}
		w.raw("}")
	}
	w.raw("]}")
	return nil
}
