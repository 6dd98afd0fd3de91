package gwconfig

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"cairn.dev/cairn/node/yamldoc"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// keepZero lists the fields whose zero value Marshal writes: their zero is
// meaningful and differs from the default Parse would fill if the field were
// absent.
var keepZero = map[reflect.Type]map[string]bool{
	reflect.TypeOf(Retries{}):        {"Attempts": true},
	reflect.TypeOf(CircuitBreaker{}): {"ConsecutiveFailures": true},
	reflect.TypeOf(JWTProvider{}):    {"Leeway": true},
}

// Marshal encodes the document as YAML that Parse reads back to an equal
// document: fields in declaration order, map keys sorted, durations as Go
// durations ("1m0s"), byte sizes with units ("10MiB"), and empty fields left
// out (except zeros that differ from their default, like retries.attempts:
// 0). Marshal of a parsed document is stable: Marshal(Parse(Marshal(d))) ==
// Marshal(d).
func (d *Document) Marshal() ([]byte, error) {
	n, err := encodeValue(reflect.ValueOf(d).Elem(), true)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("gwconfig: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("gwconfig: marshal: %w", err)
	}
	return b.Bytes(), nil
}

// encodeValue returns the node for v, or nil when v is empty and may be
// left out; force keeps an empty struct as an empty mapping.
func encodeValue(v reflect.Value, force bool) (*yaml.Node, error) {
	switch v.Type() {
	case durationType:
		d := time.Duration(v.Int())
		if d == 0 && !force {
			return nil, nil
		}
		return scalar(formatDuration(d)), nil
	case byteSizeType:
		b := ByteSize(v.Int())
		if b == 0 && !force {
			return nil, nil
		}
		return scalar(b.String()), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return encodeValue(v.Elem(), true)
	case reflect.Struct:
		return encodeStruct(v, force)
	case reflect.Slice:
		if v.Len() == 0 {
			return nil, nil
		}
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := 0; i < v.Len(); i++ {
			item, err := encodeValue(v.Index(i), true)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, item)
		}
		return n, nil
	case reflect.Map:
		if v.Len() == 0 {
			return nil, nil
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			val, err := encodeValue(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), true)
			if err != nil {
				return nil, err
			}
			if val == nil {
				val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
			n.Content = append(n.Content, scalar(k), val)
		}
		return n, nil
	case reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		fallthrough
	default:
		if v.IsZero() && !force {
			return nil, nil
		}
		n := &yaml.Node{}
		if err := n.Encode(v.Interface()); err != nil {
			return nil, fmt.Errorf("gwconfig: marshal: %w", err)
		}
		return n, nil
	}
}

func encodeStruct(v reflect.Value, force bool) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	keep := keepZero[v.Type()]
	for _, f := range yamldoc.Fields(v.Type()) {
		val, err := encodeValue(v.Field(f.Index), keep[v.Type().Field(f.Index).Name])
		if err != nil {
			return nil, err
		}
		if val != nil {
			n.Content = append(n.Content, scalar(f.Name), val)
		}
	}
	if len(n.Content) == 0 && !force {
		return nil, nil
	}
	return n, nil
}

// formatDuration is d.String() without zero trailing units: "24h", "2m",
// "1m30s", "500ms".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// scalar is a string node, quoted by the encoder when it would otherwise
// read back as another type.
func scalar(s string) *yaml.Node {
	n := &yaml.Node{}
	_ = n.Encode(s) // encoding a string cannot fail
	return n
}
