package httpcache

import (
	"net/http"
	"strconv"
	"strings"
)

// maxDelta caps delta-seconds values (RFC 9111 §1.2.2).
const maxDelta = 1<<31 - 1

// directives holds the cache directives of one field (Cache-Control,
// CDN-Cache-Control or Surrogate-Control) that the engine acts on. Seconds
// are -1 when absent; the first occurrence of a directive wins; a malformed
// value counts as 0. Qualified no-cache and private (with field names) are
// treated as their unqualified forms, which is stricter and allowed.
type directives struct {
	noStore, noCache, private, public, mustRevalidate, proxyRevalidate bool
	onlyIfCached                                                       bool
	maxAge, sMaxAge, swr, sie, minFresh                                int64
	// maxStale is the request's max-stale: -1 absent, maxDelta without a value.
	maxStale int64
}

func parseDirectives(lines []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1, swr: -1, sie: -1, minFresh: -1, maxStale: -1}
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			name, val, hasVal := strings.Cut(strings.TrimSpace(part), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			// Surrogate-Control targets a directive with ";device".
			if i := strings.IndexByte(val, ';'); i >= 0 {
				val = val[:i]
			}
			switch name {
			case "no-store":
				d.noStore = true
			case "no-cache":
				d.noCache = true
			case "private":
				d.private = true
			case "public":
				d.public = true
			case "must-revalidate":
				d.mustRevalidate = true
			case "proxy-revalidate":
				d.proxyRevalidate = true
			case "only-if-cached":
				d.onlyIfCached = true
			case "max-age":
				setOnce(&d.maxAge, val)
			case "s-maxage":
				setOnce(&d.sMaxAge, val)
			case "stale-while-revalidate":
				setOnce(&d.swr, val)
			case "stale-if-error":
				setOnce(&d.sie, val)
			case "min-fresh":
				setOnce(&d.minFresh, val)
			case "max-stale":
				if d.maxStale < 0 {
					if hasVal {
						d.maxStale = parseDelta(val)
					} else {
						d.maxStale = maxDelta
					}
				}
			}
		}
	}
	return d
}

func setOnce(dst *int64, val string) {
	if *dst < 0 {
		*dst = parseDelta(val)
	}
}

// parseDelta parses delta-seconds (quotes tolerated); malformed gives 0,
// overflow gives maxDelta.
func parseDelta(s string) int64 {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxDelta {
		return maxDelta
	}
	return n
}

// requestDirectives reads a request's Cache-Control, and Pragma: no-cache
// when the request has no Cache-Control (RFC 9111 §5.4).
func requestDirectives(h http.Header) directives {
	d := parseDirectives(h["Cache-Control"])
	if len(h["Cache-Control"]) == 0 {
		for _, p := range h["Pragma"] {
			if strings.Contains(strings.ToLower(p), "no-cache") {
				d.noCache = true
			}
		}
	}
	return d
}

// revalidate reports whether the request asks that a stored response be
// validated with the origin before it is used (no-cache, max-age=0).
func (d directives) revalidate() bool { return d.noCache || d.maxAge == 0 }
