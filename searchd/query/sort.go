package query

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"cairn.dev/cairn/searchd/mapping"
)

// sortKind says where a sort value comes from.
type sortKind int

const (
	sortScore   sortKind = iota // the hit's score (desc by default)
	sortDoc                     // index order (the reader's document number)
	sortID                      // the document id, as a string
	sortInt                     // integer, date (epoch ms) or boolean doc values
	sortFloat                   // float doc values
	sortKeyword                 // keyword doc values, as strings
	sortNone                    // an unmapped field with unmapped_type: always missing
)

// sortSpec is one sort criterion. Multi-valued fields sort by their
// smallest value (mode min, the default ascending) or largest (mode max,
// the default descending). Documents without a value sort last unless
// missing says "_first" or gives a value to use instead.
type sortSpec struct {
	field        string
	kind         sortKind
	desc         bool
	missingFirst bool
	missing      any // a substitute value; nil: none
	modeMax      bool
}

// parseSort parses sort: a field name, {"field": "asc"|"desc"}, {"field":
// {"order","missing","mode","unmapped_type"}}, or an array of them.
func parseSort(raw json.RawMessage, m *mapping.Mapping) ([]sortSpec, error) {
	items, err := decodeArray(raw, "sort", true)
	if err != nil {
		return nil, err
	}
	var out []sortSpec
	for i, it := range items {
		path := "sort[" + strconv.Itoa(i) + "]"
		var field string
		var opts object
		if isString(it) {
			if field, err = asString(it, path); err != nil {
				return nil, err
			}
		} else {
			o, err := decodeObject(it, path)
			if err != nil {
				return nil, err
			}
			f, v, err := singleKey(o, path, "sort field")
			if err != nil {
				return nil, err
			}
			field = f
			if isString(v) {
				opts = object{"order": v}
			} else if opts, err = decodeObject(v, path+"."+f); err != nil {
				return nil, err
			}
		}
		path += "." + field
		s := sortSpec{field: field}
		unmappedType := ""
		order := ""
		mode := ""
		for _, k := range opts.keys() {
			kp := path + "." + k
			v := opts[k]
			switch k {
			case "order":
				if order, err = asString(v, kp); err != nil {
					return nil, err
				}
				if order != "asc" && order != "desc" {
					return nil, parseErr(kp, "order must be asc or desc, got [%s]", order)
				}
			case "missing":
				mv, err := decodeValue(v)
				if err != nil {
					return nil, parseErr(kp, "%v", err)
				}
				switch mv {
				case "_last":
				case "_first":
					s.missingFirst = true
				default:
					s.missing = mv
				}
			case "mode":
				if mode, err = asString(v, kp); err != nil {
					return nil, err
				}
				if mode != "min" && mode != "max" {
					return nil, parseErr(kp, "mode must be min or max, got [%s]", mode)
				}
			case "unmapped_type":
				if unmappedType, err = asString(v, kp); err != nil {
					return nil, err
				}
			case "format", "numeric_type":
			default:
				return nil, parseErr(kp, "unknown key [%s]", k)
			}
		}
		switch field {
		case "_score":
			s.kind, s.desc = sortScore, true
		case "_doc":
			s.kind = sortDoc
		case "_id":
			s.kind = sortID
		default:
			f, ok := lookupField(m, field)
			switch {
			case !ok && unmappedType != "":
				s.kind = sortNone
			case !ok:
				return nil, parseErr(path, "no mapping found for [%s] in order to sort on", field)
			case !f.DocValues && f.Type != mapping.Text:
				return nil, parseErr(path, "field [%s] has no doc values to sort on", field)
			default:
				switch f.Type {
				case mapping.Long, mapping.Integer, mapping.Short, mapping.Byte, mapping.Date, mapping.Boolean:
					s.kind = sortInt
				case mapping.Double, mapping.Float:
					s.kind = sortFloat
				case mapping.Keyword:
					s.kind = sortKeyword
				default:
					return nil, parseErr(path, "cannot sort on [%s] of type %s (sort on a keyword sub-field)", field, f.Type)
				}
			}
		}
		if order != "" {
			s.desc = order == "desc"
		}
		s.modeMax = s.desc
		if mode != "" {
			s.modeMax = mode == "max"
		}
		if s.missing != nil {
			if s.missing, err = normalizeMissing(s.missing, s.kind); err != nil {
				return nil, parseErr(path+".missing", "%v", err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func lookupField(m *mapping.Mapping, field string) (*mapping.Field, bool) {
	if m == nil {
		return nil, false
	}
	return m.Lookup(field)
}

// normalizeMissing converts a missing substitute to the kind's value type.
func normalizeMissing(v any, kind sortKind) (any, error) {
	switch kind {
	case sortInt, sortDoc:
		n, ok := toFloat(v)
		if !ok {
			return nil, errNotNumber(v)
		}
		return int64(n), nil
	case sortFloat, sortScore:
		n, ok := toFloat(v)
		if !ok {
			return nil, errNotNumber(v)
		}
		return n, nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return nil, errNotString(v)
}

type valueError struct {
	v    any
	want string
}

func (e valueError) Error() string { return "value " + stringOf(e.v) + " is not " + e.want }

func errNotNumber(v any) error { return valueError{v, "a number"} }
func errNotString(v any) error { return valueError{v, "a string"} }

func stringOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// toFloat converts a numeric sort value (int64, float64, json.Number,
// numeric string) to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// toInt converts an integral sort value to int64 exactly.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

// compareValues orders two sort values of one criterion: negative when a
// sorts first. Missing values (nil) sort last, or first with _first,
// whatever the order.
func compareValues(a, b any, s *sortSpec) int {
	an, bn := a == nil, b == nil
	switch {
	case an && bn:
		return 0
	case an:
		if s.missingFirst {
			return -1
		}
		return 1
	case bn:
		if s.missingFirst {
			return 1
		}
		return -1
	}
	c := compareRaw(a, b)
	if s.desc {
		return -c
	}
	return c
}

// compareRaw compares two non-nil values ascending: numbers as numbers
// (exactly when both are integers), strings bytewise.
func compareRaw(a, b any) int {
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return strings.Compare(as, bs)
	}
	if ai, ok := toInt(a); ok && !aStr {
		if bi, ok := toInt(b); ok && !bStr {
			switch {
			case ai < bi:
				return -1
			case ai > bi:
				return 1
			}
			return 0
		}
	}
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	switch {
	case aok && bok:
		switch {
		case af < bf:
			return -1
		case af > bf:
			return 1
		}
		return 0
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(stringOf(a), stringOf(b))
}

// compareKeys compares two hits' sort values criterion by criterion.
func compareKeys(a, b []any, specs []sortSpec) int {
	for i := range specs {
		if c := compareValues(a[i], b[i], &specs[i]); c != 0 {
			return c
		}
	}
	return 0
}
