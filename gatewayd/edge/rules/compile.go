package rules

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/node/yamldoc"
)

// Validate reports every problem Compile would, as an Errors naming paths.
func (c *Config) Validate() error {
	_, err := c.compile()
	return err
}

// Compile checks the Config and builds its Engine. The error, when not nil,
// is an Errors naming every problem's path; it matches ErrInvalid.
func (c *Config) Compile() (*Engine, error) { return c.compile() }

func (c *Config) compile() (*Engine, error) {
	var l errList
	e := &Engine{random: c.Random}
	if e.random == nil {
		e.random = rand.Reader
	} else {
		e.randomMu = new(sync.Mutex)
	}
	for i, rw := range c.Rewrites {
		p := yamldoc.IndexPath("rewrites", i)
		re := compileRegexp(&l, yamldoc.FieldPath(p, "match"), rw.Match)
		if rw.Replace == "" {
			l.add(yamldoc.FieldPath(p, "replace"), 0, "required")
		} else if checkLen(&l, yamldoc.FieldPath(p, "replace"), rw.Replace) && !strings.HasPrefix(rw.Replace, "/") {
			l.add(yamldoc.FieldPath(p, "replace"), 0, "%q must start with \"/\"", rw.Replace)
		}
		if re != nil {
			e.rewrites = append(e.rewrites, rewrite{re: re, replace: rw.Replace})
		}
	}
	for i, rd := range c.Redirects {
		p := yamldoc.IndexPath("redirects", i)
		re := compileRegexp(&l, yamldoc.FieldPath(p, "match"), rd.Match)
		if rd.Location == "" {
			l.add(yamldoc.FieldPath(p, "location"), 0, "required")
		} else {
			checkLen(&l, yamldoc.FieldPath(p, "location"), rd.Location)
			if strings.ContainsAny(rd.Location, "\r\n\x00") {
				l.add(yamldoc.FieldPath(p, "location"), 0, "must not contain control characters")
			}
		}
		switch rd.Status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		case 0:
			l.add(yamldoc.FieldPath(p, "status"), 0, "required: one of 301, 302, 307, 308")
		default:
			l.add(yamldoc.FieldPath(p, "status"), 0, "%d is not a redirect status (one of 301, 302, 307, 308)", rd.Status)
		}
		if re != nil {
			e.redirects = append(e.redirects, redirect{re: re, location: rd.Location, status: rd.Status, preserveQuery: rd.PreserveQuery})
		}
	}
	e.normalize = c.Normalize
	for i, g := range c.Normalize.DropQuery {
		p := yamldoc.IndexPath("normalize.drop_query", i)
		if g == "" {
			l.add(p, 0, "must not be empty")
		} else if checkLen(&l, p, g) {
			if _, err := path.Match(g, ""); err != nil {
				l.add(p, 0, "%q is not a glob: %v", g, err)
			}
		}
	}
	e.compileAB(&l, c.AB)
	e.reqSet = compileSet(&l, "headers.request_set", c.Headers.RequestSet)
	e.reqRemove = compileNames(&l, "headers.request_remove", c.Headers.RequestRemove)
	e.respSet = compileSet(&l, "headers.response_set", c.Headers.ResponseSet)
	e.respRemove = compileNames(&l, "headers.response_remove", c.Headers.ResponseRemove)
	e.compileDeny(&l, c.Deny)
	if err := l.err(); err != nil {
		return nil, err
	}
	return e, nil
}

func checkLen(l *errList, p, s string) bool {
	if len(s) > MaxPatternBytes {
		l.add(p, 0, "is %d bytes, the limit is %d", len(s), MaxPatternBytes)
		return false
	}
	return true
}

func compileRegexp(l *errList, p, expr string) *regexp.Regexp {
	if expr == "" {
		l.add(p, 0, "required")
		return nil
	}
	if !checkLen(l, p, expr) {
		return nil
	}
	if _, err := regexp.Compile(expr); err != nil {
		l.add(p, 0, "%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	// Flag s: "." also matches a newline, which a decoded path may hold, so
	// "(.*)" covers every path.
	re, err := regexp.Compile("(?s)" + expr)
	if err != nil {
		l.add(p, 0, "%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// isToken reports whether s is an RFC 9110 token (a valid header or cookie
// name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validValue reports whether s may be a header value: no control characters
// but tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

type headerValue struct{ name, value string }

func compileSet(l *errList, p string, m map[string]string) []headerValue {
	seen := make(map[string]string, len(m))
	var out []headerValue
	for name, value := range m {
		kp := yamldoc.KeyPath(p, name)
		if !isToken(name) {
			l.add(kp, 0, "%q is not a header name", name)
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if other, dup := seen[canon]; dup {
			l.add(kp, 0, "names the same header as %q", other)
			continue
		}
		seen[canon] = name
		if !validValue(value) {
			l.add(kp, 0, "value must not contain control characters")
			continue
		}
		out = append(out, headerValue{canon, value})
	}
	return out
}

func compileNames(l *errList, p string, names []string) []string {
	out := make([]string, 0, len(names))
	for i, name := range names {
		if !isToken(name) {
			l.add(yamldoc.IndexPath(p, i), 0, "%q is not a header name", name)
			continue
		}
		out = append(out, http.CanonicalHeaderKey(name))
	}
	return out
}

func (e *Engine) compileAB(l *errList, tests []ABTest) {
	names := make(map[string]int)
	cookies := make(map[string]int)
	for i, t := range tests {
		p := yamldoc.IndexPath("ab", i)
		ok := true
		if !isABName(t.Name) {
			l.add(yamldoc.FieldPath(p, "name"), 0, "%q must be 1 to 64 letters, digits, '-' or '_'", t.Name)
			ok = false
		} else if j, dup := names[t.Name]; dup {
			l.add(yamldoc.FieldPath(p, "name"), 0, "%q is also the name of ab[%d]", t.Name, j)
			ok = false
		} else {
			names[t.Name] = i
		}
		if !isToken(t.Cookie) {
			l.add(yamldoc.FieldPath(p, "cookie"), 0, "%q is not a cookie name", t.Cookie)
			ok = false
		} else if j, dup := cookies[t.Cookie]; dup {
			l.add(yamldoc.FieldPath(p, "cookie"), 0, "%q is also the cookie of ab[%d]", t.Cookie, j)
			ok = false
		} else {
			cookies[t.Cookie] = i
		}
		header := t.Header
		if header == "" {
			header = "Cairn-AB-" + t.Name
		} else if !isToken(header) {
			l.add(yamldoc.FieldPath(p, "header"), 0, "%q is not a header name", header)
			ok = false
		}
		maxAge := t.MaxAge
		switch {
		case maxAge == 0:
			maxAge = DefaultABMaxAge
		case maxAge < time.Second:
			l.add(yamldoc.FieldPath(p, "max_age"), 0, "%v is under the minimum 1s", maxAge)
			ok = false
		}
		if len(t.Buckets) == 0 {
			l.add(yamldoc.FieldPath(p, "buckets"), 0, "at least one bucket is required")
			ok = false
		}
		var total uint64
		seen := make(map[string]int)
		ab := abTest{name: t.Name, cookie: t.Cookie, header: http.CanonicalHeaderKey(header), maxAge: maxAge}
		for j, b := range t.Buckets {
			bp := yamldoc.IndexPath(yamldoc.FieldPath(p, "buckets"), j)
			if !isABName(b.Name) {
				l.add(yamldoc.FieldPath(bp, "name"), 0, "%q must be 1 to 64 letters, digits, '-' or '_'", b.Name)
				ok = false
			} else if k, dup := seen[b.Name]; dup {
				l.add(yamldoc.FieldPath(bp, "name"), 0, "%q is also the name of bucket %d", b.Name, k)
				ok = false
			}
			seen[b.Name] = j
			if b.Weight < 0 || b.Weight > 1_000_000 {
				l.add(yamldoc.FieldPath(bp, "weight"), 0, "%d is outside 0..1000000", b.Weight)
				ok = false
				continue
			}
			total += uint64(b.Weight)
			ab.buckets = append(ab.buckets, b.Name)
			ab.cumulative = append(ab.cumulative, total)
		}
		if len(t.Buckets) > 0 && total == 0 && ok {
			l.add(yamldoc.FieldPath(p, "buckets"), 0, "weights sum to 0; at least one must be positive")
			ok = false
		}
		if ok {
			e.ab = append(e.ab, ab)
		}
	}
}

func isABName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (e *Engine) compileDeny(l *errList, d Deny) {
	for i, s := range d.CIDRs {
		p := yamldoc.IndexPath("deny.cidrs", i)
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				l.add(p, 0, "%q is not a CIDR (like 192.0.2.0/24 or 2001:db8::/32) or an address", s)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		e.denyNets = append(e.denyNets, pfx.Masked())
	}
	for i, s := range d.UserAgents {
		p := yamldoc.IndexPath("deny.user_agents", i)
		if expr, ok := strings.CutPrefix(s, "re:"); ok {
			if re := compileRegexp(l, p, expr); re != nil {
				e.denyUARegexps = append(e.denyUARegexps, re)
			}
			continue
		}
		if s == "" {
			l.add(p, 0, "must not be empty (it would deny every request)")
			continue
		}
		if checkLen(l, p, s) {
			e.denyUASubstrings = append(e.denyUASubstrings, strings.ToLower(s))
		}
	}
	for i, s := range d.Paths {
		p := yamldoc.IndexPath("deny.paths", i)
		if !strings.HasPrefix(s, "/") {
			l.add(p, 0, "%q must start with \"/\"", s)
			continue
		}
		if checkLen(l, p, s) {
			e.denyPaths = append(e.denyPaths, s)
		}
	}
}

// String describes the engine's rule counts, for logs.
func (e *Engine) String() string {
	return fmt.Sprintf("rules{rewrites:%d redirects:%d ab:%d deny:%d}", len(e.rewrites), len(e.redirects), len(e.ab), len(e.denyNets)+len(e.denyUASubstrings)+len(e.denyUARegexps)+len(e.denyPaths))
}
