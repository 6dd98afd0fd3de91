package rules

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func mustEngine(t *testing.T, doc string) *Engine {
	t.Helper()
	cfg, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRewrites(t *testing.T) {
	e := mustEngine(t, `
rewrites:
  - {match: '^/old/(.*)$', replace: '/new/$1'}
  - {match: '^/new/(?P<name>[a-z]+)\.php$', replace: '/render?page=${name}'}
  - {match: '^/nomatch$', replace: '/never'}
`)
	tests := []struct{ in, path, query string }{
		{"/old/a/b.css", "/new/a/b.css", ""},
		{"/old/index.php?x=1", "/render", "x=1&page=index"},
		{"/new/about.php", "/render", "page=about"},
		{"/other", "/other", ""},
		{"/old/sp%20ace", "/new/sp ace", ""},
		{"/old/q%3Fx=1%23f", "/new/q?x=1#f", ""},
		{"/old/ok?x=1", "/new/ok", "x=1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.in, nil)
		w := httptest.NewRecorder()
		if _, done := e.Apply(w, r); done {
			t.Fatalf("%s: answered", tt.in)
		}
		if r.URL.Path != tt.path || r.URL.RawQuery != tt.query {
			t.Errorf("%s → path %q query %q, want %q %q", tt.in, r.URL.Path, r.URL.RawQuery, tt.path, tt.query)
		}
		if r.RequestURI != r.URL.RequestURI() {
			t.Errorf("%s: RequestURI %q not updated (%q)", tt.in, r.RequestURI, r.URL.RequestURI())
		}
	}
}

func TestRedirects(t *testing.T) {
	e := mustEngine(t, `
redirects:
  - {match: '^/blog/(.*)$', location: 'https://blog.example.com/$1', status: 301, preserve_query: true}
  - {match: '^/go$', location: '/dest?a=1', status: 308, preserve_query: true}
  - {match: '^/tmp/(.*)$', location: '/t/$1', status: 307}
  - {match: '^/tmp/', location: '/never', status: 302}
`)
	tests := []struct {
		method, in string
		status     int
		loc        string
	}{
		{"GET", "/blog/post-1?ref=x", 301, "https://blog.example.com/post-1?ref=x"},
		{"GET", "/go?b=2", 308, "/dest?a=1&b=2"},
		{"GET", "/go", 308, "/dest?a=1"},
		{"HEAD", "/tmp/x?dropped=1", 307, "/t/x"},
		{"GET", "/tmp/a%0d%0aSet-Cookie:%20x=1", 307, "/t/a%0D%0ASet-Cookie:%20x=1"},
		{"GET", "/tmp/caf%C3%A9", 307, "/t/caf%C3%A9"},
		{"GET", "/tmp/a%3Fb=1%23c", 307, "/t/a%3Fb=1%23c"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.in, nil)
		w := httptest.NewRecorder()
		extra, done := e.Apply(w, r)
		if !done || extra != "" {
			t.Fatalf("%s: done=%v extra=%q", tt.in, done, extra)
		}
		if w.Code != tt.status || w.Header().Get("Location") != tt.loc {
			t.Errorf("%s → %d %q, want %d %q", tt.in, w.Code, w.Header().Get("Location"), tt.status, tt.loc)
		}
		if tt.method == "HEAD" && w.Body.Len() != 0 {
			t.Errorf("HEAD has a body %q", w.Body)
		}
	}
	r := httptest.NewRequest("GET", "/blogs", nil)
	if _, done := e.Apply(httptest.NewRecorder(), r); done {
		t.Error("/blogs was redirected")
	}
}

func TestNormalize(t *testing.T) {
	e := mustEngine(t, `
normalize:
  lowercase_host: true
  sort_query: true
  drop_query: ['utm_*', fbclid]
  strip_cookies: true
ab:
  - {name: t, cookie: ab_t, buckets: [{name: only, weight: 1}]}
`)
	r := httptest.NewRequest("GET", "http://Example.COM./p?z=1&utm_source=x&a=2&&fbclid=9&a=1&utm%5Fmedium=y&b=%20", nil)
	r.Host = "Example.COM.:8080"
	r.Header.Add("Cookie", "session=abc; ab_t=0123456789abcdef0123456789abcdef")
	r.Header.Add("Cookie", "other=1")
	w := httptest.NewRecorder()
	if _, done := e.Apply(w, r); done {
		t.Fatal("answered")
	}
	if r.Host != "example.com:8080" || r.URL.Host != "example.com" {
		t.Errorf("host %q url host %q", r.Host, r.URL.Host)
	}
	if r.URL.RawQuery != "a=2&a=1&b=%20&z=1" {
		t.Errorf("query %q", r.URL.RawQuery)
	}
	if got := r.Header.Values("Cookie"); len(got) != 1 || got[0] != "ab_t=0123456789abcdef0123456789abcdef" {
		t.Errorf("cookies %q", got)
	}
	if w.Header().Get("Set-Cookie") != "" {
		t.Errorf("a valid A/B cookie was replaced: %q", w.Header().Get("Set-Cookie"))
	}

	r = httptest.NewRequest("GET", "/p?utm_a=1", nil)
	r.Header.Set("Cookie", "session=abc")
	e.Apply(httptest.NewRecorder(), r)
	if r.URL.RawQuery != "" || r.Header.Get("Cookie") != "" || r.RequestURI != "/p" {
		t.Errorf("query %q cookie %q uri %q", r.URL.RawQuery, r.Header.Get("Cookie"), r.RequestURI)
	}
}

func TestLowerHostIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"[2001:DB8::1]:443": "[2001:db8::1]:443",
		"[2001:DB8::1]":     "[2001:db8::1]",
		"A.B.":              "a.b",
		"A.B.:80":           "a.b:80",
	} {
		if got := lowerHost(in); got != want {
			t.Errorf("lowerHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaders(t *testing.T) {
	e := mustEngine(t, `
headers:
  request_set: {x-edge: "1", X-Forwarded-Proto: https}
  request_remove: [X-Debug, x-edge]
  response_set: {Strict-Transport-Security: max-age=31536000}
  response_remove: [server, X-Powered-By]
`)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Debug", "1")
	r.Header.Set("X-Edge", "client-sent")
	e.Apply(httptest.NewRecorder(), r)
	if r.Header.Get("X-Debug") != "" || r.Header.Get("X-Edge") != "1" || r.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("request headers %v", r.Header)
	}
	h := http.Header{"Server": {"origin"}, "X-Powered-By": {"php"}, "Content-Type": {"text/html"}}
	e.ResponseHeaders(h)
	if len(h) != 2 || h.Get("Content-Type") != "text/html" || h.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("response headers %v", h)
	}
}

func TestDeny(t *testing.T) {
	e := mustEngine(t, `
deny:
  cidrs: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7]
  user_agents: [BadBot, "re:^curl/7\\."]
  paths: [/admin, /.git]
redirects: [{match: '^/admin', location: /x, status: 301}]
`)
	tests := []struct {
		remote, ua, path string
		deny             bool
	}{
		{"192.0.2.9:1234", "", "/", true},
		{"192.0.3.9:1234", "", "/", false},
		{"[2001:db8::5]:1", "", "/", true},
		{"[::ffff:192.0.2.1]:1", "", "/", true},
		{"198.51.100.7:80", "", "/", true},
		{"198.51.100.8:80", "", "/", false},
		{"10.0.0.1:1", "Mozilla/5.0 (compatible; badbot/2.1)", "/", true},
		{"10.0.0.1:1", "curl/7.88", "/", true},
		{"10.0.0.1:1", "curl/8.1", "/", false},
		{"10.0.0.1:1", "", "/admin/users", true},
		{"10.0.0.1:1", "", "/static/../admin", true},
		{"10.0.0.1:1", "", "//admin", true},
		{"10.0.0.1:1", "", "/.git/config", true},
		{"10.0.0.1:1", "", "/public/admin", false},
		{"not-an-addr", "", "/", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = tt.path
		r.RemoteAddr = tt.remote
		if tt.ua != "" {
			r.Header.Set("User-Agent", tt.ua)
		}
		w := httptest.NewRecorder()
		_, done := e.Apply(w, r)
		denied := done && w.Code == http.StatusForbidden
		if denied != tt.deny {
			t.Errorf("%s %q %s: denied=%v (code %d), want %v", tt.remote, tt.ua, tt.path, denied, w.Code, tt.deny)
		}
		if denied && (!strings.Contains(w.Body.String(), "forbidden") || w.Header().Get("Cache-Control") != "no-store") {
			t.Errorf("403 answer: %q %v", w.Body, w.Header())
		}
	}
}

func TestEscapeControls(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":      "/a/b",
		"/a b":      "/a%20b",
		"\r\n":      "%0D%0A",
		"/\x7f\xff": "/%7F%FF",
	} {
		if got := escapeControls(in); got != want {
			t.Errorf("escapeControls(%q) = %q, want %q", in, got, want)
		}
	}
}
