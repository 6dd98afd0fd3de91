package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"

	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// jsonKind is the kind of a jsonb node.
type jsonKind uint8

// Ordered as PostgreSQL's jsonb btree order ranks them.
const (
	jsonNull jsonKind = iota
	jsonString
	jsonNumber
	jsonBool
	jsonArray
	jsonObject
)

// jsonNode is a parsed jsonb value. Objects hold their members sorted the
// way jsonb stores them (key length, then bytes), duplicates removed (the
// last one wins).
type jsonNode struct {
	kind jsonKind
	b    bool
	s    string       // string value
	num  *apd.Decimal // number value, normalised
	arr  []*jsonNode
	keys []string
	vals []*jsonNode
}

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 1000

var errJSONDepth = errors.New("json nesting too deep")

// parseJSON parses JSON text into a jsonb tree (22P02 on bad input, as
// PostgreSQL reports it).
func parseJSON(b []byte) (*jsonNode, error) {
	if !utf8.Valid(b) {
		return nil, sqlerr.New(codeCharNotInRepert, "invalid byte sequence for encoding \"UTF8\"")
	}
	if err := checkSurrogates(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := readJSON(dec, 0)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err != nil {
		e := sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json")
		if se, ok := err.(*sqlerr.Error); ok {
			return nil, se
		}
		e.Detail = err.Error()
		return nil, e
	}
	return n, nil
}

func readJSON(dec *json.Decoder, depth int) (*jsonNode, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("The input string ended unexpectedly.")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonNode{kind: jsonNull}, nil
	case bool:
		return &jsonNode{kind: jsonBool, b: t}, nil
	case string:
		if err := checkJSONString(t); err != nil {
			return nil, err
		}
		return &jsonNode{kind: jsonString, s: t}, nil
	case json.Number:
		d, err := parseNumeric(string(t))
		if err != nil {
			return nil, err
		}
		return &jsonNode{kind: jsonNumber, num: d}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &jsonNode{kind: jsonArray}
			for dec.More() {
				el, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, el)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '{':
			m := map[string]*jsonNode{}
			var order []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("expected an object key")
				}
				if err := checkJSONString(k); err != nil {
					return nil, err
				}
				v, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := m[k]; !dup {
					order = append(order, k)
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return newJSONObject(order, m), nil
		}
	}
	return nil, errors.New("unexpected token")
}

// checkJSONString rejects what jsonb cannot store: the NUL character.
func checkJSONString(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			e := sqlerr.New(codeUntranslatable, "unsupported Unicode escape sequence")
			e.Detail = `\u0000 cannot be converted to text.`
			return e
		}
	}
	return nil
}

func newJSONObject(keys []string, m map[string]*jsonNode) *jsonNode {
	sort.Slice(keys, func(i, j int) bool { return jsonKeyLess(keys[i], keys[j]) })
	n := &jsonNode{kind: jsonObject, keys: keys, vals: make([]*jsonNode, len(keys))}
	for i, k := range keys {
		n.vals[i] = m[k]
	}
	return n
}

// jsonKeyLess is jsonb's key order: shorter keys first, then bytewise.
func jsonKeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// appendJSON appends n as PostgreSQL prints jsonb: `{"a": 1, "b": [1, 2]}`.
func appendJSON(dst []byte, n *jsonNode) []byte {
	switch n.kind {
	case jsonNull:
		return append(dst, "null"...)
	case jsonBool:
		if n.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case jsonNumber:
		return appendNumeric(dst, n.num)
	case jsonString:
		return appendJSONString(dst, n.s)
	case jsonArray:
		dst = append(dst, '[')
		for i, el := range n.arr {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendJSON(dst, el)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i, k := range n.keys {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ": "...)
		dst = appendJSON(dst, n.vals[i])
	}
	return append(dst, '}')
}

// appendJSONString appends s quoted as PostgreSQL's escape_json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			if c < 0x20 {
				dst = append(dst, `\u00`...)
				dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// normalizeJSON parses JSON text and returns it as jsonb prints it.
func normalizeJSON(b []byte) (string, error) {
	n, err := parseJSON(b)
	if err != nil {
		return "", err
	}
	return string(appendJSON(nil, n)), nil
}

// JSONField implements -> (asText false) and ->> (asText true) on a jsonb
// value: a text key selects an object member, an integer key an array
// element (negative counts from the end). A missing member, a key of the
// wrong kind for the value, or a NULL operand gives NULL; ->> of a JSON
// null is NULL, ->> of a string is the string itself.
func JSONField(v Value, key Value, asText bool) (Value, error) {
	rt := JSONB
	if asText {
		rt = Text
	}
	if v.Null || key.Null {
		return NullOf(rt), nil
	}
	if v.Type.Kind != KindJSON {
		if v.Type.Kind != KindUnknown && v.Type.Kind != KindText {
			return Value{}, errOperator(jsonOp(asText), v, key)
		}
	}
	n, err := parseJSON([]byte(v.Str))
	if err != nil {
		return Value{}, err
	}
	var el *jsonNode
	switch key.Type.Kind {
	case KindInt:
		switch n.kind {
		case jsonArray:
			i := key.Int
			if i < 0 {
				i += int64(len(n.arr))
			}
			if i >= 0 && i < int64(len(n.arr)) {
				el = n.arr[i]
			}
		case jsonObject:
		default:
			// jsonb keeps a top-level scalar as a one-element array.
			if key.Int == 0 || key.Int == -1 {
				el = n
			}
		}
	case KindText, KindUnknown:
		if n.kind == jsonObject {
			i := sort.Search(len(n.keys), func(i int) bool { return !jsonKeyLess(n.keys[i], key.Str) })
			if i < len(n.keys) && n.keys[i] == key.Str {
				el = n.vals[i]
			}
		}
	default:
		return Value{}, errOperator(jsonOp(asText), v, key)
	}
	if el == nil {
		return NullOf(rt), nil
	}
	if !asText {
		return Value{Type: JSONB, Str: string(appendJSON(nil, el))}, nil
	}
	switch el.kind {
	case jsonNull:
		return NullOf(Text), nil
	case jsonString:
		return NewText(el.s), nil
	}
	return NewText(string(appendJSON(nil, el))), nil
}

func jsonOp(asText bool) string {
	if asText {
		return "->>"
	}
	return "->"
}

// jsonConcat implements jsonb || jsonb: two objects merge (right wins), two
// arrays concatenate, otherwise scalars are wrapped as one-element arrays
// and concatenated.
func jsonConcat(a, b *jsonNode) *jsonNode {
	if a.kind == jsonObject && b.kind == jsonObject {
		m := map[string]*jsonNode{}
		var order []string
		for i, k := range a.keys {
			m[k] = a.vals[i]
			order = append(order, k)
		}
		for i, k := range b.keys {
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = b.vals[i]
		}
		return newJSONObject(order, m)
	}
	elems := func(n *jsonNode) []*jsonNode {
		if n.kind == jsonArray {
			return n.arr
		}
		return []*jsonNode{n}
	}
	out := &jsonNode{kind: jsonArray}
	out.arr = append(append(out.arr, elems(a)...), elems(b)...)
	return out
}

// cmpJSONTop orders two jsonb documents as PostgreSQL's jsonb btree
// opclass does. At the top level a scalar is stored as a one-element
// pseudo-array, so the empty array sorts below every scalar and a
// non-empty array above them; objects sort above everything else.
func cmpJSONTop(a, b *jsonNode) int {
	return cmpInt(int64(jsonTopRank(a)), int64(jsonTopRank(b)))*4 + cmpJSON(a, b)
}

// jsonTopRank is the top-level class: empty array, scalar, non-empty
// array, object.
func jsonTopRank(n *jsonNode) int {
	switch {
	case n.kind == jsonObject:
		return 3
	case n.kind == jsonArray && len(n.arr) == 0:
		return 0
	case n.kind == jsonArray:
		return 2
	}
	return 1
}

// cmpJSON orders jsonb values below the top level (and within one
// top-level class): by kind (null < string < number < boolean < array <
// object), strings bytewise, numbers numerically, arrays by length then
// element by element, objects by member count then key, value, key, value
// … in storage order (keys bytewise).
func cmpJSON(a, b *jsonNode) int {
	if a.kind != b.kind {
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	switch a.kind {
	case jsonNull:
		return 0
	case jsonBool:
		return cmpBool(a.b, b.b)
	case jsonNumber:
		return cmpDec(a.num, b.num)
	case jsonString:
		return cmpString(a.s, b.s)
	case jsonArray:
		if len(a.arr) != len(b.arr) {
			return cmpInt(int64(len(a.arr)), int64(len(b.arr)))
		}
		for i := range a.arr {
			if c := cmpJSON(a.arr[i], b.arr[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	if len(a.keys) != len(b.keys) {
		return cmpInt(int64(len(a.keys)), int64(len(b.keys)))
	}
	for i := range a.keys {
		if c := cmpString(a.keys[i], b.keys[i]); c != 0 {
			return c
		}
		if c := cmpJSON(a.vals[i], b.vals[i]); c != 0 {
			return c
		}
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// jsonTypeName names a jsonb node kind as PostgreSQL does in cast errors.
func jsonTypeName(n *jsonNode) string {
	switch n.kind {
	case jsonNull:
		return "null"
	case jsonString:
		return "string"
	case jsonNumber:
		return "numeric"
	case jsonBool:
		return "boolean"
	case jsonArray:
		return "array"
	}
	return "object"
}

// checkSurrogates rejects \u escapes that are unpaired UTF-16 surrogates,
// which encoding/json would silently turn into U+FFFD and PostgreSQL
// refuses.
func checkSurrogates(b []byte) error {
	bad := func(detail string) error {
		e := sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json")
		e.Detail = detail
		return e
	}
	hex4 := func(i int) (int, bool) {
		if i+4 > len(b) {
			return 0, false
		}
		v := 0
		for _, c := range b[i : i+4] {
			d, ok := unhex(c)
			if !ok {
				return 0, false
			}
			v = v<<4 | int(d)
		}
		return v, true
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++
			continue
		}
		v, ok := hex4(i + 2)
		if !ok {
			continue // encoding/json reports the bad escape
		}
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if w, ok := hex4(i + 8); ok && w >= 0xDC00 && w <= 0xDFFF {
					i += 11
					continue
				}
			}
			return bad("Unicode high surrogate must not follow a high surrogate.")
		case v >= 0xDC00 && v <= 0xDFFF:
			return bad("Unicode low surrogate must follow a high surrogate.")
		}
		i += 5
	}
	return nil
}
