package respcache

import (
	"net/http"
	"strconv"
	"strings"
)

// maxDelta caps delta-seconds values (RFC 9111 §1.2.2).
const maxDelta = 1<<31 - 1

// cacheControl holds the Cache-Control directives respcache acts on. Ages
// are seconds, -1 when absent. The first occurrence of a directive wins;
// a malformed age counts as 0 (stale).
type cacheControl struct {
	noStore, noCache, private, public, mustRevalidate bool
	maxAge, sMaxAge                                   int64
}

// parseCacheControl reads every Cache-Control field line of h.
func parseCacheControl(h http.Header) cacheControl {
	cc := cacheControl{maxAge: -1, sMaxAge: -1}
	for _, line := range h["Cache-Control"] {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.TrimSpace(name)
			switch {
			case strings.EqualFold(name, "no-store"):
				cc.noStore = true
			case strings.EqualFold(name, "no-cache"):
				cc.noCache = true // qualified or not: respcache never revalidates
			case strings.EqualFold(name, "private"):
				cc.private = true
			case strings.EqualFold(name, "public"):
				cc.public = true
			case strings.EqualFold(name, "must-revalidate"), strings.EqualFold(name, "proxy-revalidate"):
				cc.mustRevalidate = true
			case strings.EqualFold(name, "max-age"):
				if cc.maxAge < 0 {
					cc.maxAge = parseDelta(val)
				}
			case strings.EqualFold(name, "s-maxage"):
				if cc.sMaxAge < 0 {
					cc.sMaxAge = parseDelta(val)
				}
			}
		}
	}
	return cc
}

// parseDelta parses delta-seconds (quotes tolerated); malformed gives 0.
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

// requestBypass reports whether a request's directives forbid answering
// it from the cache: no-cache, max-age=0, or Pragma: no-cache without
// Cache-Control. maxAge is the request's max-age (-1: none).
func requestBypass(h http.Header) (bypass bool, maxAge int64) {
	if len(h["Cache-Control"]) == 0 {
		for _, p := range h["Pragma"] {
			if strings.Contains(strings.ToLower(p), "no-cache") {
				return true, -1
			}
		}
		return false, -1
	}
	cc := parseCacheControl(h)
	return cc.noCache || cc.maxAge == 0, cc.maxAge
}
