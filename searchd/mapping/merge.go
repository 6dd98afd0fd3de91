package mapping

import (
	"fmt"
	"slices"
)

// Merge returns m with add's fields added; ErrConflict when a field exists
// with another type or other settings (an existing field may change only
// its search_analyzer, ignore_above and copy_to, and gain multi-fields and
// properties). add's dynamic rule and date detection replace m's when
// add sets them. m and add are not modified; the result shares the fields
// that did not change. The result keeps m's limits and is checked against
// them (ErrLimit).
func (m *Mapping) Merge(add *Mapping) (*Mapping, error) {
	out := &Mapping{Dynamic: m.Dynamic, NoDateDetection: m.NoDateDetection, Limits: m.Limits}
	if add.Dynamic != "" {
		out.Dynamic = add.Dynamic
	}
	if add.NoDateDetection {
		out.NoDateDetection = true
	}
	props, err := mergeProps("", m.Properties, add.Properties)
	if err != nil {
		return nil, err
	}
	out.Properties = props
	if err := out.checkLimits(); err != nil {
		return nil, err
	}
	finish("", out.Properties)
	return out, nil
}

func mergeProps(prefix string, a, b map[string]*Field) (map[string]*Field, error) {
	if len(b) == 0 {
		return a, nil
	}
	out := make(map[string]*Field, len(a)+len(b))
	for name, f := range a {
		out[name] = f
	}
	for name, bf := range b {
		af, ok := a[name]
		if !ok {
			out[name] = bf
			continue
		}
		merged, err := mergeField(join(prefix, name), af, bf)
		if err != nil {
			return nil, err
		}
		out[name] = merged
	}
	return out, nil
}

func conflictf(path, format string, args ...any) error {
	return fmt.Errorf("%w: mapper [%s] %s", ErrConflict, path, fmt.Sprintf(format, args...))
}

// mergeField merges b into a (both at path), returning a when nothing
// changes.
func mergeField(path string, a, b *Field) (*Field, error) {
	if a.Type != b.Type {
		return nil, conflictf(path, "cannot be changed from type [%s] to [%s]", a.Type, b.Type)
	}
	if a.Type == Object {
		props, err := mergeProps(path, a.Properties, b.Properties)
		if err != nil {
			return nil, err
		}
		dyn := a.Dynamic
		if b.Dynamic != "" {
			dyn = b.Dynamic
		}
		if dyn == a.Dynamic && len(props) == len(a.Properties) && sameFields(props, a.Properties) {
			return a, nil
		}
		return &Field{Type: Object, Index: a.Index, Dynamic: dyn, Properties: props}, nil
	}
	switch {
	case a.Analyzer != b.Analyzer:
		return nil, conflictf(path, "has different [analyzer] values: [%s] and [%s]", a.Analyzer, b.Analyzer)
	case a.NullValue != b.NullValue:
		return nil, conflictf(path, "has different [null_value] values: [%s] and [%s]", a.NullValue, b.NullValue)
	case a.Normalizer != b.Normalizer:
		return nil, conflictf(path, "has different [normalizer] values: [%s] and [%s]", a.Normalizer, b.Normalizer)
	case a.Index != b.Index:
		return nil, conflictf(path, "has different [index] values")
	case a.DocValues != b.DocValues:
		return nil, conflictf(path, "has different [doc_values] values")
	case a.DateFormat() != b.DateFormat() && a.Type == Date:
		return nil, conflictf(path, "has different [format] values: [%s] and [%s]", a.DateFormat(), b.DateFormat())
	}
	subs, err := mergeProps(path, a.Fields, b.Fields)
	if err != nil {
		return nil, err
	}
	if b.SearchAnalyzer == a.SearchAnalyzer && b.IgnoreAbove == a.IgnoreAbove && sameFields(subs, a.Fields) && slices.Equal(a.CopyTo, b.CopyTo) {
		return a, nil
	}
	c := *a
	c.path, c.subs, c.dates = "", nil, nil
	c.SearchAnalyzer, c.IgnoreAbove, c.Fields, c.CopyTo = b.SearchAnalyzer, b.IgnoreAbove, subs, b.CopyTo
	return &c, nil
}

// sameFields reports whether x and y hold the same *Field under each name.
func sameFields(x, y map[string]*Field) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if y[k] != v {
			return false
		}
	}
	return true
}
