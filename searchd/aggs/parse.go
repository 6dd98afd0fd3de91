package aggs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"cairn.dev/cairn/searchd/mapping"
)

// Parse parses an aggs object against the mapping (fields must exist and
// have doc values). Errors wrap ErrParse and name the aggregation path and
// the parameter.
func Parse(aggsJSON []byte, m *mapping.Mapping, limits Limits) (*Request, error) {
	limits = limits.withDefaults()
	p := &parser{m: m, limits: limits}
	aggs, err := p.aggs(aggsJSON, "", 1)
	if err != nil {
		return nil, err
	}
	return &Request{Aggs: aggs, limits: limits}, nil
}

type parser struct {
	m      *mapping.Mapping
	limits Limits
}

// member is one key of a JSON object, in document order.
type member struct {
	key string
	val json.RawMessage
}

// objectMembers splits a JSON object into its members in order; a
// duplicate key is an error.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object, found %s", describe(raw))
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("malformed JSON: %v", err)
		}
		key := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("malformed JSON at [%s]: %v", key, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key [%s]", key)
		}
		seen[key] = true
		out = append(out, member{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	return out, nil
}

func describe(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

func perr(path, format string, args ...any) error {
	return fmt.Errorf("%w: [%s] %s", ErrParse, path, fmt.Sprintf(format, args...))
}

func (p *parser) aggs(raw []byte, parent string, depth int) ([]*Agg, error) {
	where := parent
	if where == "" {
		where = "aggs"
	}
	if depth > p.limits.MaxDepth {
		return nil, perr(where, "aggregations nest deeper than %d levels", p.limits.MaxDepth)
	}
	ms, err := objectMembers(raw)
	if err != nil {
		return nil, perr(where, "%v", err)
	}
	var out []*Agg
	for _, mem := range ms {
		path := mem.key
		if parent != "" {
			path = parent + ">" + mem.key
		}
		if mem.key == "" || strings.ContainsAny(mem.key, "[]>") {
			return nil, perr(path, "invalid aggregation name [%s]: it must not be empty nor contain '[', ']' or '>'", mem.key)
		}
		a, err := p.agg(mem.key, path, mem.val, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (p *parser) agg(name, path string, raw []byte, depth int) (*Agg, error) {
	ms, err := objectMembers(raw)
	if err != nil {
		return nil, perr(path, "%v", err)
	}
	a := &Agg{Name: name, path: path}
	var body json.RawMessage
	var subs json.RawMessage
	for _, mem := range ms {
		switch mem.key {
		case "aggs", "aggregations":
			if subs != nil {
				return nil, perr(path, "found two sub-aggregation definitions (aggs and aggregations)")
			}
			subs = mem.val
		case "meta":
		default:
			if a.Type != "" {
				return nil, perr(path, "found two aggregation types [%s] and [%s]", a.Type, mem.key)
			}
			a.Type = mem.key
			body = mem.val
		}
	}
	if a.Type == "" {
		return nil, perr(path, "missing aggregation type")
	}
	parse, ok := parserFor(a.Type)
	if !ok {
		return nil, perr(path, "unknown aggregation type [%s]", a.Type)
	}
	prm, err := objectMembers(body)
	if err != nil {
		return nil, perr(path, "%s: %v", a.Type, err)
	}
	a.spec, err = parse(p, path+" "+a.Type, prm)
	if err != nil {
		return nil, err
	}
	if subs != nil {
		if !isBucketAgg(a.Type) {
			return nil, perr(path, "aggregator of type [%s] cannot accept sub-aggregations", a.Type)
		}
		if a.Subs, err = p.aggs(subs, path, depth+1); err != nil {
			return nil, err
		}
	}
	if t, ok := a.spec.(*termsSpec); ok {
		if err := t.resolveOrder(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// parserFor returns the parameter parser of an aggregation type.
func parserFor(typ string) (func(p *parser, where string, params []member) (any, error), bool) {
	switch typ {
	case "terms":
		return parseTerms, true
	case "range":
		return parseRange, true
	case "date_range":
		return parseDateRange, true
	case "histogram":
		return parseHistogram, true
	case "date_histogram":
		return parseDateHistogram, true
	case "min", "max", "avg", "sum", "value_count", "stats":
		return parseMetric, true
	case "cardinality":
		return parseCardinality, true
	}
	return nil, false
}

func isBucketAgg(t string) bool {
	switch t {
	case "terms", "range", "date_range", "histogram", "date_histogram":
		return true
	}
	return false
}

// Parameter decoding helpers: each names the parameter on error.

func paramString(where, key string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", perr(where, "parameter [%s] must be a string, found %s", key, describe(raw))
	}
	return s, nil
}

func paramInt(where, key string, raw json.RawMessage, min int64) (int64, error) {
	var f json.Number
	if err := json.Unmarshal(raw, &f); err != nil {
		// Elasticsearch accepts numbers in strings.
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, perr(where, "parameter [%s] must be an integer, found %s", key, describe(raw))
		}
		f = json.Number(s)
	}
	v, err := f.Int64()
	if err != nil {
		return 0, perr(where, "parameter [%s] must be an integer, found %s", key, describe(raw))
	}
	if v < min {
		return 0, perr(where, "parameter [%s] must be >= %d, found %d", key, min, v)
	}
	return v, nil
}

func paramFloat(where, key string, raw json.RawMessage) (float64, error) {
	var f json.Number
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, perr(where, "parameter [%s] must be a number, found %s", key, describe(raw))
		}
		f = json.Number(s)
	}
	v, err := f.Float64()
	if err != nil {
		return 0, perr(where, "parameter [%s] must be a number, found %s", key, describe(raw))
	}
	return v, nil
}

func paramBool(where, key string, raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, perr(where, "parameter [%s] must be a boolean, found %s", key, describe(raw))
	}
	return b, nil
}

func unknownParam(where, key string) error {
	return perr(where, "unknown parameter [%s]", key)
}
