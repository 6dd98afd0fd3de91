package es

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// obj is a JSON object that keeps its fields in the order they were added,
// so that responses read as Elasticsearch prints them.
type obj []field

type field struct {
	k string
	v any
}

// add appends k: v and returns the object.
func (o obj) add(k string, v any) obj { return append(o, field{k, v}) }

// MarshalJSON writes the fields in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		buf.Write(k)
		buf.WriteByte(':')
		b, err := marshal(f.v)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// rawOr returns b as raw JSON, or def when b is empty.
func rawOr(b []byte, def string) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage(def)
	}
	return json.RawMessage(b)
}

// contentType is the Content-Type of a JSON response to r: Elasticsearch's
// versioned media type when the client asked for it (the official clients'
// compatibility mode), application/json otherwise.
func contentType(r *http.Request) string {
	if strings.Contains(r.Header.Get("Accept"), "vnd.elasticsearch+json") {
		return "application/vnd.elasticsearch+json;compatible-with=8"
	}
	return "application/json; charset=UTF-8"
}

// writeJSON writes v with status; ?pretty indents it as Elasticsearch does.
// A HEAD request gets the status and headers only.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = marshal(errorBody(&esError{status: status, typ: "exception", reason: "rendering the response: " + err.Error()}))
	}
	if pretty(r) {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") == nil {
			b = out.Bytes()
		}
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", contentType(r))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// pretty reports whether the request asked for indented JSON (?pretty or
// ?pretty=true).
func pretty(r *http.Request) bool {
	q := r.URL.Query()
	if !q.Has("pretty") {
		return false
	}
	v := q.Get("pretty")
	return v == "" || v == "true"
}
