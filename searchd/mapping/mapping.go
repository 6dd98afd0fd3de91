// Package mapping holds an index's field mappings (Elasticsearch's
// "mappings": text, keyword, numeric, date and boolean fields, objects,
// multi-fields), applies the dynamic-mapping rule to unknown fields, and
// parses JSON documents into the analysed fields the index stores.
//
// A Mapping is immutable once built (Parse, Merge): share it between
// goroutines freely and make changes by merging into a new one.
package mapping

import (
	"slices"
	"strings"

	"cairn.dev/cairn/searchd/analysis"
)

// Type is a field type.
type Type string

// Field types. Integer types and float types keep their Elasticsearch
// names; they are stored as int64 and float64 respectively.
const (
	Text    Type = "text"
	Keyword Type = "keyword"
	Long    Type = "long"
	Integer Type = "integer"
	Short   Type = "short"
	Byte    Type = "byte"
	Double  Type = "double"
	Float   Type = "float"
	Date    Type = "date"
	Boolean Type = "boolean"
	Object  Type = "object"
)

// IsInteger reports whether t is stored as int64 from integral values
// (long, integer, short, byte).
func (t Type) IsInteger() bool {
	return t == Long || t == Integer || t == Short || t == Byte
}

// IsFloat reports whether t is stored as float64 (double, float).
func (t Type) IsFloat() bool { return t == Double || t == Float }

// Field is one field's mapping. Parse fills the defaults (Index true,
// DocValues true for every type but text); a Field built by hand must set
// them itself.
type Field struct {
	Type Type
	// Analyzer and SearchAnalyzer name analyzers (text fields); empty means
	// the index's default (the settings' "default" analyzer, else
	// analysis.DefaultText), SearchAnalyzer defaults to Analyzer (see
	// IndexAnalyzer and QueryAnalyzer).
	Analyzer, SearchAnalyzer string
	// Index (searchable), Store (kept apart from _source: unused, _source is
	// always kept) and DocValues (sortable, aggregatable; default true for
	// every type but text).
	Index, DocValues bool
	// Format is a date field's format ("strict_date_optional_time||epoch_millis").
	Format string
	// Normalizer names the analysis.Normalizer a keyword field's values
	// (and term queries on it) are normalised with; empty: none.
	Normalizer string
	// NullValue is the JSON literal ("0", "\"NULL\"", "false") indexed in
	// place of an explicit null (Elasticsearch's null_value); empty: nulls
	// are skipped. Not for text fields.
	NullValue string
	// IgnoreAbove: keyword values longer than this are not indexed.
	IgnoreAbove int
	// CopyTo names fields (dotted paths) that also index this field's
	// values, as if the document held them there too (Elasticsearch's
	// copy_to; the targets must be mapped, and do not copy further).
	CopyTo []string
	// Fields are multi-fields ("title.keyword").
	Fields map[string]*Field
	// Properties are an object's sub-fields.
	Properties map[string]*Field
	// Dynamic is an object's rule for unknown sub-fields; empty inherits
	// the enclosing object's (the mapping's at the top).
	Dynamic Dynamic

	// path is the field's dotted path, and subs the sorted names of its
	// multi-fields, both set when the mapping is built (finish); a Field
	// built by hand has neither and they are computed when needed.
	path string
	subs []string
	// dates is a date field's parsed Format.
	dates *dateFormats
}

// IndexAnalyzer returns the name of the analyzer a text field's values are
// indexed with: Analyzer, else "default" (which analysis.Registry.Lookup
// resolves to the index settings' "default" analyzer, else
// analysis.DefaultText).
func (f *Field) IndexAnalyzer() string {
	if f.Analyzer != "" {
		return f.Analyzer
	}
	return "default"
}

// QueryAnalyzer returns the name of the analyzer a text field's queries are
// analysed with: SearchAnalyzer, else Analyzer, else "default_search"
// (the settings' "default_search", else their "default", else
// analysis.DefaultText).
func (f *Field) QueryAnalyzer() string {
	if f.SearchAnalyzer != "" {
		return f.SearchAnalyzer
	}
	if f.Analyzer != "" {
		return f.Analyzer
	}
	return "default_search"
}

// DateFormat returns a date field's format, the default
// ("strict_date_optional_time||epoch_millis") when Format is empty.
func (f *Field) DateFormat() string {
	if f.Format != "" {
		return f.Format
	}
	return DefaultDateFormat
}

// ParseDate parses a date field's value (a string in the field's format)
// into epoch milliseconds, as documents are parsed: for range queries and
// date aggregations.
func (f *Field) ParseDate(value string) (int64, error) {
	df, err := f.dateFormats()
	if err != nil {
		return 0, err
	}
	return df.parse(value)
}

func (f *Field) dateFormats() (*dateFormats, error) {
	if f.dates != nil {
		return f.dates, nil
	}
	return parseDateFormats(f.DateFormat())
}

// subNames returns the sorted names of f's multi-fields.
func (f *Field) subNames() []string {
	if f.subs != nil || len(f.Fields) == 0 {
		return f.subs
	}
	return sortedNames(f.Fields)
}

func sortedNames(m map[string]*Field) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Dynamic is the rule for fields a mapping does not name.
type Dynamic string

const (
	// DynamicTrue adds them: strings become text with a "keyword" sub-field
	// (ignore_above 256), or date when they parse as a date; integers long;
	// other numbers float; booleans boolean; objects object.
	DynamicTrue Dynamic = "true"
	// DynamicFalse keeps them in _source only.
	DynamicFalse Dynamic = "false"
	// DynamicStrict refuses the document (ErrStrict).
	DynamicStrict Dynamic = "strict"
)

// Limits bound a mapping's size, as Elasticsearch's index settings do.
type Limits struct {
	// TotalFields is index.mapping.total_fields.limit: fields, objects and
	// multi-fields together (default 1000).
	TotalFields int
	// Depth is index.mapping.depth.limit: the nesting of objects, a field
	// at the top being at depth 1 (default 20).
	Depth int
}

// DefaultLimits are Elasticsearch's defaults.
var DefaultLimits = Limits{TotalFields: 1000, Depth: 20}

func (l Limits) orDefault() Limits {
	if l.TotalFields <= 0 {
		l.TotalFields = DefaultLimits.TotalFields
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	return l
}

// Mapping is an index's mappings. A Mapping is immutable once built; changes
// make a new one (Merge).
type Mapping struct {
	Dynamic    Dynamic
	Properties map[string]*Field
	// DateDetection off (Elasticsearch's "date_detection": false) keeps
	// date-like strings of new fields text.
	NoDateDetection bool
	// Limits are the index's mapping limits (zero values: DefaultLimits).
	// They are settings, not mappings: JSON does not print them.
	Limits Limits
}

// dynamic returns m's rule, DynamicTrue when unset.
func (m *Mapping) dynamic() Dynamic {
	if m.Dynamic == "" {
		return DynamicTrue
	}
	return m.Dynamic
}

// Lookup returns the field at a dotted path ("title", "title.keyword",
// "owner.name").
func (m *Mapping) Lookup(path string) (*Field, bool) {
	if m == nil {
		return nil, false
	}
	props := m.Properties
	var f *Field
	for path != "" {
		name, rest, _ := strings.Cut(path, ".")
		next := props[name]
		if next == nil && f != nil {
			next = f.Fields[name]
		}
		if next == nil {
			return nil, false
		}
		f, props, path = next, next.Properties, rest
	}
	return f, f != nil
}

// Count returns the number of fields, objects and multi-fields of m, the
// number the total fields limit bounds.
func (m *Mapping) Count() int { return countFields(m.Properties) }

func countFields(props map[string]*Field) int {
	n := 0
	for _, f := range props {
		n++
		n += countFields(f.Properties)
		n += countFields(f.Fields)
	}
	return n
}

// Walk calls fn for every field of m with its dotted path, parents before
// children, multi-fields after their field, in path order within a level.
func (m *Mapping) Walk(fn func(path string, f *Field)) {
	walk("", m.Properties, fn)
}

func walk(prefix string, props map[string]*Field, fn func(string, *Field)) {
	for _, name := range sortedNames(props) {
		f := props[name]
		p := join(prefix, name)
		fn(p, f)
		walk(p, f.Fields, fn)
		walk(p, f.Properties, fn)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// CheckAnalyzers returns ErrInvalid naming the first field whose analyzer,
// search analyzer or normalizer reg does not have.
func (m *Mapping) CheckAnalyzers(reg *analysis.Registry) error {
	var err error
	m.Walk(func(path string, f *Field) {
		if err != nil {
			return
		}
		if f.Normalizer != "" {
			if _, ok := reg.Normalizer(f.Normalizer); !ok {
				err = invalidf(path, "normalizer [%s] is not defined", f.Normalizer)
			}
		}
		if f.Type != Text {
			return
		}
		for _, name := range []string{f.IndexAnalyzer(), f.QueryAnalyzer()} {
			if _, ok := reg.Lookup(name); !ok {
				err = invalidf(path, "analyzer [%s] is not defined", name)
				return
			}
		}
	})
	return err
}
