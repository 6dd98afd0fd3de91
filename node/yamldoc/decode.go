package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

var durationScalar = Scalar{
	Kind:    "a duration",
	Example: "like 500ms, 30s, 5m",
	Parse:   func(s string) (any, error) { return time.ParseDuration(s) },
}

var durationType = reflect.TypeOf(time.Duration(0))

// Decode reads src, which must hold at most one YAML document, into v, a
// non-nil pointer to a struct, strictly (see the package comment). It
// returns the document's root node (nil when src holds no document, in
// which case v is untouched), for LineOf, and every problem found, sorted by
// path; nil when there are none. v may be partly filled when there are
// problems. Decode never panics on any src; it does on a v that is not a
// non-nil pointer to a struct, a programming error.
func Decode(src []byte, v any, opts Options) (*yaml.Node, []Problem) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("yamldoc: Decode into %T, want a non-nil pointer to a struct", v))
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, []Problem{syntaxProblem(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, []Problem{syntaxProblem(err)}
		}
		return nil, []Problem{{Message: "more than one YAML document (---)", Line: extra.Line}}
	}
	n := &root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	d := &decoder{opts: opts}
	if d.opts.MaxNodes <= 0 {
		d.opts.MaxNodes = DefaultMaxNodes
	}
	d.decode(n, rv.Elem(), "")
	sortProblems(d.problems)
	return n, d.problems
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxProblem is a YAML syntax error as a Problem with its line.
func syntaxProblem(err error) Problem {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Problem{Message: "yaml syntax: " + msg, Line: line}
}

// decoder stores a yaml.Node tree into Go values; it is used for one Decode.
type decoder struct {
	opts     Options
	problems []Problem
	nodes    int
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: n.Line, Message: fmt.Sprintf(format, args...)})
}

// decode stores n into v (settable), which lives at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > d.opts.MaxNodes {
		if d.nodes == d.opts.MaxNodes+1 {
			d.fail(path, n, "document expands to more than %d nodes (aliases?)", d.opts.MaxNodes)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null is the same as absent
	}
	if s, ok := d.opts.Scalars[v.Type()]; ok {
		d.scalar(n, v, path, s)
		return
	}
	if v.Type() == durationType {
		d.scalar(n, v, path, durationScalar)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.preset(p)
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.String:
		if d.expectScalar(n, path, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		var b bool
		if !d.expectScalar(n, path, "true or false") {
			return
		}
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(path, n, "%q is not true or false", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		if !d.expectScalar(n, path, "an integer") {
			return
		}
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.fail(path, n, "%q is not an integer", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		if !d.expectScalar(n, path, "a number") {
			return
		}
		tag := n.ShortTag()
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(path, n, "%q is not a number", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.fail(path, n, "unsupported field type %s", v.Type())
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(path, n, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.fail(path, n, "unsupported field type %s", v.Type())
	}
}

// preset hands a new struct value (p points to it) to Options.Preset.
func (d *decoder) preset(p reflect.Value) {
	if d.opts.Preset != nil && p.Elem().Kind() == reflect.Struct {
		d.opts.Preset(p.Interface())
	}
}

// kindName names what n is, for "must be X, not <kindName>".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "a document"
}

func (d *decoder) expectScalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "must be %s, not %s", want, kindName(n))
		return false
	}
	return true
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string, s Scalar) {
	if !d.expectScalar(n, path, s.Kind) {
		return
	}
	x, err := s.Parse(n.Value)
	var xv reflect.Value
	if err == nil {
		xv = reflect.ValueOf(x)
	}
	if err != nil || !xv.IsValid() || !xv.Type().ConvertibleTo(v.Type()) {
		if s.Example != "" {
			d.fail(path, n, "%q is not %s (%s)", n.Value, s.Kind, s.Example)
		} else {
			d.fail(path, n, "%q is not %s", n.Value, s.Kind)
		}
		return
	}
	v.Set(xv.Convert(v.Type()))
}

// tooMany reports a list or mapping n with more than MaxItems entries.
func (d *decoder) tooMany(n *yaml.Node, path string, entries int) bool {
	if d.opts.MaxItems > 0 && entries > d.opts.MaxItems {
		d.fail(path, n, "has %d entries, the limit is %d", entries, d.opts.MaxItems)
		return true
	}
	return false
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list, not %s", kindName(n))
		return
	}
	if d.tooMany(n, path, len(n.Content)) {
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		d.preset(e.Addr())
		d.decode(item, e, IndexPath(path, i))
	}
	v.Set(s)
}

// pairs checks that n is a mapping with unique plain scalar keys and calls f
// for each pair, in document order.
func (d *decoder) pairs(n *yaml.Node, path string, f func(key string, k, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping, not %s", kindName(n))
		return
	}
	if d.tooMany(n, path, len(n.Content)/2) {
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(path, k, "keys must be strings, not %s", kindName(k))
		case k.ShortTag() == "!!merge":
			d.fail(path, k, "merge keys (<<) are not supported")
		case seen[k.Value]:
			d.fail(KeyPath(path, k.Value), k, "duplicate key")
		default:
			seen[k.Value] = true
			f(k.Value, k, val)
		}
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		d.fail(path, n, "unsupported map type %s", v.Type())
		return
	}
	var m reflect.Value
	d.pairs(n, path, func(key string, _, val *yaml.Node) {
		if !m.IsValid() {
			m = reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		}
		e := reflect.New(v.Type().Elem())
		d.preset(e)
		d.decode(val, e.Elem(), KeyPath(path, key))
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e.Elem())
	})
	if m.IsValid() {
		v.Set(m)
	} else if n.Kind == yaml.MappingNode {
		v.Set(reflect.Zero(v.Type()))
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	d.pairs(n, path, func(key string, k, val *yaml.Node) {
		i, ok := fields.index[key]
		if !ok {
			d.fail(FieldPath(path, key), k, "%s", d.unknownField(key, fields.names))
			return
		}
		d.decode(val, v.Field(i), FieldPath(path, key))
	})
}

// unknownField is the message for an unknown key among the struct's names.
func (d *decoder) unknownField(key string, names []string) string {
	if d.opts.ListKnownFields {
		return "unknown field (known: " + strings.Join(names, ", ") + ")"
	}
	if s := closest(key, names); s != "" {
		return "unknown field (did you mean " + s + "?)"
	}
	return "unknown field"
}

// Field is one struct field that Decode fills: its YAML name and its index
// in the struct (for reflect.Value.Field).
type Field struct {
	Name  string
	Index int
}

// Fields lists the fields of struct type t that Decode fills, in
// declaration order, so that an encoder can write what Decode reads. The
// result is shared: callers must not modify it. Safe for concurrent use.
func Fields(t reflect.Type) []Field { return structFields(t).fields }

// fieldSet is a struct type's YAML fields.
type fieldSet struct {
	index  map[string]int // yaml name → field index
	names  []string       // yaml names in declaration order
	fields []Field        // the same, with indices
}

var fieldCache sync.Map // reflect.Type → *fieldSet; a cache of pure facts about types

func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{index: make(map[string]int)}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
		fs.fields = append(fs.fields, Field{Name: name, Index: i})
	}
	fieldCache.Store(t, fs)
	return fs
}
