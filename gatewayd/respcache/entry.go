package respcache

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Entry is a stored response. Entries are immutable once stored and are
// shared by concurrent requests: never modify one, its Header or its Body.
type Entry struct {
	// Status is the response's status code.
	Status int
	// Header holds the stored response headers, Content-Length set to the
	// body's length, per-request and hop-by-hop headers removed. Each value
	// slice has no spare capacity, so appending to one copies it.
	Header http.Header
	// Body is the whole response body.
	Body []byte
	// StoredAt is when the entry was stored, on the storing node's clock.
	StoredAt time.Time
	// TTL is the freshness left at StoredAt.
	TTL time.Duration
	// InitialAge is the Age the response already had when stored.
	InitialAge time.Duration
	// Vary holds, for each header the response's Vary names, the values
	// the storing request sent (nil when it sent none).
	Vary []VaryValue

	now func() time.Time         // the clock of the Cache that holds the entry
	age atomic.Pointer[ageValue] // the last Age header written
}

// VaryValue is one request header named by Vary and the storing request's
// values of it.
type VaryValue struct {
	Name   string // canonical
	Values []string
}

// ageValue caches an Age header value for one second of age.
type ageValue struct {
	secs int64
	vals []string
}

// Values written on every hit. The slices have no spare capacity, so a
// handler appending to them copies them.
var (
	xCacheHit      = []string{"HIT"}
	cacheStatusHit = []string{"cairn-gateway; hit"}
)

// Expires is when the entry stops being fresh.
func (e *Entry) Expires() time.Time { return e.StoredAt.Add(e.TTL) }

// Age is the entry's age at now (RFC 9111 §4.2.3, the corrected initial age
// plus the time resident here).
func (e *Entry) Age(now time.Time) time.Duration {
	d := now.Sub(e.StoredAt)
	if d < 0 {
		d = 0
	}
	return e.InitialAge + d
}

// fresh reports whether e may answer at now.
func (e *Entry) fresh(now time.Time) bool { return now.Before(e.Expires()) }

// usable reports whether e may answer r at now: fresh, no older than r's
// max-age and with r's values of the Vary headers.
func (e *Entry) usable(r *http.Request, now time.Time, maxAge int64) bool {
	if !e.fresh(now) {
		return false
	}
	if maxAge >= 0 && e.Age(now) > time.Duration(maxAge)*time.Second {
		return false
	}
	for _, v := range e.Vary {
		if !slices.Equal(r.Header[v.Name], v.Values) {
			return false
		}
	}
	return true
}

// Serve writes e as the answer to r: the status, the stored headers, Age,
// X-Cache: HIT and Cache-Status (RFC 9211), and the body unless r is HEAD
// or the status has none. A conditional request the entry satisfies
// (If-None-Match matching its ETag, or If-Modified-Since not older than
// its Last-Modified) gets 304 Not Modified without content headers.
// Headers already set on w (e.g. a request id) are kept unless the entry
// has them too.
func (e *Entry) Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	h["Age"] = e.ageHeader(now())
	h["X-Cache"] = xCacheHit
	h["Cache-Status"] = cacheStatusHit
	if (len(r.Header["If-None-Match"]) > 0 || len(r.Header["If-Modified-Since"]) > 0) && e.notModified(r) {
		for _, k := range notModifiedDrop {
			delete(h, k)
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead && bodyAllowed(e.Status) {
		w.Write(e.Body)
	}
}

// ageHeader returns the Age header value at now, reusing the last one
// built while the age in seconds is the same.
func (e *Entry) ageHeader(now time.Time) []string {
	secs := int64(e.Age(now) / time.Second)
	if a := e.age.Load(); a != nil && a.secs == secs {
		return a.vals
	}
	a := &ageValue{secs: secs, vals: []string{strconv.FormatInt(secs, 10)}}
	e.age.Store(a)
	return a.vals
}

// bodyAllowed reports whether a response with status may carry a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// unstored lists response headers an entry never keeps: hop-by-hop ones,
// per-response ones the gateway sets, and ones a hit recomputes.
var unstored = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Set-Cookie": true, "Age": true, "X-Cache": true, "Cache-Status": true, "X-Request-Id": true,
	"Content-Length": true, "Ratelimit-Limit": true, "Ratelimit-Remaining": true,
	"Ratelimit-Reset": true, "Ratelimit-Policy": true, "Ratelimit": true,
}

// newEntry builds an entry from a response to r. It copies what it keeps.
func newEntry(r *http.Request, status int, h http.Header, body []byte, now time.Time, ttl time.Duration) *Entry {
	connection := map[string]bool{}
	for _, line := range h["Connection"] {
		for f := range strings.SplitSeq(line, ",") {
			if f = strings.TrimSpace(f); f != "" {
				connection[textproto.CanonicalMIMEHeaderKey(f)] = true
			}
		}
	}
	e := &Entry{
		Status:     status,
		Header:     make(http.Header, len(h)+1),
		Body:       slices.Clip(slices.Clone(body)),
		StoredAt:   now,
		TTL:        ttl,
		InitialAge: responseAge(h),
	}
	for k, v := range h {
		if unstored[k] || connection[k] || len(v) == 0 {
			continue
		}
		e.Header[k] = slices.Clip(slices.Clone(v))
	}
	if bodyAllowed(status) {
		e.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	for _, line := range h["Vary"] {
		for f := range strings.SplitSeq(line, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			name := textproto.CanonicalMIMEHeaderKey(f)
			var vals []string
			if v := r.Header[name]; len(v) > 0 {
				vals = slices.Clip(slices.Clone(v))
			}
			e.Vary = append(e.Vary, VaryValue{Name: name, Values: vals})
		}
	}
	return e
}

// size is the entry's approximate memory footprint, for the LRU's bound.
func (e *Entry) size() int64 {
	n := int64(len(e.Body)) + 256
	for k, v := range e.Header {
		n += int64(len(k)) + 16
		for _, s := range v {
			n += int64(len(s)) + 16
		}
	}
	for _, v := range e.Vary {
		n += int64(len(v.Name)) + 16
		for _, s := range v.Values {
			n += int64(len(s)) + 16
		}
	}
	return n
}
