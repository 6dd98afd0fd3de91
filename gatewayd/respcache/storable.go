package respcache

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// heuristic are the status codes cacheable by default (RFC 9110 §15.1):
// stored with the route's TTL when the response gives no freshness.
var heuristic = map[int]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true,
}

// explicitOnly are further final status codes stored only when the
// response gives its own freshness lifetime.
var explicitOnly = map[int]bool{302: true, 303: true, 307: true, 451: true}

// Storable reports whether a shared cache may store resp, the answer to r,
// for a route cached by spec, and for how long. See StorableHeader.
func Storable(r *http.Request, resp *http.Response, spec *gwconfig.Cache) (time.Duration, bool) {
	return StorableHeader(r, resp.StatusCode, resp.Header, spec, time.Now())
}

// StorableHeader applies RFC 9111's rules for a shared cache that never
// revalidates. Not stored: requests other than GET, a nil spec, request or
// response no-store, response private or no-cache (qualified or not), a
// Set-Cookie, Vary: *, requests with credentials (Authorization, or the
// gateway's X-API-Key) unless the response is public, has s-maxage or
// must-revalidate, and status codes outside
// heuristic/explicitOnly (never 206 or 5xx but 501). The lifetime is
// s-maxage, else max-age, else Expires − Date (Date defaults to now), else,
// for the heuristic status codes, spec.TTL (0: not stored); minus the
// response's Age. A lifetime that is not positive is not stored.
func StorableHeader(r *http.Request, status int, h http.Header, spec *gwconfig.Cache, now time.Time) (time.Duration, bool) {
	if spec == nil || r.Method != http.MethodGet {
		return 0, false
	}
	if !heuristic[status] && !explicitOnly[status] {
		return 0, false
	}
	if rcc := parseCacheControl(r.Header); rcc.noStore {
		return 0, false
	}
	cc := parseCacheControl(h)
	if cc.noStore || cc.private || cc.noCache {
		return 0, false
	}
	if len(h["Set-Cookie"]) > 0 || varyStar(h) {
		return 0, false
	}
	if authenticated(r) && !cc.public && cc.sMaxAge < 0 && !cc.mustRevalidate {
		return 0, false
	}
	var lifetime time.Duration
	switch {
	case cc.sMaxAge >= 0:
		lifetime = time.Duration(cc.sMaxAge) * time.Second
	case cc.maxAge >= 0:
		lifetime = time.Duration(cc.maxAge) * time.Second
	case len(h["Expires"]) > 0:
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0, false // an invalid Expires means already expired
		}
		date := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			date = d
		}
		lifetime = exp.Sub(date)
	case heuristic[status]:
		lifetime = spec.TTL
	}
	lifetime -= responseAge(h)
	if lifetime <= 0 {
		return 0, false
	}
	return lifetime, true
}

// responseAge is the Age a response arrived with (0 if none or malformed).
func responseAge(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Age"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	if n > maxDelta {
		n = maxDelta
	}
	return time.Duration(n) * time.Second
}

// varyStar reports whether h's Vary lists "*".
func varyStar(h http.Header) bool {
	for _, line := range h["Vary"] {
		for f := range strings.SplitSeq(line, ",") {
			if strings.TrimSpace(f) == "*" {
				return true
			}
		}
	}
	return false
}

// authenticated reports whether r carries credentials: a response to it
// may be meant for that caller only.
func authenticated(r *http.Request) bool {
	return len(r.Header["Authorization"]) > 0 || len(r.Header["X-Api-Key"]) > 0
}
