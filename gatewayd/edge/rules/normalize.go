package rules

import (
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// normalizeRequest applies the Normalize rules to r.
func (e *Engine) normalizeRequest(r *http.Request) {
	n := &e.normalize
	if n.LowercaseHost {
		r.Host = lowerHost(r.Host)
		if r.URL.Host != "" {
			r.URL.Host = lowerHost(r.URL.Host)
		}
	}
	if (n.SortQuery || len(n.DropQuery) > 0) && r.URL.RawQuery != "" {
		q := normalizeQuery(r.URL.RawQuery, n.DropQuery, n.SortQuery)
		if q != r.URL.RawQuery {
			r.URL.RawQuery = q
			r.RequestURI = r.URL.RequestURI()
		}
	}
	if n.StripCookies {
		e.stripCookies(r)
	}
}

// lowerHost lowercases host and drops a trailing dot of its name ("Example.COM.:8080" → "example.com:8080").
func lowerHost(host string) string {
	host = strings.ToLower(host)
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		name, port = host[:i], host[i:]
	}
	return strings.TrimSuffix(name, ".") + port
}

// normalizeQuery drops the parameters whose decoded name matches a glob in
// drop and, with sort, orders the rest stably by decoded name. Parameters
// keep their original encoding; empty ones ("a=1&&b=2") are dropped.
func normalizeQuery(raw string, drop []string, sort bool) string {
	type param struct{ name, raw string }
	params := make([]param, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rawName, _, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if matchAny(drop, name) {
			continue
		}
		params = append(params, param{name, part})
	}
	if sort {
		slices.SortStableFunc(params, func(a, b param) int { return strings.Compare(a.name, b.name) })
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.raw)
	}
	return b.String()
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// stripCookies removes every cookie of r but the A/B tests' cookies.
func (e *Engine) stripCookies(r *http.Request) {
	if _, ok := r.Header["Cookie"]; !ok {
		return
	}
	var kept []string
	for _, c := range r.Cookies() {
		if e.abCookie(c.Name) {
			kept = append(kept, c.Name+"="+c.Value)
		}
	}
	if len(kept) == 0 {
		r.Header.Del("Cookie")
		return
	}
	r.Header.Set("Cookie", strings.Join(kept, "; "))
}

func (e *Engine) abCookie(name string) bool {
	for i := range e.ab {
		if e.ab[i].cookie == name {
			return true
		}
	}
	return false
}
