// Package mapping holds an index's field mappings (Elasticsearch's
// "mappings": text, keyword, numeric, date and boolean fields, objects,
// multi-fields), applies the dynamic-mapping rule to unknown fields, and
// parses JSON documents into the analysed fields the index stores.
package mapping

import "cairn.dev/cairn/searchd/analysis"

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

// Field is one field's mapping.
type Field struct {
	Type Type
	// Analyzer and SearchAnalyzer name analyzers (text fields); empty means
	// analysis.DefaultText, SearchAnalyzer defaults to Analyzer.
	Analyzer, SearchAnalyzer string
	// Index (searchable), Store (kept apart from _source: unused, _source is
	// always kept) and DocValues (sortable, aggregatable; default true for
	// every type but text).
	Index, DocValues bool
	// Format is a date field's format ("strict_date_optional_time||epoch_millis").
	Format string
	// IgnoreAbove: keyword values longer than this are not indexed.
	IgnoreAbove int
	// Fields are multi-fields ("title.keyword").
	Fields map[string]*Field
	// Properties are an object's sub-fields.
	Properties map[string]*Field
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

// Mapping is an index's mappings. A Mapping is immutable once built; changes
// make a new one (Merge).
type Mapping struct {
	Dynamic    Dynamic
	Properties map[string]*Field
}

// Parse parses Elasticsearch's mappings JSON ({"dynamic":..,
// "properties":{...}}; nil or empty: dynamic, no fields). Errors name the
// field path.
func Parse(mappingsJSON []byte) (*Mapping, error) { panic("searchd: not built yet") }

// JSON prints the mapping as Elasticsearch does.
func (m *Mapping) JSON() []byte { panic("searchd: not built yet") }

// Merge returns m with add's fields added; ErrConflict when a field exists
// with another type.
func (m *Mapping) Merge(add *Mapping) (*Mapping, error) { panic("searchd: not built yet") }

// Lookup returns the field at a dotted path ("title", "title.keyword",
// "owner.name").
func (m *Mapping) Lookup(path string) (*Field, bool) { panic("searchd: not built yet") }

// FieldValue is one indexed value of one field of a document. Multi-valued
// fields (JSON arrays) give one FieldValue per value.
type FieldValue struct {
	// Path is the dotted field path ("title", "title.keyword").
	Path string
	Type Type
	// Tokens are the analysed terms of a text value (positions continue
	// across the values of one field with a gap of 100, as Elasticsearch's
	// position_increment_gap) or the single term of a keyword value.
	Tokens []analysis.Token
	// Surface holds a text value's unstemmed words (analysis.SurfaceForms)
	// for suggestions.
	Surface []string
	// Int is the value of integer, date (epoch milliseconds) and boolean
	// (0/1) fields; Float of float fields; Keyword of keyword fields.
	Int     int64
	Float   float64
	Keyword string
	// Indexed and DocValues copy the field's settings.
	Indexed, DocValues bool
}

// Document is a parsed document, ready for the index.
type Document struct {
	ID     string
	Source []byte
	Fields []FieldValue
}

// ParseDocument parses a JSON object against m. It returns the document
// and, when dynamic mapping added fields, the mapping to merge (nil
// otherwise): the caller must make that mapping durable before the document.
// Errors (ErrParse, ErrStrict, ErrType) name the field and the value's
// problem.
func (m *Mapping) ParseDocument(id string, source []byte, reg *analysis.Registry) (*Document, *Mapping, error) {
	panic("searchd: not built yet")
}
