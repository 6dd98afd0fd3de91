package httpcache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// heuristicStatus lists the status codes that are heuristically cacheable
// (RFC 9110 §15.1): stored without explicit freshness, fresh for a fraction
// of their Last-Modified age.
var heuristicStatus = map[int]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true,
}

// responseRules are the directives that govern a stored response at this
// cache: CDN-Cache-Control when present (RFC 9213: it replaces
// Cache-Control for a CDN), else Cache-Control; surrogate holds
// Surrogate-Control.
type responseRules struct {
	cc        directives
	surrogate directives
}

func rulesOf(h http.Header) responseRules {
	var rr responseRules
	if lines := h["Cdn-Cache-Control"]; len(lines) > 0 {
		rr.cc = parseDirectives(lines)
		rr.surrogate = parseDirectives(nil)
	} else {
		rr.cc = parseDirectives(h["Cache-Control"])
		rr.surrogate = parseDirectives(h["Surrogate-Control"])
	}
	return rr
}

// noStale reports whether stale serving is forbidden: must-revalidate,
// proxy-revalidate, or s-maxage, which implies proxy-revalidate for a
// shared cache (RFC 9111 §5.2.2.10).
func (rr responseRules) noStale() bool {
	return rr.cc.mustRevalidate || rr.cc.proxyRevalidate || rr.cc.sMaxAge >= 0
}

// explicitLifetime returns the freshness lifetime the response states:
// Surrogate-Control max-age, then s-maxage, max-age, then Expires - Date.
// ok is false when the response states none.
func (rr responseRules) explicitLifetime(h http.Header, respTime time.Time) (time.Duration, bool) {
	switch {
	case rr.surrogate.maxAge >= 0:
		return secs(rr.surrogate.maxAge), true
	case rr.cc.sMaxAge >= 0:
		return secs(rr.cc.sMaxAge), true
	case rr.cc.maxAge >= 0:
		return secs(rr.cc.maxAge), true
	}
	if exp, ok := h["Expires"]; ok {
		t, err := http.ParseTime(strings.TrimSpace(first(exp)))
		if err != nil {
			return 0, true // an invalid Expires means already expired
		}
		d := t.Sub(dateOf(h, respTime))
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// dateOf returns the response's Date, or fallback when absent or invalid.
func dateOf(h http.Header, fallback time.Time) time.Time {
	if v := h.Get("Date"); v != "" {
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
	}
	return fallback
}

// lifetime is the freshness lifetime (RFC 9111 §4.2.1), with the
// heuristic for heuristically cacheable codes without explicit freshness.
// ok is false when the response has neither.
func (c *Cache) lifetime(status int, h http.Header, rr responseRules, respTime time.Time) (time.Duration, bool) {
	if d, ok := rr.explicitLifetime(h, respTime); ok {
		return d, true
	}
	if rr.cc.public || heuristicStatus[status] {
		if lm, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
			age := dateOf(h, respTime).Sub(lm)
			if age <= 0 {
				return 0, true
			}
			d := time.Duration(float64(age) * c.opts.HeuristicFraction)
			return min(d, c.opts.HeuristicMax), true
		}
		return 0, true // storable, stale at once: useful with a validator
	}
	return 0, false
}

// initialAge is corrected_initial_age of RFC 9111 §4.2.3.
func initialAge(h http.Header, reqTime, respTime time.Time) time.Duration {
	apparent := max(respTime.Sub(dateOf(h, respTime)), 0)
	var ageValue time.Duration
	if v := strings.TrimSpace(h.Get("Age")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			ageValue = secs(min(n, maxDelta))
		}
	}
	corrected := ageValue + max(respTime.Sub(reqTime), 0)
	return max(apparent, corrected)
}

// currentAge is current_age of RFC 9111 §4.2.3.
func (m *meta) currentAge(now time.Time) time.Duration {
	return m.initialAge + max(now.Sub(m.respTime), 0)
}

// staleness is how long past its freshness the entry is at now (<= 0:
// fresh). A soft-purged entry is stale since its purge.
func (m *meta) staleness(now time.Time) time.Duration {
	s := m.currentAge(now) - m.lifetime
	if m.has(flagSoftPurged) {
		s = max(s, now.Sub(m.softPurged), 0)
	}
	return s
}

// fresh reports whether the entry is fresh at now.
func (m *meta) fresh(now time.Time) bool {
	return !m.has(flagSoftPurged) && m.currentAge(now) < m.lifetime
}

// notStorable names why a response is not stored ("" when it may be).
// Responses with Set-Cookie are never stored: they are usually personal,
// and a shared cache replaying them would hand one user's cookie to others.
func (c *Cache) notStorable(req directives, reqHeader http.Header, status int, h http.Header, rr responseRules) string {
	switch {
	case req.noStore:
		return "request no-store"
	case status < 200 || status == 206 || status == 304 || status > 599:
		return "status"
	case rr.cc.noStore || rr.surrogate.noStore:
		return "no-store"
	case rr.cc.private:
		return "private"
	case reqHeader.Get("Authorization") != "" && !rr.cc.public && rr.cc.sMaxAge < 0 && !rr.cc.mustRevalidate:
		return "authorization"
	case len(h["Set-Cookie"]) > 0:
		return "set-cookie"
	}
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == "*" {
				return "vary *"
			}
		}
	}
	return ""
}
