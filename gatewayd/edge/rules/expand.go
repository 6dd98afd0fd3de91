package rules

import (
	"net/url"
	"regexp"
)

// expand is template expanded as by regexp.Expand with the match m of re
// in src (a decoded path), every captured text path-escaped first (as in
// URL.EscapedPath: "/" kept, "?", "#", "%", spaces and non-ASCII escaped),
// so a capture cannot end the path or start a query.
func expand(re *regexp.Regexp, template, src string, m []int) string {
	var esc []byte
	idx := make([]int, len(m))
	for i := 0; i+1 < len(m); i += 2 {
		if m[i] < 0 {
			idx[i], idx[i+1] = -1, -1
			continue
		}
		idx[i] = len(esc)
		esc = append(esc, escapePath(src[m[i]:m[i+1]])...)
		idx[i+1] = len(esc)
	}
	return string(re.ExpandString(nil, template, string(esc), idx))
}

func escapePath(s string) string { return (&url.URL{Path: s}).EscapedPath() }
