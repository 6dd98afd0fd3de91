package rules

import (
	"net/http/httptest"
	"testing"
)

// FuzzParse checks that no document makes Parse panic, and that what it
// accepts compiles and applies to a request without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullDoc))
	f.Add([]byte(abDoc))
	f.Add([]byte("rewrites: [{match: '(a*)*', replace: '/$1$2${x}'}]"))
	f.Add([]byte("deny: {cidrs: ['::/0']}"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		cfg, err := Parse(doc)
		if err != nil {
			return
		}
		e, err := cfg.Compile()
		if err != nil {
			t.Fatalf("Parse accepted what Compile refused: %v", err)
		}
		r := httptest.NewRequest("GET", "http://Example.com/old/a?utm_x=1&b=2", nil)
		r.Header.Set("Cookie", "a=b; ab_checkout=zz")
		w := httptest.NewRecorder()
		e.Apply(w, r)
		e.ResponseHeaders(w.Header())
	})
}

// FuzzApply checks that no request path or query makes Apply panic and that
// a rewritten request stays rooted.
func FuzzApply(f *testing.F) {
	e, err := (&Config{
		Rewrites:  []Rewrite{{Match: "^/old/(.*)$", Replace: "/new/$1?x=$1"}, {Match: "x", Replace: "/$0"}},
		Redirects: []Redirect{{Match: "^/r/(.*)$", Location: "/to/$1", Status: 302, PreserveQuery: true}},
		Normalize: Normalize{LowercaseHost: true, SortQuery: true, DropQuery: []string{"utm_*"}, StripCookies: true},
		Deny:      Deny{Paths: []string{"/admin"}},
	}).Compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("/old/a", "b=1&a=2", "c=1")
	f.Add("/r/%0d%0a", "", "")
	f.Fuzz(func(t *testing.T, path, query, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		if _, done := e.Apply(w, r); done {
			return
		}
		if r.URL.Path != path && (r.URL.Path == "" || r.URL.Path[0] != '/') {
			t.Fatalf("rewrote %q to unrooted %q", path, r.URL.Path)
		}
	})
}
