package transcode

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// queryJSON turns GET query parameters into the JSON object of a request
// message of type md: each parameter names a top-level field (by JSON or
// proto name) that is a scalar, an enum or bytes, singular (one value) or
// repeated (any number of values). The values keep their text: protojson
// then parses numbers, base64 bytes and enum names as in a body. An empty
// query gives nil.
func queryJSON(md protoreflect.MessageDescriptor, q url.Values) ([]byte, error) {
	if len(q) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	obj := make(map[string]json.RawMessage, len(q))
	fields := md.Fields()
	for _, k := range keys {
		fd := fields.ByJSONName(k)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(k))
		}
		if fd == nil {
			return nil, fmt.Errorf("query parameter %q: no such field", k)
		}
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			return nil, fmt.Errorf("query parameter %q: field %s is a message; send it in a POST body", k, fd.Name())
		}
		vals := q[k]
		if !fd.IsList() && len(vals) > 1 {
			return nil, fmt.Errorf("query parameter %q: given %d times for a field that is not repeated", k, len(vals))
		}
		raws := make([]json.RawMessage, len(vals))
		for i, v := range vals {
			raws[i] = queryValue(fd, v)
		}
		if fd.IsList() {
			list, err := json.Marshal(raws)
			if err != nil {
				return nil, fmt.Errorf("query parameter %q: %w", k, err)
			}
			obj[fd.JSONName()] = list
		} else {
			obj[fd.JSONName()] = raws[0]
		}
	}
	return json.Marshal(obj)
}

// queryValue is v as the JSON value protojson expects for fd: a literal
// for true/false and for an enum's number, a string otherwise (protojson
// accepts numbers of every numeric kind as strings).
func queryValue(fd protoreflect.FieldDescriptor, v string) json.RawMessage {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if v == "true" || v == "false" {
			return json.RawMessage(v)
		}
	case protoreflect.EnumKind:
		if _, err := strconv.ParseInt(v, 10, 32); err == nil {
			return json.RawMessage(v)
		}
	}
	s, _ := json.Marshal(v) // a string always marshals
	return s
}
