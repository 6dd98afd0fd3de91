package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one Parse visits, aliases expanded, so
// a small document cannot expand into a huge one.
const maxNodes = 1 << 18

var durationType = reflect.TypeOf(time.Duration(0))

// Parse reads a rules document strictly (unknown keys, duplicate keys, values
// of the wrong kind, merge keys and more than one document are errors) and
// validates it as Compile does. The error, when not nil, is an Errors
// listing every problem with its path ("rewrites[2].match") and line; it
// matches ErrInvalid. An empty document is an empty Config.
func Parse(doc []byte) (*Config, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, Errors{{Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(doc), MaxDocumentBytes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var root yaml.Node
	cfg := &Config{}
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil
		}
		return nil, Errors{{Message: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{Message: "more than one YAML document"}}
	}
	d := &decoder{lines: make(map[string]int)}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	d.decode(n, reflect.ValueOf(cfg).Elem(), "")
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	if _, err := cfg.compile(); err != nil {
		var es Errors
		if errors.As(err, &es) {
			for _, e := range es {
				if e.Line == 0 {
					e.Line = d.lineOf(e.Path)
				}
			}
		}
		return nil, err
	}
	return cfg, nil
}

// decoder stores a yaml.Node tree into Go values, strictly, recording the
// line of every path it visits so later validation errors can name it.
type decoder struct {
	errs  errList
	lines map[string]int
	nodes int
}

// lineOf is the line of path or of its nearest recorded ancestor.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errs.add(path, n.Line, "document expands to more than %d nodes (aliases?)", maxNodes)
		}
		return
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null is the same as absent
	}
	if v.Type() == durationType {
		if !d.scalar(n, path, "a duration") {
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.errs.add(path, n.Line, "%q is not a duration (like 30s, 12h)", n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.String:
		if d.scalar(n, path, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		var b bool
		if !d.scalar(n, path, "true or false") {
			return
		}
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errs.add(path, n.Line, "%q is not true or false", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int64
		if !d.scalar(n, path, "an integer") {
			return
		}
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errs.add(path, n.Line, "%q is not an integer", n.Value)
			return
		}
		v.SetInt(i)
	default:
		d.errs.add(path, n.Line, "unsupported field type %s", v.Type())
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

func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errs.add(path, n.Line, "must be %s, not %s", want, kindName(n))
		return false
	}
	return true
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errs.add(path, n.Line, "must be a list, not %s", kindName(n))
		return
	}
	if len(n.Content) > MaxItems {
		d.errs.add(path, n.Line, "has %d entries, the limit is %d", len(n.Content), MaxItems)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), indexPath(path, i))
	}
	v.Set(s)
}

// pairs checks that n is a mapping with unique plain scalar keys and calls f
// for each pair.
func (d *decoder) pairs(n *yaml.Node, path string, f func(key string, k, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errs.add(path, n.Line, "must be a mapping, not %s", kindName(n))
		return
	}
	if len(n.Content)/2 > MaxItems {
		d.errs.add(path, n.Line, "has %d entries, the limit is %d", len(n.Content)/2, MaxItems)
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
			d.errs.add(path, k.Line, "keys must be strings, not %s", kindName(k))
		case k.ShortTag() == "!!merge":
			d.errs.add(path, k.Line, "merge keys (<<) are not supported")
		case seen[k.Value]:
			d.errs.add(keyPath(path, k.Value), k.Line, "duplicate key")
		default:
			seen[k.Value] = true
			f(k.Value, k, val)
		}
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.pairs(n, path, func(key string, _, val *yaml.Node) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, keyPath(path, key))
		m.SetMapIndex(reflect.ValueOf(key), e)
	})
	if n.Kind == yaml.MappingNode {
		v.Set(m)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	d.pairs(n, path, func(key string, k, val *yaml.Node) {
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == key && name != "-" && t.Field(i).IsExported() {
				d.decode(val, v.Field(i), fieldPath(path, key))
				return
			}
		}
		d.errs.add(fieldPath(path, key), k.Line, "unknown field (known: %s)", strings.Join(fieldNames(t), ", "))
	})
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" && t.Field(i).IsExported() {
			names = append(names, name)
		}
	}
	return names
}
