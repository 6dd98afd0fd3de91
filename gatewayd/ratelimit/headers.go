package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names written by SetHeaders (draft-ietf-httpapi-ratelimit-headers,
// the widely deployed separate-fields form, and RFC 9110 Retry-After).
const (
	HeaderLimit      = "RateLimit-Limit"
	HeaderRemaining  = "RateLimit-Remaining"
	HeaderReset      = "RateLimit-Reset"
	HeaderPolicy     = "RateLimit-Policy"
	HeaderRetryAfter = "Retry-After"
)

// SetHeaders writes the rate-limit fields for the decisions of one request.
// RateLimit-Limit, -Remaining and -Reset (whole seconds, rounded up) come
// from the most restrictive decision: a denied one before an allowed one,
// then the fewest remaining, then the longest reset. RateLimit-Policy lists
// every decision's quota as "<limit>;w=<seconds>", comma-separated. When any
// decision denies, Retry-After is the longest RetryAfter of the denials in
// whole seconds, at least 1. With no decisions nothing is written.
func SetHeaders(h http.Header, ds ...Decision) {
	if len(ds) == 0 {
		return
	}
	most := 0
	var retry time.Duration
	denied := false
	for i, d := range ds {
		if !d.Allowed {
			denied = true
			retry = max(retry, d.RetryAfter)
		}
		if moreRestrictive(d, ds[most]) {
			most = i
		}
	}
	d := ds[most]
	h.Set(HeaderLimit, strconv.FormatInt(d.Limit, 10))
	h.Set(HeaderRemaining, strconv.FormatInt(max(0, d.Remaining), 10))
	h.Set(HeaderReset, strconv.FormatInt(seconds(d.Reset, 0), 10))
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(d.Limit, 10))
		b.WriteString(";w=")
		b.WriteString(strconv.FormatInt(seconds(d.Window, 1), 10))
	}
	h.Set(HeaderPolicy, b.String())
	if denied {
		h.Set(HeaderRetryAfter, strconv.FormatInt(seconds(retry, 1), 10))
	} else {
		h.Del(HeaderRetryAfter)
	}
}

// moreRestrictive reports whether a says less about the client's freedom
// than b: denied first, then fewer remaining, then a longer reset.
func moreRestrictive(a, b Decision) bool {
	if a.Allowed != b.Allowed {
		return !a.Allowed
	}
	if a.Remaining != b.Remaining {
		return a.Remaining < b.Remaining
	}
	return a.Reset > b.Reset
}

// seconds is d in whole seconds rounded up, at least floor.
func seconds(d time.Duration, floor int64) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return max(floor, s)
}
