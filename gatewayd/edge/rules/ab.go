package rules

import (
	"encoding/hex"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// idBytes is the size of a visitor id; the cookie holds it in hex.
const idBytes = 16

// abTest is a compiled ABTest.
type abTest struct {
	name, cookie, header string
	maxAge               time.Duration
	buckets              []string
	cumulative           []uint64 // running sums of the weights; the last is the total
}

// bucket is the bucket of visitor id: a hash of the test name and id,
// reduced onto the cumulative weights. The hash is fixed (FNV-1a, then a
// finaliser), so every process agrees.
func (t *abTest) bucket(id string) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(t.name); i++ {
		h = (h ^ uint64(t.name[i])) * prime
	}
	h *= prime // a separator between name and id
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	// splitmix64's finaliser spreads FNV's weak low bits.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return t.at(h % t.cumulative[len(t.cumulative)-1])
}

// at is the bucket whose weight range holds x (0 <= x < total weight).
func (t *abTest) at(x uint64) string {
	i := sort.Search(len(t.cumulative), func(i int) bool { return t.cumulative[i] > x })
	return t.buckets[i]
}

// validID reports whether s is a visitor id this package issues.
func validID(s string) bool {
	if len(s) != 2*idBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// newID reads a fresh visitor id from the engine's random source. When the
// source fails, ok is false and the visitor is not assigned this time.
func (e *Engine) newID() (string, bool) {
	var b [idBytes]byte
	if e.randomMu != nil {
		e.randomMu.Lock()
		defer e.randomMu.Unlock()
	}
	if _, err := io.ReadFull(e.random, b[:]); err != nil {
		return "", false
	}
	return hex.EncodeToString(b[:]), true
}

// assignAB puts r in a bucket of every A/B test: from its cookie when it has
// a valid one, else from a new id sent back with Set-Cookie on w. It sets
// each test's request header and returns the cache key extra.
func (e *Engine) assignAB(w http.ResponseWriter, r *http.Request) string {
	if len(e.ab) == 0 {
		return ""
	}
	var extra strings.Builder
	for i := range e.ab {
		t := &e.ab[i]
		id := ""
		if c, err := r.Cookie(t.cookie); err == nil && validID(c.Value) {
			id = c.Value
		} else if nid, ok := e.newID(); ok {
			id = nid
			http.SetCookie(w, &http.Cookie{
				Name:     t.cookie,
				Value:    id,
				Path:     "/",
				MaxAge:   int(t.maxAge / time.Second),
				Secure:   r.TLS != nil,
				SameSite: http.SameSiteLaxMode,
			})
		}
		bucket := t.at(0) // the random source failed: the first bucket with weight
		if id != "" {
			bucket = t.bucket(id)
		}
		r.Header.Set(t.header, bucket)
		if extra.Len() > 0 {
			extra.WriteByte(';')
		}
		extra.WriteString(t.name)
		extra.WriteByte('=')
		extra.WriteString(bucket)
	}
	return extra.String()
}
