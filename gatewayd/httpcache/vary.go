package httpcache

import (
	"hash/fnv"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// varyNames returns the canonical, sorted, deduplicated field names of a
// response's Vary header.
func varyNames(h http.Header) []string {
	var names []string
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" || f == "*" {
				continue
			}
			names = append(names, textproto.CanonicalMIMEHeaderKey(f))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// varyValues returns the normalised request values of names: field lines
// joined with ", ", whitespace trimmed and collapsed; Accept-Encoding
// reduced to the best coding the client accepts.
func varyValues(names []string, h http.Header) []string {
	if len(names) == 0 {
		return nil
	}
	vals := make([]string, len(names))
	for i, name := range names {
		v := collapse(strings.Join(h.Values(name), ", "))
		if name == "Accept-Encoding" {
			v = bestEncoding(v)
		}
		vals[i] = v
	}
	return vals
}

func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// codings are the encodings a variant is normalised to, in preference order.
var codings = []string{"br", "zstd", "gzip", "identity"}

// bestEncoding returns the coding of codings with the highest q value in
// accept (ties: preference order); identity is acceptable unless refused.
func bestEncoding(accept string) string {
	q := map[string]float64{}
	star := -1.0
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		w := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					w = f
				} else {
					w = 0
				}
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		if name == "*" {
			star = w
			continue
		}
		if _, seen := q[name]; !seen {
			q[name] = w
		}
	}
	best, bestQ := "identity", 0.0
	for _, c := range codings {
		w, ok := q[c]
		if !ok {
			switch {
			case star >= 0:
				w = star
			case c == "identity":
				w = 0.001 // acceptable when not mentioned (RFC 9110 §12.5.3)
			default:
				w = 0
			}
		}
		if w > bestQ {
			best, bestQ = c, w
		}
	}
	return best
}

// variantID is the storage id of key's variant with these normalised Vary
// values: the key alone, or the key, NUL and a hash of names and values.
// The values are kept in the meta too and compared on lookup, so a hash
// collision is a miss, never a wrong variant.
func variantID(key string, names, values []string) string {
	if len(names) == 0 {
		return key + "\x00"
	}
	h := fnv.New64a()
	for i, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(values[i]))
		h.Write([]byte{0})
	}
	return key + "\x00" + strconv.FormatUint(h.Sum64(), 16)
}

// keyOfID returns the key part of a variant id.
func keyOfID(id string) string {
	if i := strings.LastIndexByte(id, 0); i >= 0 {
		return id[:i]
	}
	return id
}
