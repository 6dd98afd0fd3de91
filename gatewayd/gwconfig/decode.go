package gwconfig

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one decode visits, aliases expanded,
// so a small document cannot expand into a huge one ("billion laughs").
const maxNodes = 1 << 20

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// presetter is implemented by document types with defaults that must be in
// place before their fields are decoded: fields whose zero value is
// meaningful, so a default can only apply when the field is absent.
type presetter interface{ preset() }

// decoder turns a yaml.Node tree into Go values strictly: unknown fields,
// duplicate keys and values of the wrong kind are errors naming their path
// and line. It is used once per Parse.
type decoder struct {
	errs  Errors
	nodes int
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	e := &Error{Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	d.errs = append(d.errs, e)
}

// decode stores n into v (settable), which lives at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(path, n, "document expands to more than %d nodes (aliases?)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null is the same as absent
	}
	switch v.Type() {
	case durationType:
		d.duration(n, v, path)
		return
	case byteSizeType:
		d.byteSize(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if ps, ok := p.Interface().(presetter); ok {
			ps.preset()
		}
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

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectScalar(n, path, "a duration") {
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n, "%q is not a duration (like 500ms, 30s, 5m)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) byteSize(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectScalar(n, path, "a byte size") {
		return
	}
	b, err := ParseByteSize(n.Value)
	if err != nil {
		d.fail(path, n, "%q is not a byte size (like 1048576, 512KiB, 10MiB, 1GiB)", n.Value)
		return
	}
	v.SetInt(int64(b))
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list, not %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		if ps, ok := e.Addr().Interface().(presetter); ok {
			ps.preset()
		}
		d.decode(item, e, indexPath(path, i))
	}
	v.Set(s)
}

// pairs checks that n is a mapping with unique scalar keys and calls f for
// each pair.
func (d *decoder) pairs(n *yaml.Node, path string, f func(key string, k, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping, not %s", kindName(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "keys must be strings, not %s", kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(path, k, "merge keys (<<) are not supported")
			continue
		}
		if seen[k.Value] {
			d.fail(keyPath(path, k.Value), k, "duplicate key")
			continue
		}
		seen[k.Value] = true
		f(k.Value, k, val)
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
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, keyPath(path, key))
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
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
			msg := "unknown field"
			if s := closest(key, fields.names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			d.fail(fieldPath(path, key), k, "%s", msg)
			return
		}
		d.decode(val, v.Field(i), fieldPath(path, key))
	})
}

// fieldSet is a struct type's YAML field names.
type fieldSet struct {
	index map[string]int // yaml name → field index
	names []string       // yaml names in declaration order
}

var fieldCache sync.Map // reflect.Type → *fieldSet

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
	}
	fieldCache.Store(t, fs)
	return fs
}

// closest is the name within edit distance 2 of key, if one is.
func closest(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(key, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
