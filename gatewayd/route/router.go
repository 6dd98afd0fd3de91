package route

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// ErrBadRoute wraps every error New returns.
var ErrBadRoute = errors.New("route: bad route")

// Result is what Match found. Route indexes the slice given to New when
// Matched; Params holds a pattern's captured params (nil otherwise). When
// nothing matched only because of the method, MethodNotAllowed is set and
// Allow lists the methods that would have matched, sorted.
type Result struct {
	Route            int
	Params           map[string]string
	Matched          bool
	MethodNotAllowed bool
	Allow            []string
}

// Router matches requests against a fixed set of routes. It is immutable
// and safe for concurrent use.
type Router struct {
	exact    map[string][]*entry // path → entries, best first
	prefix   map[string][]*entry // prefix → entries, best first
	patterns node                // pattern trie
}

// New builds a router for routes (normally a validated document's). It
// checks only what matching relies on — paths start with "/", patterns
// parse — and returns an error wrapping ErrBadRoute otherwise. A route with
// no paths matches every path, as the prefix "/".
func New(routes []gwconfig.Route) (*Router, error) {
	r := &Router{exact: map[string][]*entry{}, prefix: map[string][]*entry{}}
	order := 0
	for i := range routes {
		rt := &routes[i]
		methods := slices.Clone(rt.Match.Methods)
		var headers []headerCond
		for _, h := range rt.Match.Headers {
			headers = append(headers, headerCond{
				name: http.CanonicalHeaderKey(h.Name), value: h.Value, present: h.Present, absent: h.Absent,
			})
		}
		hosts := rt.Match.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		paths := rt.Match.Paths
		if len(paths) == 0 {
			paths = []gwconfig.PathMatch{{Prefix: "/"}}
		}
		for _, h := range hosts {
			for pi, p := range paths {
				e := &entry{route: i, order: order, methods: methods, headers: headers}
				order++
				switch {
				case h == "":
					e.hostKind = hostAny
				case strings.HasPrefix(h, "*."):
					e.hostKind, e.host = hostWildcard, strings.ToLower(h[1:])
				default:
					e.hostKind, e.host = hostExact, strings.ToLower(strings.TrimSuffix(h, "."))
				}
				if err := r.add(e, p); err != nil {
					return nil, fmt.Errorf("%w: routes[%d] (%s).match.paths[%d]: %v", ErrBadRoute, i, rt.Name, pi, err)
				}
			}
		}
	}
	for _, es := range r.exact {
		sort.SliceStable(es, func(a, b int) bool { return es[a].less(es[b]) })
	}
	for _, es := range r.prefix {
		sort.SliceStable(es, func(a, b int) bool { return es[a].less(es[b]) })
	}
	r.patterns.each(func(es []*entry) {
		sort.SliceStable(es, func(a, b int) bool { return es[a].less(es[b]) })
	})
	return r, nil
}

func (r *Router) add(e *entry, p gwconfig.PathMatch) error {
	switch {
	case p.Exact != "":
		exact, ok := CleanPath(p.Exact)
		if !ok {
			return errors.New("exact path must start with / and stay under it")
		}
		r.exact[exact] = append(r.exact[exact], e)
	case p.Pattern != "":
		segs, err := gwconfig.ParsePattern(p.Pattern)
		if err != nil {
			return err
		}
		for _, s := range segs {
			if s.Param == "" {
				e.literals++
			}
		}
		e.segs = segs // ParsePattern admits only clean literals
		e.rest = len(segs) > 0 && segs[len(segs)-1].Rest
		r.patterns.insert(e)
	case p.Prefix != "":
		pre, ok := CleanPath(p.Prefix)
		if !ok {
			return errors.New("prefix must start with / and stay under it")
		}
		if pre != "/" {
			pre = strings.TrimSuffix(pre, "/")
		}
		r.prefix[pre] = append(r.prefix[pre], e)
	default:
		return errors.New("needs one of exact, prefix or pattern")
	}
	return nil
}

// patternLess orders pattern entries: more literals, more segments, no rest
// param first; then as entry.less.
func patternLess(a, b *entry) bool {
	if a.literals != b.literals {
		return a.literals > b.literals
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	if a.rest != b.rest {
		return !a.rest
	}
	return a.less(b)
}

// Match finds the route for a request: host is the Host header (a port is
// ignored), path the request path in escaped form as CleanPath returned it
// (Match cleans it again, which costs nothing for a clean path; one that
// CleanPath rejects matches nothing), h the request headers. See the
// package doc for precedence. Match does not allocate for a clean path
// unless a pattern matches or the result is MethodNotAllowed.
func (r *Router) Match(host, method, path string, h http.Header) Result {
	path, ok := CleanPath(path)
	if !ok {
		return Result{}
	}
	m := matcher{host: requestHost(host), method: method, h: h}
	if m.consider(r.exact[path], false); m.best != nil {
		return Result{Route: m.best.route, Matched: true}
	}
	r.walkPatterns(&m, path)
	if m.best != nil {
		return Result{Route: m.best.route, Matched: true, Params: captureParams(m.best.segs, path)}
	}
	for p := path; ; p = parentPrefix(p) {
		if m.consider(r.prefix[p], false); m.best != nil {
			return Result{Route: m.best.route, Matched: true}
		}
		if p == "/" {
			break
		}
	}
	if !m.methodMiss {
		return Result{}
	}
	return Result{MethodNotAllowed: true, Allow: r.allow(m.host, path, h)}
}

// walkPatterns offers m every pattern entry list matching path.
func (r *Router) walkPatterns(m *matcher, path string) {
	if path == "/" {
		m.consider(r.patterns.end, true) // the pattern "/"
	}
	r.patterns.walk(m, path[1:], false)
}

// parentPrefix is the prefix one segment shorter ("/a/b" → "/a" → "/";
// "/a/" → "/a").
func parentPrefix(p string) string { return p[:max(strings.LastIndexByte(p, '/'), 1)] }

// allow collects the sorted methods of every entry matching all but the
// method.
func (r *Router) allow(host, path string, h http.Header) []string {
	m := matcher{host: host, h: h, allow: map[string]bool{}}
	m.consider(r.exact[path], false)
	r.patterns.each(func(es []*entry) {
		for _, e := range es {
			if matchSegments(e.segs, path) {
				m.consider([]*entry{e}, false)
			}
		}
	})
	for p := path; ; p = parentPrefix(p) {
		m.consider(r.prefix[p], false)
		if p == "/" {
			break
		}
	}
	allow := make([]string, 0, len(m.allow))
	for meth := range m.allow {
		allow = append(allow, meth)
	}
	sort.Strings(allow)
	return allow
}
