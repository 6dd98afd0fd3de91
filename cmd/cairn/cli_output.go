package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// printer writes the results of client commands in the --output format: with
// json, one JSON object per line (see jsonValue for the encoding); otherwise
// the command's own table or text. Every client command prints through one.
// A printer is not safe for concurrent use.
type printer struct {
	w    io.Writer
	json bool
}

// print writes v (a proto.Message or any value encoding/json takes) as one
// JSON line with --output json, and otherwise calls text.
func (p printer) print(v any, text func(w io.Writer) error) error {
	if p.json {
		return writeJSON(p.w, v)
	}
	return text(p.w)
}

// writeJSON writes v as one line of JSON; a proto.Message goes through
// protoObject first.
func writeJSON(w io.Writer, v any) error {
	if m, ok := v.(proto.Message); ok {
		v = protoObject(m.ProtoReflect())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// jsonObject is a JSON object that keeps its fields in order.
type jsonObject []jsonField

type jsonField struct {
	name  string
	value any
}

// MarshalJSON writes the fields in order.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		buf.Write(k)
		buf.WriteByte(':')
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// encodeBytes returns b as a JSON string and its encoding: b itself and "" when
// it is valid UTF-8, else its standard base64 and "base64". A field "value"
// holding b gets a sibling "value_encoding" with the encoding when it is not "".
func encodeBytes(b []byte) (s, encoding string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// protoObject converts a message into the CLI's JSON: fields by their proto
// (snake_case) names in declaration order; integers of every size as JSON
// numbers (unlike protojson, which quotes 64-bit ones); bytes as UTF-8 strings,
// or base64 with a "<name>_encoding": "base64" sibling; enums as their value
// name without the enum's common prefix, lowercased ("put", not
// "EVENT_TYPE_PUT"); Timestamps as RFC 3339 strings and Durations as Go
// duration strings; repeated fields always (empty: []); scalars always; unset
// messages and unset oneof members left out.
func protoObject(m protoreflect.Message) jsonObject {
	switch v := m.Interface().(type) {
	case *timestamppb.Timestamp:
		return jsonObject{{"time", v.AsTime().Format(time.RFC3339Nano)}}
	case *durationpb.Duration:
		return jsonObject{{"duration", v.AsDuration().String()}}
	}
	fields := m.Descriptor().Fields()
	obj := make(jsonObject, 0, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := string(fd.Name())
		switch {
		case fd.IsList():
			list := m.Get(fd).List()
			out := make([]any, 0, list.Len())
			for j := 0; j < list.Len(); j++ {
				out = append(out, protoScalar(fd, list.Get(j)))
			}
			obj = append(obj, jsonField{name, out})
		case fd.IsMap():
			out := jsonObject{}
			m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				out = append(out, jsonField{k.String(), protoScalar(fd.MapValue(), v)})
				return true
			})
			obj = append(obj, jsonField{name, out})
		case (fd.ContainingOneof() != nil || fd.Message() != nil) && !m.Has(fd):
			// unset oneof member or message: left out
		case fd.Kind() == protoreflect.BytesKind:
			s, enc := encodeBytes(m.Get(fd).Bytes())
			obj = append(obj, jsonField{name, s})
			if enc != "" {
				obj = append(obj, jsonField{name + "_encoding", enc})
			}
		default:
			obj = append(obj, jsonField{name, protoScalar(fd, m.Get(fd))})
		}
	}
	return obj
}

// protoScalar converts one singular value of field fd (or a list element).
func protoScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		obj := protoObject(v.Message())
		if len(obj) == 1 && (obj[0].name == "time" || obj[0].name == "duration") {
			switch v.Message().Interface().(type) {
			case *timestamppb.Timestamp, *durationpb.Duration:
				return obj[0].value
			}
		}
		return obj
	case protoreflect.EnumKind:
		return enumName(fd.Enum(), v.Enum())
	case protoreflect.BytesKind:
		// A list element: no sibling to name the encoding, so always base64
		// unless UTF-8 (the caller's field doc says which).
		s, _ := encodeBytes(v.Bytes())
		return s
	}
	return v.Interface()
}

// enumName is the name of value n of enum ed without the prefix all its values
// share, lowercased: EVENT_TYPE_PUT → "put". Unknown numbers print as numbers.
func enumName(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) any {
	vd := ed.Values().ByNumber(n)
	if vd == nil {
		return int32(n)
	}
	values := ed.Values()
	prefix := string(values.Get(0).Name())
	for i := 1; i < values.Len(); i++ {
		name := string(values.Get(i).Name())
		for !strings.HasPrefix(name, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if k := strings.LastIndexByte(prefix, '_'); k >= 0 {
		prefix = prefix[:k+1]
	} else {
		prefix = ""
	}
	name := strings.TrimPrefix(string(vd.Name()), prefix)
	if name == "" {
		name = string(vd.Name())
	}
	return strings.ToLower(name)
}

// textValue writes a value for a person or a pipe: its bytes exactly, then a
// newline unless the value already ends with one or is not valid UTF-8 (binary
// data round-trips byte for byte: `cairn kv get k > file` gives back what
// `cairn kv put k --file file` stored when the file ends with a newline or is
// binary). An empty value prints as an empty line.
func textValue(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	if len(b) > 0 && (b[len(b)-1] == '\n' || !utf8.Valid(b)) {
		return nil
	}
	_, err := fmt.Fprintln(w)
	return err
}
