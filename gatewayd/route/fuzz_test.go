package route

import (
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Vocabularies the fuzzed route tables are built from.
var (
	fuzzPaths = []string{"/", "/a", "/a/b", "/a/b/c", "/users", "/users/me", "/x/y/", "/a/%2F"}
	fuzzPats  = []string{"/", "/a/{x}", "/a/{x}/c", "/a/b/{y}", "/{p...}", "/a/{r...}", "/users/{id}", "/{x}/{y}", "/users/{id}/{rest...}"}
	fuzzHosts = []string{"", "api.example.com", "*.example.com", "*.api.example.com", "other.test"}
	fuzzMeths = []string{"GET", "POST", "PUT", "DELETE"}
)

// fuzzRoutes turns bytes into a route table, 4 bytes a route: path kind
// and index, host, method bits, header bits.
func fuzzRoutes(spec []byte) []gwconfig.Route {
	var rs []gwconfig.Route
	for i := 0; i+3 < len(spec) && len(rs) < 16; i += 4 {
		b0, b1, b2, b3 := spec[i], spec[i+1], spec[i+2], spec[i+3]
		r := gwconfig.Route{Name: string(rune('A' + len(rs)))}
		switch b0 % 4 {
		case 0:
			r.Match.Paths = []gwconfig.PathMatch{{Exact: fuzzPaths[int(b0/4)%len(fuzzPaths)]}}
		case 1:
			p := fuzzPaths[int(b0/4)%len(fuzzPaths)]
			if p != "/" {
				p = strings.TrimSuffix(p, "/")
			}
			r.Match.Paths = []gwconfig.PathMatch{{Prefix: p}}
		case 2:
			r.Match.Paths = []gwconfig.PathMatch{{Pattern: fuzzPats[int(b0/4)%len(fuzzPats)]}}
		}
		if h := fuzzHosts[int(b1)%len(fuzzHosts)]; h != "" {
			r.Match.Hosts = []string{h}
		}
		for j, m := range fuzzMeths {
			if b2&(1<<j) != 0 {
				r.Match.Methods = append(r.Match.Methods, m)
			}
		}
		switch b3 % 4 {
		case 1:
			r.Match.Headers = []gwconfig.HeaderMatch{{Name: "x-a", Present: true}}
		case 2:
			r.Match.Headers = []gwconfig.HeaderMatch{{Name: "X-A", Value: "1"}, {Name: "X-B", Absent: true}}
		}
		rs = append(rs, r)
	}
	return rs
}

// FuzzMatch compares Router.Match with a brute-force reference that
// implements the precedence rules of the package doc directly, on route
// tables and requests built from the fuzzer's bytes.
func FuzzMatch(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 1, 0, 0, 1, 2, 2, 3, 2, 6, 0, 0, 0}, "api.example.com", "GET", "/a/b", byte(1))
	f.Add([]byte{4, 0, 2, 0, 5, 1, 1, 0, 10, 2, 0, 1, 18, 0, 4, 2}, "x.api.example.com:80", "HEAD", "/a//b/../c", byte(2))
	f.Add([]byte{22, 3, 0, 0, 9, 4, 8, 2}, "OTHER.test.", "DELETE", "/users/7/x", byte(3))
	f.Add([]byte{2, 0, 2, 0, 0, 0, 4, 0}, "", "PATCH", "/", byte(0))
	f.Fuzz(func(t *testing.T, spec []byte, host, method, path string, hbits byte) {
		routes := fuzzRoutes(spec)
		r, err := New(routes)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		h := http.Header{}
		if hbits&1 != 0 {
			h.Set("X-A", "1")
		}
		if hbits&2 != 0 {
			h.Set("X-B", "")
		}
		got := r.Match(host, method, path, h)
		want := referenceMatch(routes, host, method, path, h)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("routes %+v\n%s %s%s %v:\nMatch     %+v\nreference %+v", routes, method, host, path, h, got, want)
		}
	})
}

// referenceMatch ranks every (host, path) entry of every route that
// matches with a sort key written from the package doc.
func referenceMatch(routes []gwconfig.Route, host, method, path string, h http.Header) Result {
	clean, ok := CleanPath(path)
	if !ok {
		return Result{}
	}
	host = strings.ToLower(requestHost(host))
	type cand struct {
		key    []int
		route  int
		params map[string]string
	}
	var full []cand
	allow := map[string]bool{}
	methodMiss := false
	order := 0
	for i, rt := range routes {
		hosts := rt.Match.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		paths := rt.Match.Paths
		if len(paths) == 0 {
			paths = []gwconfig.PathMatch{{Prefix: "/"}}
		}
		constraints := 2 * len(rt.Match.Headers)
		if len(rt.Match.Methods) > 0 {
			constraints++
		}
		for _, hs := range hosts {
			for _, p := range paths {
				order++
				hostKind, wild := 2, 0
				switch {
				case hs == "":
				case strings.HasPrefix(hs, "*."):
					if !strings.HasSuffix(host, hs[1:]) || len(host) <= len(hs)-1 {
						continue
					}
					hostKind, wild = 1, len(hs)-1
				default:
					if host != hs {
						continue
					}
					hostKind = 0
				}
				var pathKey []int
				var params map[string]string
				switch {
				case p.Exact != "":
					if clean != p.Exact {
						continue
					}
					pathKey = []int{0, 0, 0, 0, 0}
				case p.Pattern != "":
					m, names, literals, segs, rest := patternRegexp(p.Pattern)
					sub := m.FindStringSubmatch(clean)
					if sub == nil {
						continue
					}
					for j, n := range names {
						if params == nil {
							params = map[string]string{}
						}
						params[n] = sub[j+1]
					}
					restKey := 0
					if rest {
						restKey = 1
					}
					pathKey = []int{1, -literals, -segs, restKey, 0}
				default:
					if !(p.Prefix == "/" || clean == p.Prefix || strings.HasPrefix(clean, p.Prefix+"/")) {
						continue
					}
					pathKey = []int{2, 0, 0, 0, -len(p.Prefix)}
				}
				if !headersMatch(rt.Match.Headers, h) {
					continue
				}
				methodOK := len(rt.Match.Methods) == 0
				for _, m := range rt.Match.Methods {
					allow[m] = true
					if m == "GET" {
						allow["HEAD"] = true
					}
					if m == method || m == "GET" && method == "HEAD" {
						methodOK = true
					}
				}
				if !methodOK {
					methodMiss = true
					continue
				}
				key := append(pathKey, hostKind, -wild, -constraints, order)
				full = append(full, cand{key: key, route: i, params: params})
			}
		}
	}
	if len(full) > 0 {
		sort.Slice(full, func(a, b int) bool {
			for k := range full[a].key {
				if full[a].key[k] != full[b].key[k] {
					return full[a].key[k] < full[b].key[k]
				}
			}
			return false
		})
		return Result{Route: full[0].route, Matched: true, Params: full[0].params}
	}
	if !methodMiss {
		return Result{}
	}
	var list []string
	for m := range allow {
		list = append(list, m)
	}
	sort.Strings(list)
	return Result{MethodNotAllowed: true, Allow: list}
}

// patternRegexp compiles a pattern to an anchored regular expression.
func patternRegexp(p string) (re *regexp.Regexp, names []string, literals, segs int, rest bool) {
	if p == "/" {
		return regexp.MustCompile(`^/$`), nil, 0, 0, false
	}
	var b strings.Builder
	b.WriteString("(?s)^") // (?s): a param may hold any byte, newlines too
	for _, s := range strings.Split(p[1:], "/") {
		b.WriteString("/")
		switch {
		case strings.HasSuffix(s, "...}"):
			names = append(names, s[1:len(s)-4])
			b.WriteString("(.*)")
			rest = true
		case strings.HasPrefix(s, "{"):
			names = append(names, s[1:len(s)-1])
			b.WriteString("([^/]+)")
		default:
			b.WriteString(regexp.QuoteMeta(s))
			literals++
		}
		segs++
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), names, literals, segs, rest
}

func headersMatch(ms []gwconfig.HeaderMatch, h http.Header) bool {
	for _, m := range ms {
		vs := h.Values(m.Name)
		switch {
		case m.Absent && len(vs) > 0, m.Present && len(vs) == 0:
			return false
		case m.Value != "":
			found := false
			for _, v := range vs {
				found = found || v == m.Value
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// FuzzPattern checks patterns end to end: a pattern ParsePattern accepts
// builds a router, and a path made by filling its params matches it with
// exactly those params; Rewrite with the pattern as template gives the
// path back.
func FuzzPattern(f *testing.F) {
	f.Add("/users/{id}/files/{path...}", "7", "a/b")
	f.Add("/{a}/{b}", "x", "y")
	f.Add("/", "", "")
	f.Add("/v1/{x}", "%2F", "")
	f.Add("/a/{x...}", "", "")
	f.Fuzz(func(t *testing.T, pattern, v1, v2 string) {
		segs, err := gwconfig.ParsePattern(pattern)
		if err != nil {
			if _, err := New([]gwconfig.Route{{Match: gwconfig.Match{Paths: []gwconfig.PathMatch{{Pattern: pattern}}}}}); err == nil {
				t.Fatalf("New accepted %q, which ParsePattern rejects", pattern)
			}
			return
		}
		r, err := New([]gwconfig.Route{{Name: "p", Match: gwconfig.Match{Paths: []gwconfig.PathMatch{{Pattern: pattern}}}}})
		if err != nil {
			t.Fatalf("New(%q): %v", pattern, err)
		}
		// Fill the params: one-segment params get a clean non-empty
		// segment, the rest param a clean tail.
		vals := []string{v1, v2}
		want := map[string]string{}
		var b strings.Builder
		for i, s := range segs {
			b.WriteString("/")
			switch {
			case s.Param == "":
				b.WriteString(s.Literal)
				continue
			case s.Rest:
				v := cleanTail(vals[i%2])
				want[s.Param] = v
				b.WriteString(v)
			default:
				v := cleanSegment(vals[i%2])
				want[s.Param] = v
				b.WriteString(v)
			}
		}
		path := b.String()
		if path == "" {
			path = "/"
		}
		if len(want) == 0 {
			want = nil
		}
		res := r.Match("h", "GET", path, nil)
		if !res.Matched || !reflect.DeepEqual(res.Params, want) {
			t.Fatalf("pattern %q path %q: %+v, want params %v", pattern, path, res, want)
		}
		if got := Rewrite(gwconfig.Rewrite{Path: pattern}, path, res.Params); got != path {
			t.Fatalf("Rewrite(%q, %v) = %q, want %q", pattern, res.Params, got, path)
		}
	})
}

// cleanSegment makes s a non-empty clean path segment.
func cleanSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 16; i++ {
		if c := s[i]; isUnreserved(c) && c != '.' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "v"
	}
	return b.String()
}

// cleanTail makes s a clean (possibly empty) tail of segments.
func cleanTail(s string) string {
	var parts []string
	for _, p := range strings.Split(s, "/") {
		if p != "" && len(parts) < 4 {
			parts = append(parts, cleanSegment(p))
		}
	}
	return strings.Join(parts, "/")
}
