package aggs

import (
	"strings"

	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// valueKind is how a field's doc values are read and its keys rendered.
type valueKind uint8

const (
	kindKeyword valueKind = iota + 1
	kindInt               // long, integer, short, byte: index.Segment.Ints
	kindFloat             // double, float: index.Segment.Floats
	kindDate              // epoch milliseconds: index.Segment.Ints
	kindBool              // 0/1: index.Segment.Ints
)

// fieldRef is a resolved aggregation field.
type fieldRef struct {
	path string
	kind valueKind
	// format renders date values (the field's format unless the
	// aggregation names one).
	format *dateFormat
}

func (f fieldRef) numeric() bool { return f.kind != kindKeyword }

// lookupField finds the field at a dotted path: object properties and
// multi-fields ("title.keyword", "owner.name").
func lookupField(m *mapping.Mapping, path string) (*mapping.Field, bool) {
	if m == nil {
		return nil, false
	}
	return lookupIn(m.Properties, nil, path)
}

func lookupIn(props, multi map[string]*mapping.Field, path string) (*mapping.Field, bool) {
	if f, ok := props[path]; ok {
		return f, true
	}
	if f, ok := multi[path]; ok {
		return f, true
	}
	// Try every split point, longest head first, so dotted keys work too.
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		head, rest := path[:i], path[i+1:]
		f, ok := props[head]
		if !ok {
			f, ok = multi[head]
		}
		if ok {
			if g, ok := lookupIn(f.Properties, f.Fields, rest); ok {
				return g, true
			}
		}
	}
	return nil, false
}

// resolveField checks that path names an aggregatable field.
func (p *parser) resolveField(where, path string) (fieldRef, error) {
	f, ok := lookupField(p.m, path)
	if !ok {
		return fieldRef{}, perr(where, "no field [%s] in the mapping", path)
	}
	ref := fieldRef{path: path}
	switch f.Type {
	case mapping.Text:
		return fieldRef{}, perr(where, "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. [%s] is a text field", path)
	case mapping.Keyword:
		ref.kind = kindKeyword
	case mapping.Long, mapping.Integer, mapping.Short, mapping.Byte:
		ref.kind = kindInt
	case mapping.Double, mapping.Float:
		ref.kind = kindFloat
	case mapping.Date:
		ref.kind = kindDate
		df, err := parseDateFormat(f.Format)
		if err != nil {
			// A mapping format this package cannot print (day or month
			// names): keys print in the default format.
			df, _ = parseDateFormat("")
		}
		ref.format = df
	case mapping.Boolean:
		ref.kind = kindBool
	default:
		return fieldRef{}, perr(where, "field [%s] of type [%s] cannot be aggregated", path, f.Type)
	}
	if !f.DocValues {
		return fieldRef{}, perr(where, "field [%s] has no doc values (doc_values: false), so it cannot be aggregated", path)
	}
	return ref, nil
}

// numSource reads a numeric field's values in the current segment as
// float64, or, for integer kinds, as int64. Buffers are reused: a returned
// slice is valid until the next call.
type numSource struct {
	field   fieldRef
	missing *float64
	ints    index.NumericValues
	floats  index.FloatValues
	bufI    []int64
	bufF    []float64
}

func (s *numSource) setSegment(seg index.Segment) {
	s.ints, s.floats = nil, nil
	if s.field.kind == kindFloat {
		s.floats = seg.Floats(s.field.path)
	} else {
		s.ints = seg.Ints(s.field.path)
	}
}

// float64s returns the document's values (the missing value when it has
// none and one is set).
func (s *numSource) float64s(doc uint32) []float64 {
	s.bufF = s.bufF[:0]
	if s.floats != nil {
		s.bufF = s.floats.Values(doc, s.bufF)
	} else if s.ints != nil {
		s.bufI = s.ints.Values(doc, s.bufI[:0])
		for _, v := range s.bufI {
			s.bufF = append(s.bufF, float64(v))
		}
	}
	if len(s.bufF) == 0 && s.missing != nil {
		s.bufF = append(s.bufF, *s.missing)
	}
	return s.bufF
}
