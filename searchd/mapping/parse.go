package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func invalidf(path, format string, args ...any) error {
	return fmt.Errorf("%w: field [%s]: %s", ErrInvalid, path, fmt.Sprintf(format, args...))
}

// jsonError turns an encoding/json error into ErrParse with the offset.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%w: at offset %d: %v", ErrParse, syn.Offset, err)
	}
	return fmt.Errorf("%w: %v", ErrParse, err)
}

// Parse parses Elasticsearch's mappings JSON ({"dynamic":..,
// "properties":{...}}; nil or empty: dynamic, no fields) under
// DefaultLimits. Errors name the field path: ErrParse for malformed JSON,
// ErrInvalid for an invalid definition, ErrLimit past the limits.
func Parse(mappingsJSON []byte) (*Mapping, error) {
	return ParseLimits(mappingsJSON, Limits{})
}

// ParseLimits is Parse under an index's limits (zero values: the
// defaults), which the returned Mapping keeps.
func ParseLimits(mappingsJSON []byte, limits Limits) (*Mapping, error) {
	m := &Mapping{Properties: map[string]*Field{}, Limits: limits}
	trimmed := bytes.TrimSpace(mappingsJSON)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return m, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, jsonError(err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: mappings must be an object", ErrParse)
	}
	// {"mappings": {...}} and the legacy {"_doc": {...}} wrappers.
	for _, wrapper := range []string{"mappings", "_doc"} {
		if inner, ok := top[wrapper]; ok && len(top) == 1 {
			top = nil
			if err := json.Unmarshal(inner, &top); err != nil || top == nil {
				return nil, fmt.Errorf("%w: %s must be an object", ErrParse, wrapper)
			}
		}
	}
	for _, key := range sortedKeys(top) {
		raw := top[key]
		switch key {
		case "dynamic":
			d, err := parseDynamic(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: dynamic: %v", ErrInvalid, err)
			}
			m.Dynamic = d
		case "properties":
			props, err := parseProperties("", raw)
			if err != nil {
				return nil, err
			}
			m.Properties = props
		case "date_detection":
			b, err := parseBool(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: date_detection: %v", ErrInvalid, err)
			}
			m.NoDateDetection = !b
		case "_source":
			var src struct {
				Enabled *bool `json:"enabled"`
			}
			if err := json.Unmarshal(raw, &src); err != nil || (src.Enabled != nil && !*src.Enabled) {
				return nil, fmt.Errorf("%w: _source: only {\"enabled\": true} is supported", ErrInvalid)
			}
		case "_meta", "numeric_detection":
			// _meta is free-form; numeric detection is always off.
			if key == "numeric_detection" {
				if b, err := parseBool(raw); err != nil || b {
					return nil, fmt.Errorf("%w: numeric_detection: only false is supported", ErrInvalid)
				}
			}
		default:
			return nil, fmt.Errorf("%w: unknown mapping parameter [%s]", ErrInvalid, key)
		}
	}
	if err := m.checkLimits(); err != nil {
		return nil, err
	}
	finish("", m.Properties)
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkLimits checks m against its limits.
func (m *Mapping) checkLimits() error {
	l := m.Limits.orDefault()
	if n := m.Count(); n > l.TotalFields {
		return fmt.Errorf("%w: limit of total fields [%d] has been exceeded (%d fields)", ErrLimit, l.TotalFields, n)
	}
	var err error
	var depth func(prefix string, props map[string]*Field, d int)
	depth = func(prefix string, props map[string]*Field, d int) {
		for _, name := range sortedKeys(props) {
			f := props[name]
			if err != nil {
				return
			}
			if f.Type == Object {
				if d+1 > l.Depth {
					err = fmt.Errorf("%w: limit of mapping depth [%d] has been exceeded due to object field [%s]", ErrLimit, l.Depth, join(prefix, name))
					return
				}
				depth(join(prefix, name), f.Properties, d+1)
			}
		}
	}
	depth("", m.Properties, 1)
	return err
}

// finish sets the paths, sorted multi-field names and parsed date formats
// of the fields under prefix. Only fields not yet shared may be finished.
func finish(prefix string, props map[string]*Field) {
	for name, f := range props {
		if f.path != "" {
			continue // finished already (shared from another mapping)
		}
		f.path = join(prefix, name)
		if len(f.Fields) > 0 {
			f.subs = sortedNames(f.Fields)
		}
		if f.Type == Date {
			f.dates, _ = parseDateFormats(f.DateFormat())
		}
		finish(f.path, f.Fields)
		finish(f.path, f.Properties)
	}
}

func parseDynamic(raw json.RawMessage) (Dynamic, error) {
	switch strings.Trim(string(raw), `"`) {
	case "true":
		return DynamicTrue, nil
	case "false":
		return DynamicFalse, nil
	case "strict":
		return DynamicStrict, nil
	}
	return "", fmt.Errorf("must be true, false or strict, got %s", raw)
}

func parseBool(raw json.RawMessage) (bool, error) {
	switch strings.Trim(string(raw), `"`) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false, got %s", raw)
}

// parseProperties parses a "properties" object of the object at prefix.
// Dotted names ("a.b") are objects holding sub-fields, as in Elasticsearch.
func parseProperties(prefix string, raw json.RawMessage) (map[string]*Field, error) {
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &defs); err != nil || defs == nil {
		return nil, invalidf(prefix+".properties", "must be an object")
	}
	props := make(map[string]*Field, len(defs))
	for _, name := range sortedKeys(defs) {
		path := join(prefix, name)
		if err := checkName(path, name); err != nil {
			return nil, err
		}
		f, err := parseField(path, defs[name])
		if err != nil {
			return nil, err
		}
		// Place "a.b.c" as object a, object b, field c.
		parts := strings.Split(name, ".")
		target := props
		for i, part := range parts[:len(parts)-1] {
			obj := target[part]
			if obj == nil {
				obj = &Field{Type: Object, Index: true, Properties: map[string]*Field{}}
				target[part] = obj
			} else if obj.Type != Object {
				return nil, fmt.Errorf("%w: field [%s] is both a %s field and an object", ErrConflict, join(prefix, strings.Join(parts[:i+1], ".")), obj.Type)
			}
			target = obj.Properties
		}
		last := parts[len(parts)-1]
		if old := target[last]; old != nil {
			merged, err := mergeField(path, old, f)
			if err != nil {
				return nil, err
			}
			f = merged
		}
		target[last] = f
	}
	return props, nil
}

func checkName(path, name string) error {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return invalidf(path, "field names must be non-empty and must not begin or end with '.' or contain '..'")
	}
	return nil
}

// fieldDef is the JSON of one field definition.
type fieldDef struct {
	Type           *string         `json:"type"`
	Analyzer       *string         `json:"analyzer"`
	SearchAnalyzer *string         `json:"search_analyzer"`
	Index          json.RawMessage `json:"index"`
	DocValues      json.RawMessage `json:"doc_values"`
	Format         *string         `json:"format"`
	IgnoreAbove    json.RawMessage `json:"ignore_above"`
	Fields         json.RawMessage `json:"fields"`
	Properties     json.RawMessage `json:"properties"`
	Dynamic        json.RawMessage `json:"dynamic"`
	Enabled        json.RawMessage `json:"enabled"`
	CopyTo         json.RawMessage `json:"copy_to"`
	Normalizer     *string         `json:"normalizer"`
	NullValue      json.RawMessage `json:"null_value"`
}

// ignoredParams are parameters accepted for compatibility that do not
// change how searchd indexes (scoring is always BM25, norms always kept,
// _source always stored).
var ignoredParams = map[string]bool{
	"store": true, "norms": true, "index_options": true, "term_vector": true,
	"similarity": true, "eager_global_ordinals": true, "boost": true,
	"search_quote_analyzer": true, "position_increment_gap": true,
	"coerce": true, "fielddata": true,
}

func parseField(path string, raw json.RawMessage) (*Field, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return nil, invalidf(path, "the definition must be an object")
	}
	known := map[string]bool{"type": true, "analyzer": true, "search_analyzer": true, "index": true,
		"doc_values": true, "format": true, "ignore_above": true, "fields": true, "properties": true,
		"dynamic": true, "enabled": true, "copy_to": true, "normalizer": true, "null_value": true}
	for _, k := range sortedKeys(keys) {
		if !known[k] && !ignoredParams[k] {
			return nil, invalidf(path, "unknown parameter [%s]", k)
		}
	}
	var d fieldDef
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, invalidf(path, "%v", err)
	}
	f := &Field{Index: true}
	switch {
	case d.Type != nil:
		f.Type = Type(*d.Type)
	case d.Properties != nil:
		f.Type = Object
	default:
		return nil, invalidf(path, "no type specified")
	}
	switch f.Type {
	case Text, Keyword, Long, Integer, Short, Byte, Double, Float, Date, Boolean:
		f.DocValues = f.Type != Text
	case Object:
	case "nested":
		return nil, invalidf(path, "type [nested] is not supported; use an object")
	default:
		return nil, invalidf(path, "unknown type [%s]", f.Type)
	}
	only := func(param string, ok bool, types string) error {
		if !ok {
			return invalidf(path, "[%s] is not a parameter of type [%s] (only %s)", param, f.Type, types)
		}
		return nil
	}
	if d.Analyzer != nil {
		if err := only("analyzer", f.Type == Text, "text"); err != nil {
			return nil, err
		}
		f.Analyzer = *d.Analyzer
	}
	if d.SearchAnalyzer != nil {
		if err := only("search_analyzer", f.Type == Text, "text"); err != nil {
			return nil, err
		}
		f.SearchAnalyzer = *d.SearchAnalyzer
	}
	if d.Index != nil {
		if err := only("index", f.Type != Object, "leaf fields"); err != nil {
			return nil, err
		}
		b, err := parseBool(d.Index)
		if err != nil {
			return nil, invalidf(path, "index %v", err)
		}
		f.Index = b
	}
	if d.DocValues != nil {
		if err := only("doc_values", f.Type != Object, "leaf fields"); err != nil {
			return nil, err
		}
		b, err := parseBool(d.DocValues)
		if err != nil {
			return nil, invalidf(path, "doc_values %v", err)
		}
		if b && f.Type == Text {
			return nil, invalidf(path, "text fields do not support doc_values; add a keyword multi-field")
		}
		f.DocValues = b
	}
	if d.Format != nil {
		if err := only("format", f.Type == Date, "date"); err != nil {
			return nil, err
		}
		if _, err := parseDateFormats(*d.Format); err != nil {
			return nil, invalidf(path, "format: %v", err)
		}
		f.Format = *d.Format
	}
	if d.IgnoreAbove != nil {
		if err := only("ignore_above", f.Type == Keyword, "keyword"); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.Trim(string(d.IgnoreAbove), `"`))
		if err != nil || n < 0 {
			return nil, invalidf(path, "ignore_above must be a non-negative integer, got %s", d.IgnoreAbove)
		}
		f.IgnoreAbove = n
	}
	if d.Normalizer != nil {
		if err := only("normalizer", f.Type == Keyword, "keyword"); err != nil {
			return nil, err
		}
		f.Normalizer = *d.Normalizer
	}
	if d.NullValue != nil && string(d.NullValue) != "null" {
		if err := only("null_value", f.Type != Object && f.Type != Text, "leaf fields but text"); err != nil {
			return nil, err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, d.NullValue); err != nil {
			return nil, invalidf(path, "null_value: %v", err)
		}
		f.NullValue = compact.String()
		// Check the value fits the field, as a document holding it would.
		probe := &docParser{m: &Mapping{}, limits: DefaultLimits, doc: &Document{}}
		k, v, ok := literalKind(f.NullValue)
		if !ok {
			return nil, invalidf(path, "null_value must be a string, number or boolean")
		}
		bare := *f
		bare.Normalizer = "" // the registry is not known here
		if err := probe.convert(&bare, path, k, v); err != nil {
			return nil, invalidf(path, "null_value: %v", err)
		}
	}
	if d.CopyTo != nil {
		if err := only("copy_to", f.Type != Object, "leaf fields"); err != nil {
			return nil, err
		}
		var one string
		if json.Unmarshal(d.CopyTo, &one) == nil {
			f.CopyTo = []string{one}
		} else if err := json.Unmarshal(d.CopyTo, &f.CopyTo); err != nil {
			return nil, invalidf(path, "copy_to must be a field name or a list of them")
		}
		for _, target := range f.CopyTo {
			if target == "" || target == path {
				return nil, invalidf(path, "copy_to [%s] must name another field", target)
			}
		}
	}
	if d.Enabled != nil {
		if b, err := parseBool(d.Enabled); err != nil || !b {
			return nil, invalidf(path, "only \"enabled\": true is supported")
		}
	}
	if d.Dynamic != nil {
		if err := only("dynamic", f.Type == Object, "object"); err != nil {
			return nil, err
		}
		dyn, err := parseDynamic(d.Dynamic)
		if err != nil {
			return nil, invalidf(path, "dynamic %v", err)
		}
		f.Dynamic = dyn
	}
	if d.Properties != nil {
		if err := only("properties", f.Type == Object, "object"); err != nil {
			return nil, err
		}
		props, err := parseProperties(path, d.Properties)
		if err != nil {
			return nil, err
		}
		f.Properties = props
	} else if f.Type == Object {
		f.Properties = map[string]*Field{}
	}
	if d.Fields != nil {
		if err := only("fields", f.Type != Object, "leaf fields"); err != nil {
			return nil, err
		}
		var defs map[string]json.RawMessage
		if err := json.Unmarshal(d.Fields, &defs); err != nil || defs == nil {
			return nil, invalidf(path+".fields", "must be an object")
		}
		f.Fields = make(map[string]*Field, len(defs))
		for _, name := range sortedKeys(defs) {
			sub := join(path, name)
			if name == "" || strings.Contains(name, ".") {
				return nil, invalidf(sub, "multi-field names must be non-empty and must not contain '.'")
			}
			sf, err := parseField(sub, defs[name])
			if err != nil {
				return nil, err
			}
			if sf.Type == Object {
				return nil, invalidf(sub, "a multi-field cannot be an object")
			}
			if len(sf.Fields) > 0 {
				return nil, invalidf(sub, "multi-fields cannot have multi-fields")
			}
			if len(sf.CopyTo) > 0 {
				return nil, invalidf(sub, "multi-fields cannot have copy_to")
			}
			f.Fields[name] = sf
		}
	}
	return f, nil
}
