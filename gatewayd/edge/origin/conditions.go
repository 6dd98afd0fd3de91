package origin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// hasConditions reports whether h holds a precondition of a read.
func hasConditions(h http.Header) bool {
	return h.Get("If-Match") != "" || h.Get("If-None-Match") != "" ||
		h.Get("If-Modified-Since") != "" || h.Get("If-Unmodified-Since") != ""
}

// lastModified is obj's Last-Modified, at the second HTTP dates have.
func lastModified(obj *blobdv1.Object) (time.Time, bool) {
	if obj.GetCreated() == nil {
		return time.Time{}, false
	}
	return obj.GetCreated().AsTime().Truncate(time.Second), true
}

// evalConditions evaluates the preconditions of a GET or HEAD of obj in
// RFC 9110 section 13.2.2's order: If-Match, else If-Unmodified-Since
// (412 when false); then If-None-Match, else If-Modified-Since (304 when
// false). 0 means the read goes on. An unparsable date is ignored.
func evalConditions(h http.Header, obj *blobdv1.Object) int {
	etag := obj.GetEtag()
	mod, hasMod := lastModified(obj)
	if im := h.Get("If-Match"); im != "" {
		if !etagListMatches(im, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if ius := h.Get("If-Unmodified-Since"); ius != "" && hasMod {
		if t, err := http.ParseTime(ius); err == nil && mod.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := h.Get("If-None-Match"); inm != "" {
		if etagListMatches(inm, etag, true) {
			return http.StatusNotModified
		}
	} else if ims := h.Get("If-Modified-Since"); ims != "" && hasMod {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// etagListMatches reports whether an If-Match / If-None-Match value ("*"
// or a comma-separated list of entity tags) matches the unquoted etag;
// weak comparison ignores the W/ prefix, strong comparison never matches a
// weak tag.
func etagListMatches(list, etag string, weak bool) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if rest, ok := strings.CutPrefix(t, "W/"); ok {
			if !weak {
				continue
			}
			t = rest
		}
		if unquoteETag(t) == etag {
			return true
		}
	}
	return false
}

// ifRangeHolds evaluates an If-Range value (RFC 9110 section 13.1.5): an
// entity tag strongly equal to obj's, or a date exactly its Last-Modified.
// An empty value holds.
func ifRangeHolds(v string, obj *blobdv1.Object) bool {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return true
	case strings.HasPrefix(v, "W/"):
		return false
	case strings.HasPrefix(v, `"`):
		return unquoteETag(v) == obj.GetEtag()
	}
	t, err := http.ParseTime(v)
	mod, ok := lastModified(obj)
	return err == nil && ok && t.Equal(mod)
}

// quoteETag quotes an etag as HTTP carries it.
func quoteETag(etag string) string {
	if etag == "" {
		return ""
	}
	return `"` + etag + `"`
}

// unquoteETag drops the quotes of an entity tag.
func unquoteETag(t string) string {
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		return t[1 : len(t)-1]
	}
	return t
}

// byteRange is one parsed byte range.
type byteRange struct {
	first, last int64 // last -1: to the end
	suffix      int64 // > 0: the last suffix bytes
	zeroSuffix  bool  // bytes=-0: never satisfiable
}

// needsSize reports whether the range can only be resolved knowing the
// object's size.
func (b byteRange) needsSize() bool { return b.suffix > 0 || b.zeroSuffix }

// resolve returns the offset and length of the range in an object of size
// bytes (size > 0); ok is false when no byte of it is in the object.
func (b byteRange) resolve(size int64) (off, n int64, ok bool) {
	switch {
	case b.zeroSuffix:
		return 0, 0, false
	case b.suffix > 0:
		n = min(b.suffix, size)
		return size - n, n, true
	case b.first >= size:
		return 0, 0, false
	case b.last < 0 || b.last >= size:
		return b.first, size - b.first, true
	}
	return b.first, b.last - b.first + 1, true
}

// parseRange parses a Range header holding one byte range (RFC 9110
// section 14.1.2). ok is false for a header to ignore: absent, of another
// unit, malformed, or several ranges.
func parseRange(v string) (br byteRange, ok bool) {
	v = strings.TrimSpace(v)
	if len(v) < 6 || !strings.EqualFold(v[:6], "bytes=") {
		return br, false
	}
	spec := strings.TrimSpace(v[6:])
	if strings.Contains(spec, ",") {
		return br, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return br, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, ok := parseDigits(b)
		if !ok {
			return br, false
		}
		if n == 0 {
			return byteRange{zeroSuffix: true}, true
		}
		return byteRange{suffix: n}, true
	}
	first, ok := parseDigits(a)
	if !ok {
		return br, false
	}
	if b == "" {
		return byteRange{first: first, last: -1}, true
	}
	last, ok := parseDigits(b)
	if !ok || last < first {
		return br, false
	}
	return byteRange{first: first, last: last}, true
}

// parseDigits parses a non-negative decimal of at most 18 digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but horizontal tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHeaderName reports whether name is an HTTP token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
