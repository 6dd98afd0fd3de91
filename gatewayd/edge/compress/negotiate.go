package compress

import (
	"strconv"
	"strings"
)

// Content codings this package produces, in the server's order of
// preference (the smallest output first).
const (
	Brotli = "br"
	Zstd   = "zstd"
	Gzip   = "gzip"
)

// DefaultEncodings is the default order of preference.
var defaultEncodings = []string{Brotli, Zstd, Gzip}

// Negotiate returns the coding a response to a request with this
// Accept-Encoding header value should use: "br", "zstd", "gzip", or ""
// (identity). Among the codings the client accepts (q > 0, explicitly or
// through "*"), the one with the highest q-value wins; ties go to the
// server's order br, zstd, gzip. "x-gzip" counts as gzip. An empty or
// absent header means identity. Malformed elements (a bad q-value) are
// ignored.
func Negotiate(acceptEncoding string) string {
	return negotiate(acceptEncoding, defaultEncodings)
}

// negotiate is Negotiate over the codings prefs, in order of preference.
func negotiate(acceptEncoding string, prefs []string) string {
	if strings.TrimSpace(acceptEncoding) == "" {
		return ""
	}
	const unset = -1.0
	var q [8]float64 // per index in prefs (at most 3 in practice)
	for i := range q {
		q[i] = unset
	}
	star := unset
	for elem := range strings.SplitSeq(acceptEncoding, ",") {
		name, qv, ok := parseElement(elem)
		if !ok {
			continue
		}
		if name == "*" {
			star = qv
			continue
		}
		if name == "x-gzip" {
			name = Gzip
		}
		for i, p := range prefs {
			if i < len(q) && p == name {
				// A coding listed twice keeps its highest q.
				q[i] = max(q[i], qv)
			}
		}
	}
	best, bestQ := "", 0.0
	for i, p := range prefs {
		if i >= len(q) {
			break
		}
		v := q[i]
		if v == unset {
			v = star
		}
		if v > bestQ {
			best, bestQ = p, v
		}
	}
	return best
}

// parseElement parses one Accept-Encoding element "coding[;q=v]" into its
// lowercased coding and q-value. ok is false for an empty or malformed
// element.
func parseElement(elem string) (name string, q float64, ok bool) {
	name, params, _ := strings.Cut(elem, ";")
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", 0, false
	}
	q = 1
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(p, "=")
		if !found {
			if strings.TrimSpace(p) == "" {
				continue
			}
			return "", 0, false
		}
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		f, err := strconv.ParseFloat(v, 64)
		// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
		if err != nil || f < 0 || f > 1 || len(v) > 5 || strings.ContainsAny(v, "eE+-xXpPnN_") {
			return "", 0, false
		}
		q = f
	}
	return name, q, true
}
