package query

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// object is a decoded JSON object whose values are still raw.
type object map[string]json.RawMessage

// keys returns o's keys in byte order, so errors about them are stable.
func (o object) keys() []string {
	ks := make([]string, 0, len(o))
	for k := range o {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// decodeObject decodes raw as a JSON object.
func decodeObject(raw json.RawMessage, path string) (object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, parseErr(path, "expected an object, got %s", describe(raw))
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, parseErr(path, "malformed JSON: %v", err)
	}
	return o, nil
}

// decodeArray decodes raw as a JSON array; a single value counts as an
// array of one when single is true.
func decodeArray(raw json.RawMessage, path string, single bool) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, parseErr(path, "malformed JSON: %v", err)
		}
		return a, nil
	}
	if single && len(raw) > 0 {
		return []json.RawMessage{raw}, nil
	}
	return nil, parseErr(path, "expected an array, got %s", describe(raw))
}

// describe names the JSON type of raw for error messages.
func describe(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// isString reports whether raw is a JSON string.
func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func asString(raw json.RawMessage, path string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", parseErr(path, "expected a string, got %s", describe(raw))
	}
	return s, nil
}

// asText accepts a string, number or boolean as text (Elasticsearch is
// lenient about query text).
func asText(raw json.RawMessage, path string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isString(raw) {
		return asString(raw, path)
	}
	if len(raw) > 0 && raw[0] != '{' && raw[0] != '[' && raw[0] != 'n' {
		return string(raw), nil
	}
	return "", parseErr(path, "expected text, got %s", describe(raw))
}

func asStrings(raw json.RawMessage, path string) ([]string, error) {
	items, err := decodeArray(raw, path, true)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], err = asText(it, path+"["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func asFloat(raw json.RawMessage, path string) (float64, error) {
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if isString(raw) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, parseErr(path, "expected a number")
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, parseErr(path, "expected a number, got %s", describe(raw))
	}
	return f, nil
}

func asInt(raw json.RawMessage, path string) (int, error) {
	f, err := asFloat(raw, path)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, parseErr(path, "expected an integer, got %s", string(raw))
	}
	return int(f), nil
}

func asBool(raw json.RawMessage, path string) (bool, error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	}
	return false, parseErr(path, "expected a boolean, got %s", describe(raw))
}

func asBoost(raw json.RawMessage, path string) (float64, error) {
	b, err := asFloat(raw, path)
	if err != nil {
		return 0, err
	}
	if b < 0 {
		return 0, parseErr(path, "negative boost %v", b)
	}
	return b, nil
}

// singleKey returns the only key of o; Elasticsearch's clause objects name
// exactly one query type or field.
func singleKey(o object, path, what string) (string, json.RawMessage, error) {
	if len(o) == 1 {
		for k, v := range o {
			return k, v, nil
		}
	}
	return "", nil, parseErr(path, "expected exactly one %s, got %d (%s)", what, len(o), strings.Join(o.keys(), ", "))
}
