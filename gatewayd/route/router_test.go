package route

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Helpers that build routes compactly.
func ex(p string) gwconfig.PathMatch  { return gwconfig.PathMatch{Exact: p} }
func pre(p string) gwconfig.PathMatch { return gwconfig.PathMatch{Prefix: p} }
func pat(p string) gwconfig.PathMatch { return gwconfig.PathMatch{Pattern: p} }

type opt func(*gwconfig.Route)

func hosts(h ...string) opt { return func(r *gwconfig.Route) { r.Match.Hosts = h } }
func paths(p ...gwconfig.PathMatch) opt {
	return func(r *gwconfig.Route) { r.Match.Paths = p }
}
func methods(m ...string) opt { return func(r *gwconfig.Route) { r.Match.Methods = m } }
func header(name, value string) opt {
	return func(r *gwconfig.Route) {
		r.Match.Headers = append(r.Match.Headers, gwconfig.HeaderMatch{Name: name, Value: value})
	}
}
func present(name string) opt {
	return func(r *gwconfig.Route) {
		r.Match.Headers = append(r.Match.Headers, gwconfig.HeaderMatch{Name: name, Present: true})
	}
}
func absent(name string) opt {
	return func(r *gwconfig.Route) {
		r.Match.Headers = append(r.Match.Headers, gwconfig.HeaderMatch{Name: name, Absent: true})
	}
}

func rt(name string, opts ...opt) gwconfig.Route {
	r := gwconfig.Route{Name: name}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// req is one request and what Match should say: want is the route name
// ("" for no match), allow the Allow list of a 405.
type req struct {
	host, method, path string
	hdr                http.Header
	want               string
	params             map[string]string
	allow              []string
}

// TestPrecedence has one case per precedence rule; each case lists routes
// in an order that would give the wrong answer if document order decided.
func TestPrecedence(t *testing.T) {
	cases := []struct {
		name   string
		routes []gwconfig.Route
		reqs   []req
	}{
		{"exact beats pattern beats prefix", []gwconfig.Route{
			rt("prefix", paths(pre("/users"))),
			rt("pattern", paths(pat("/users/{id}"))),
			rt("exact", paths(ex("/users/me"))),
		}, []req{
			{path: "/users/me", want: "exact"},
			{path: "/users/7", want: "pattern", params: map[string]string{"id": "7"}},
			{path: "/users/7/x", want: "prefix"},
			{path: "/users", want: "prefix"},
		}},
		{"longest prefix wins", []gwconfig.Route{
			rt("root", paths(pre("/"))),
			rt("api", paths(pre("/api"))),
			rt("api-v1", paths(pre("/api/v1"))),
		}, []req{
			{path: "/api/v1/x", want: "api-v1"},
			{path: "/api/v1", want: "api-v1"},
			{path: "/api/v1/", want: "api-v1"},
			{path: "/api/v2", want: "api"},
			{path: "/api", want: "api"},
			{path: "/apix", want: "root"},
			{path: "/", want: "root"},
		}},
		{"prefixes match whole segments", []gwconfig.Route{rt("api", paths(pre("/api")))}, []req{
			{path: "/api", want: "api"},
			{path: "/api/", want: "api"},
			{path: "/api/x/y", want: "api"},
			{path: "/apix", want: ""},
			{path: "/ap", want: ""},
		}},
		{"a prefix written with a trailing slash", []gwconfig.Route{rt("api", paths(pre("/api/")))}, []req{
			{path: "/api", want: "api"},
			{path: "/api/x", want: "api"},
		}},
		{"more literal segments first", []gwconfig.Route{
			rt("one-literal", paths(pat("/users/{id}/{tab}"))),
			rt("two-literals", paths(pat("/users/{id}/orders"))),
		}, []req{
			{path: "/users/1/orders", want: "two-literals", params: map[string]string{"id": "1"}},
			{path: "/users/1/profile", want: "one-literal", params: map[string]string{"id": "1", "tab": "profile"}},
		}},
		{"more segments, then no rest param, first", []gwconfig.Route{
			rt("rest", paths(pat("/f/{p...}"))),
			rt("short", paths(pat("/f/{a}"))),
			rt("long", paths(pat("/f/{a}/{b}"))),
		}, []req{
			{path: "/f/x", want: "short", params: map[string]string{"a": "x"}},
			{path: "/f/x/y", want: "long", params: map[string]string{"a": "x", "b": "y"}},
			{path: "/f/x/y/z", want: "rest", params: map[string]string{"p": "x/y/z"}},
			{path: "/f/", want: "rest", params: map[string]string{"p": ""}},
			{path: "/f", want: ""},
		}},
		{"equal patterns: document order", []gwconfig.Route{
			rt("first", paths(pat("/a/{x}/c"))),
			rt("second", paths(pat("/a/b/{y}"))),
		}, []req{{path: "/a/b/c", want: "first", params: map[string]string{"x": "b"}}}},
		{"param segments are non-empty and exact in count", []gwconfig.Route{rt("p", paths(pat("/u/{id}")))}, []req{
			{path: "/u/", want: ""},
			{path: "/u/1/", want: ""},
			{path: "/u/1", want: "p", params: map[string]string{"id": "1"}},
			{path: "/u//1", want: "p", params: map[string]string{"id": "1"}}, // cleaned first
		}},
		{"path class beats host", []gwconfig.Route{
			rt("host-prefix", hosts("api.example.com"), paths(pre("/"))),
			rt("any-exact", paths(ex("/health"))),
		}, []req{
			{host: "api.example.com", path: "/health", want: "any-exact"},
			{host: "api.example.com", path: "/x", want: "host-prefix"},
			{host: "other", path: "/x", want: ""},
		}},
		{"exact host beats wildcard beats any", []gwconfig.Route{
			rt("any", paths(pre("/"))),
			rt("wild", hosts("*.example.com"), paths(pre("/"))),
			rt("wild-longer", hosts("*.api.example.com"), paths(pre("/"))),
			rt("exact", hosts("api.example.com"), paths(pre("/"))),
		}, []req{
			{host: "api.example.com", path: "/", want: "exact"},
			{host: "API.Example.COM:8443", path: "/", want: "exact"},
			{host: "api.example.com.", path: "/", want: "exact"},
			{host: "v1.api.example.com", path: "/", want: "wild-longer"},
			{host: "www.example.com", path: "/", want: "wild"},
			{host: "a.b.example.com", path: "/", want: "wild"},
			{host: "example.com", path: "/", want: "any"},
			{host: "", path: "/", want: "any"},
			{host: "[::1]:80", path: "/", want: "any"},
		}},
		{"a wildcard does not match its apex", []gwconfig.Route{rt("wild", hosts("*.example.com"))}, []req{
			{host: "example.com", want: ""},
			{host: "xexample.com", want: ""},
			{host: "a.example.com", want: "wild"},
		}},
		{"header constraints before methods before none", []gwconfig.Route{
			rt("plain", paths(pre("/"))),
			rt("method", paths(pre("/")), methods("GET")),
			rt("header", paths(pre("/")), present("X-Canary")),
			rt("two-headers", paths(pre("/")), present("X-Canary"), header("X-Tenant", "a")),
		}, []req{
			{method: "POST", path: "/", want: "plain"},
			{method: "GET", path: "/", want: "method"},
			{method: "GET", path: "/", hdr: http.Header{"X-Canary": {"1"}}, want: "header"},
			{method: "GET", path: "/", hdr: http.Header{"X-Canary": {"1"}, "X-Tenant": {"a"}}, want: "two-headers"},
			{method: "GET", path: "/", hdr: http.Header{"X-Canary": {"1"}, "X-Tenant": {"b"}}, want: "header"},
		}},
		{"host before constraints", []gwconfig.Route{
			rt("any-with-header", present("X-A")),
			rt("host", hosts("h.example")),
		}, []req{{host: "h.example", hdr: http.Header{"X-A": {"1"}}, want: "host"}}},
		{"ties go to document order", []gwconfig.Route{
			rt("first", paths(pre("/a")), methods("GET")),
			rt("second", paths(pre("/a")), methods("GET")),
		}, []req{{method: "GET", path: "/a", want: "first"}}},
		{"header matches", []gwconfig.Route{
			rt("value", header("x-env", "prod")),
			rt("absent", absent("X-Debug"), paths(pre("/a"))),
		}, []req{
			{path: "/", hdr: http.Header{"X-Env": {"dev", "prod"}}, want: "value"},
			{path: "/", hdr: http.Header{"X-Env": {"dev"}}, want: ""},
			{path: "/a", want: "absent"},
			{path: "/a", hdr: http.Header{"X-Debug": {""}}, want: ""},
		}},
		{"method not allowed", []gwconfig.Route{
			rt("get", paths(ex("/x")), methods("GET")),
			rt("post", paths(pre("/x")), methods("POST", "PUT")),
			rt("other-host", hosts("h"), paths(ex("/x")), methods("DELETE")),
			rt("needs-header", paths(ex("/x")), methods("PATCH"), present("X-A")),
		}, []req{
			{method: "GET", path: "/x", want: "get"},
			{method: "HEAD", path: "/x", want: "get"},
			{method: "PUT", path: "/x", want: "post"},
			{method: "OPTIONS", path: "/x", allow: []string{"GET", "HEAD", "POST", "PUT"}},
			{method: "OPTIONS", path: "/y", want: ""},
			{method: "OPTIONS", path: "/x", hdr: http.Header{"X-A": {"1"}}, allow: []string{"GET", "HEAD", "PATCH", "POST", "PUT"}},
		}},
		{"a full match anywhere beats method-not-allowed", []gwconfig.Route{
			rt("exact-post", paths(ex("/x")), methods("POST")),
			rt("catch-all", paths(pre("/"))),
		}, []req{{method: "GET", path: "/x", want: "catch-all"}}},
		{"header mismatch is 404, not 405", []gwconfig.Route{
			rt("r", paths(ex("/x")), methods("GET"), present("X-A")),
		}, []req{{method: "POST", path: "/x", want: ""}}},
		{"paths are cleaned before matching", []gwconfig.Route{
			rt("admin", paths(pre("/admin"))),
			rt("public", paths(pre("/public"))),
		}, []req{
			{path: "/public/../admin/x", want: "admin"},
			{path: "/public/%2e%2e/admin", want: "admin"},
			{path: "//admin", want: "admin"},
			{path: "/%61dmin", want: "admin"},
			{path: "/../admin", want: ""},
			{path: "/public/./x", want: "public"},
		}},
		{"no paths and no hosts match everything", []gwconfig.Route{rt("all")}, []req{
			{host: "x", method: "DELETE", path: "/a/b", want: "all"},
		}},
		{"several hosts and paths per route", []gwconfig.Route{
			rt("multi", hosts("a.example", "b.example"), paths(ex("/one"), pat("/two/{n}"))),
			rt("fallback"),
		}, []req{
			{host: "b.example", path: "/two/2", want: "multi", params: map[string]string{"n": "2"}},
			{host: "a.example", path: "/one", want: "multi"},
			{host: "c.example", path: "/one", want: "fallback"},
		}},
		{"pattern root", []gwconfig.Route{rt("root", paths(pat("/")))}, []req{
			{path: "/", want: "root"},
			{path: "/x", want: ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(c.routes)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range c.reqs {
				checkMatch(t, r, c.routes, q)
			}
		})
	}
}

func checkMatch(t *testing.T, r *Router, routes []gwconfig.Route, q req) {
	t.Helper()
	if q.method == "" {
		q.method = "GET"
	}
	if q.path == "" {
		q.path = "/"
	}
	res := r.Match(q.host, q.method, q.path, q.hdr)
	got := ""
	if res.Matched {
		got = routes[res.Route].Name
	}
	desc := q.method + " " + q.host + q.path
	if got != q.want {
		t.Errorf("%s %v: matched %q, want %q", desc, q.hdr, got, q.want)
	}
	if res.Matched && !reflect.DeepEqual(res.Params, q.params) {
		t.Errorf("%s: params %v, want %v", desc, res.Params, q.params)
	}
	if res.MethodNotAllowed != (q.allow != nil) || !reflect.DeepEqual(res.Allow, q.allow) {
		t.Errorf("%s: MethodNotAllowed %v Allow %v, want Allow %v", desc, res.MethodNotAllowed, res.Allow, q.allow)
	}
	if res.Matched && res.MethodNotAllowed {
		t.Errorf("%s: both Matched and MethodNotAllowed", desc)
	}
}

func TestNewRejectsBadPaths(t *testing.T) {
	for _, p := range []gwconfig.PathMatch{ex("x"), pre("api"), pat("/a/{b"), pat("/{x...}/y"), {}} {
		_, err := New([]gwconfig.Route{rt("bad", paths(p))})
		if !errors.Is(err, ErrBadRoute) || !strings.Contains(err.Error(), "routes[0] (bad).match.paths[0]") {
			t.Errorf("New with %+v: %v, want ErrBadRoute naming the path", p, err)
		}
	}
}

// TestMatchNoAlloc checks the hot path: exact and prefix matches (and
// misses) do not allocate.
func TestMatchNoAlloc(t *testing.T) {
	r, err := New(benchRoutes(200))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Tenant": {"t1"}, "Accept": {"*/*"}}
	for _, q := range []struct{ host, path string }{
		{"api.example.com:443", "/svc/17/exact"},
		{"svc17.example.com", "/svc/17/items/42"},
		{"svc17.example.com", "/svc/17"},
		{"nowhere", "/nothing/here"},
		{"API.EXAMPLE.COM", "/svc/150/exact"},
	} {
		allocs := testing.AllocsPerRun(200, func() { r.Match(q.host, "GET", q.path, h) })
		if allocs != 0 {
			t.Errorf("Match(%s%s) allocates %v times", q.host, q.path, allocs)
		}
	}
}

// TestConfigPathsNormalized checks that route paths written with lower-case
// escapes or unclean segments match the cleaned request paths.
func TestConfigPathsNormalized(t *testing.T) {
	routes := []gwconfig.Route{
		rt("exact", paths(ex("/a%2fb"))),
		rt("prefix", paths(pre("/p%3a"))),
		rt("pattern", paths(pat("/q%2F/{x}"))),
		rt("dots", paths(ex("/d/./e"))),
	}
	r, err := New(routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []req{
		{path: "/a%2Fb", want: "exact"},
		{path: "/a%2fb", want: "exact"},
		{path: "/p%3A/x", want: "prefix"},
		{path: "/q%2F/1", want: "pattern", params: map[string]string{"x": "1"}},
		{path: "/d/e", want: "dots"},
	} {
		checkMatch(t, r, routes, q)
	}
}
