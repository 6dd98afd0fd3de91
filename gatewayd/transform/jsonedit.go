package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"cairn.dev/cairn/gatewayd/internal/jsonscan"
)

// jsonEdits is a compiled gwconfig.JSONEdits.
type jsonEdits struct {
	remove [][]string
	rename []jsonRename // sorted by from
	add    []jsonAdd    // sorted by path, so a parent is set before its children
}

type jsonRename struct{ from, to []string }

type jsonAdd struct {
	path []string
	raw  json.RawMessage
}

func (e *jsonEdits) empty() bool {
	return len(e.remove) == 0 && len(e.rename) == 0 && len(e.add) == 0
}

// splitPath splits a dot path into its keys; it must be valid UTF-8.
func splitPath(p string) ([]string, error) {
	if !utf8.ValidString(p) {
		return nil, fmt.Errorf("%w: %q is not utf-8", ErrBadPath, p)
	}
	parts := strings.Split(p, ".")
	for _, s := range parts {
		if s == "" {
			return nil, fmt.Errorf("%w: %q", ErrBadPath, p)
		}
	}
	return parts, nil
}

func compileJSON(remove []string, rename map[string]string, add map[string]any) (jsonEdits, error) {
	var e jsonEdits
	for _, p := range remove {
		path, err := splitPath(p)
		if err != nil {
			return e, err
		}
		e.remove = append(e.remove, path)
	}
	froms := make([]string, 0, len(rename))
	for from := range rename {
		froms = append(froms, from)
	}
	sort.Strings(froms)
	for _, from := range froms {
		f, err := splitPath(from)
		if err != nil {
			return e, err
		}
		t, err := splitPath(rename[from])
		if err != nil {
			return e, err
		}
		e.rename = append(e.rename, jsonRename{from: f, to: t})
	}
	paths := make([]string, 0, len(add))
	for p := range add {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		path, err := splitPath(p)
		if err != nil {
			return e, err
		}
		raw, err := json.Marshal(jsonable(add[p]))
		if err != nil {
			return e, fmt.Errorf("%w: %s: %v", ErrBadValue, p, err)
		}
		e.add = append(e.add, jsonAdd{path: path, raw: raw})
	}
	return e, nil
}

// jsonable converts YAML-decoded maps with non-string keys into maps
// encoding/json accepts.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = jsonable(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = jsonable(x)
		}
		return s
	}
	return v
}

// apply edits body, a JSON object. It returns the body unchanged and false
// when it is not a JSON object or no edit changed it.
func (e *jsonEdits) apply(body []byte) ([]byte, bool) {
	root, err := parseObject(body)
	if err != nil {
		return body, false
	}
	changed := false
	for _, p := range e.remove {
		changed = root.remove(p) || changed
	}
	for _, r := range e.rename {
		if v, ok := root.get(r.from); ok {
			root.remove(r.from)
			changed = root.set(r.to, v) || changed
		}
	}
	for _, a := range e.add {
		changed = root.set(a.path, member{raw: a.raw}) || changed
	}
	if !changed {
		return body, false
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + 64)
	root.encode(&buf)
	return buf.Bytes(), true
}

// object is a JSON object being edited: its members in document order.
// Members are parsed lazily: a value stays raw bytes unless an edit path
// goes through it.
type object struct {
	members []member
}

// member is one object member; exactly one of raw and obj is set (key is
// unused for values carried between members).
type member struct {
	key string
	raw json.RawMessage
	obj *object
}

// parseObject parses data, which must hold exactly one JSON object. It
// validates data once (json.Valid) and then splits members with a small
// scanner that relies on that validity; member values alias data.
func parseObject(data []byte) (*object, error) {
	if !json.Valid(data) {
		return nil, errNotObject
	}
	return splitObject(data)
}

// splitObject splits valid JSON into object members, or fails when it is
// not an object.
func splitObject(data []byte) (*object, error) {
	i := jsonscan.Space(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	o := &object{}
	i = jsonscan.Space(data, i+1)
	if data[i] == '}' {
		return o, nil
	}
	for {
		end := jsonscan.String(data, i)
		key, err := decodeKey(data[i:end])
		if err != nil {
			return nil, err
		}
		i = jsonscan.Space(data, end)
		i = jsonscan.Space(data, i+1) // the colon
		end = jsonscan.Value(data, i)
		o.members = append(o.members, member{key: key, raw: data[i:end:end]})
		i = jsonscan.Space(data, end)
		if data[i] == '}' {
			return o, nil
		}
		i = jsonscan.Space(data, i+1) // the comma
	}
}

// decodeKey decodes a quoted JSON string the way encoding/json does
// (invalid UTF-8 becomes U+FFFD); the common plain key is not re-parsed.
func decodeKey(q []byte) (string, error) {
	body := q[1 : len(q)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(q, &s)
	return s, err
}

var errNotObject = errors.New("transform: not a json object")

// last returns the index of the last member named key (the one JSON
// decoders with last-wins semantics see), or -1.
func (o *object) last(key string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// child returns the object held by member i, parsing it on first use, or
// nil when the value is not an object.
func (o *object) child(i int) *object {
	m := &o.members[i]
	if m.obj == nil {
		c, err := splitObject(m.raw)
		if err != nil {
			return nil
		}
		m.obj, m.raw = c, nil
	}
	return m.obj
}

// walk returns the object holding the last key of path; with create it
// makes missing intermediate objects. A non-object on the way gives nil.
func (o *object) walk(path []string, create bool) *object {
	cur := o
	for _, k := range path[:len(path)-1] {
		i := cur.last(k)
		if i < 0 {
			if !create {
				return nil
			}
			cur.members = append(cur.members, member{key: k, obj: &object{}})
			i = len(cur.members) - 1
		}
		if cur = cur.child(i); cur == nil {
			return nil
		}
	}
	return cur
}

// get returns the value at path.
func (o *object) get(path []string) (member, bool) {
	p := o.walk(path, false)
	if p == nil {
		return member{}, false
	}
	i := p.last(path[len(path)-1])
	if i < 0 {
		return member{}, false
	}
	return p.members[i], true
}

// remove deletes every member at path and reports whether one existed.
func (o *object) remove(path []string) bool {
	p := o.walk(path, false)
	if p == nil {
		return false
	}
	key := path[len(path)-1]
	kept := p.members[:0]
	for _, m := range p.members {
		if m.key != key {
			kept = append(kept, m)
		}
	}
	removed := len(kept) != len(p.members)
	clear(p.members[len(kept):])
	p.members = kept
	return removed
}

// set puts v at path: in place of the first member of that name (dropping
// any duplicates) or appended. It reports false only when a non-object on
// the way makes the path unreachable.
func (o *object) set(path []string, v member) bool {
	p := o.walk(path, true)
	if p == nil {
		return false
	}
	v.key = path[len(path)-1]
	at := -1
	kept := p.members[:0]
	for _, m := range p.members {
		if m.key == v.key {
			if at >= 0 {
				continue
			}
			at = len(kept)
		}
		kept = append(kept, m)
	}
	clear(p.members[len(kept):])
	p.members = kept
	if at >= 0 {
		p.members[at] = v
	} else {
		p.members = append(p.members, v)
	}
	return true
}

// encode writes o as compact JSON; raw member values are written as they
// were.
func (o *object) encode(buf *bytes.Buffer) {
	buf.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, m.key)
		buf.WriteByte(':')
		if m.obj != nil {
			m.obj.encode(buf)
		} else {
			buf.Write(m.raw)
		}
	}
	buf.WriteByte('}')
}

// writeString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(byte(r))
		case r < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[r>>4])
			buf.WriteByte(hex[r&0xf])
		case r == utf8.RuneError:
			buf.WriteString(`\ufffd`)
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}
