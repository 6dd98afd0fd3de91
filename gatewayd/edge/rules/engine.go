package rules

import (
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Engine applies a compiled Config to requests and responses. It is
// immutable and safe for concurrent use.
type Engine struct {
	rewrites  []rewrite
	redirects []redirect
	normalize Normalize
	ab        []abTest
	reqSet    []headerValue
	reqRemove []string
	respSet   []headerValue
	// respRemove are canonical header names.
	respRemove []string

	denyNets         []netip.Prefix
	denyUASubstrings []string // lowercased
	denyUARegexps    []*regexp.Regexp
	denyPaths        []string

	random   io.Reader
	randomMu *sync.Mutex // serialises reads of a caller-supplied random; nil for crypto/rand
}

type rewrite struct {
	re      *regexp.Regexp
	replace string
}

type redirect struct {
	re            *regexp.Regexp
	location      string
	status        int
	preserveQuery bool
}

// Apply runs the request-side rules on r (see the package doc for their
// order). When a rule answers — a deny (403) or a redirect — Apply writes the
// response to w and returns done true. Otherwise it edits r in place (URL,
// Host, query, Cookie and other headers) and may add Set-Cookie to w's
// header (A/B tests); keyExtra is what the rules add to the cache key: ""
// without A/B tests, else "name=bucket" per test, in document order, joined
// by ";". Apply must be called before anything is written to w.
func (e *Engine) Apply(w http.ResponseWriter, r *http.Request) (keyExtra string, done bool) {
	if e.denied(r) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "forbidden\n")
		return "", true
	}
	if e.redirect(w, r) {
		return "", true
	}
	e.rewrite(r)
	e.normalizeRequest(r)
	keyExtra = e.assignAB(w, r)
	for _, name := range e.reqRemove {
		r.Header.Del(name)
	}
	for _, hv := range e.reqSet {
		r.Header.Set(hv.name, hv.value)
	}
	return keyExtra, false
}

// ResponseHeaders applies the response header edits to h: removals, then
// sets. Call it on the header about to be sent to the client.
func (e *Engine) ResponseHeaders(h http.Header) {
	for _, name := range e.respRemove {
		h.Del(name)
	}
	for _, hv := range e.respSet {
		h.Set(hv.name, hv.value)
	}
}

// redirect answers r when a redirect matches its path.
func (e *Engine) redirect(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	for _, rd := range e.redirects {
		m := rd.re.FindStringSubmatchIndex(p)
		if m == nil {
			continue
		}
		loc := expand(rd.re, rd.location, p, m)
		if rd.preserveQuery && r.URL.RawQuery != "" {
			if strings.Contains(loc, "?") {
				loc += "&" + r.URL.RawQuery
			} else {
				loc += "?" + r.URL.RawQuery
			}
		}
		h := w.Header()
		h.Set("Location", escapeControls(loc))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(rd.status)
		if r.Method != http.MethodHead {
			io.WriteString(w, http.StatusText(rd.status)+"\n")
		}
		return true
	}
	return false
}

// escapeControls percent-encodes control characters, spaces and non-ASCII
// bytes (which a decoded path captured by $1 may carry), so the value is a
// valid header field and a valid URI reference.
func escapeControls(s string) string {
	const hex = "0123456789ABCDEF"
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// rewrite applies every matching rewrite to r's path, in order.
func (e *Engine) rewrite(r *http.Request) {
	if len(e.rewrites) == 0 {
		return
	}
	p := r.URL.Path
	var addQuery []string
	changed := false
	for _, rw := range e.rewrites {
		m := rw.re.FindStringSubmatchIndex(p)
		if m == nil {
			continue
		}
		out := expand(rw.re, rw.replace, p, m)
		if before, q, ok := strings.Cut(out, "?"); ok {
			out = before
			if q != "" {
				addQuery = append(addQuery, q)
			}
		}
		if dec, err := url.PathUnescape(out); err == nil {
			out = dec
		}
		if !strings.HasPrefix(out, "/") {
			out = "/" + out
		}
		p = out
		changed = true
	}
	if !changed {
		return
	}
	r.URL.Path = p
	r.URL.RawPath = ""
	if len(addQuery) > 0 {
		q := strings.Join(addQuery, "&")
		if r.URL.RawQuery != "" {
			q = r.URL.RawQuery + "&" + q
		}
		r.URL.RawQuery = q
	}
	r.RequestURI = r.URL.RequestURI()
}
