package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const fullDoc = `
rewrites:
  - match: ^/old/(.*)$
    replace: /new/$1
redirects:
  - match: ^/blog/(.*)$
    location: https://blog.example.com/$1
    status: 301
    preserve_query: true
normalize:
  lowercase_host: true
  sort_query: true
  drop_query: [utm_*, fbclid]
  strip_cookies: true
ab:
  - name: checkout
    cookie: ab_checkout
    header: X-AB-Checkout
    max_age: 720h
    buckets: [{name: a, weight: 90}, {name: b, weight: 10}]
headers:
  request_set: {X-Edge: "1"}
  request_remove: [X-Debug]
  response_set: {Strict-Transport-Security: max-age=31536000}
  response_remove: [Server]
deny:
  cidrs: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7]
  user_agents: [BadBot, "re:^curl/7\\."]
  paths: [/admin, /.git]
`

func TestParseFull(t *testing.T) {
	cfg, err := Parse([]byte(fullDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rewrites) != 1 || cfg.Rewrites[0].Replace != "/new/$1" {
		t.Errorf("rewrites = %+v", cfg.Rewrites)
	}
	if rd := cfg.Redirects[0]; rd.Status != 301 || !rd.PreserveQuery || rd.Location != "https://blog.example.com/$1" {
		t.Errorf("redirects = %+v", cfg.Redirects)
	}
	n := cfg.Normalize
	if !n.LowercaseHost || !n.SortQuery || !n.StripCookies || strings.Join(n.DropQuery, ",") != "utm_*,fbclid" {
		t.Errorf("normalize = %+v", n)
	}
	ab := cfg.AB[0]
	if ab.Name != "checkout" || ab.Cookie != "ab_checkout" || ab.Header != "X-AB-Checkout" || ab.MaxAge != 720*time.Hour ||
		len(ab.Buckets) != 2 || ab.Buckets[1] != (Bucket{"b", 10}) {
		t.Errorf("ab = %+v", ab)
	}
	if cfg.Headers.RequestSet["X-Edge"] != "1" || cfg.Headers.ResponseRemove[0] != "Server" {
		t.Errorf("headers = %+v", cfg.Headers)
	}
	if len(cfg.Deny.CIDRs) != 3 || cfg.Deny.UserAgents[1] != `re:^curl/7\.` || cfg.Deny.Paths[1] != "/.git" {
		t.Errorf("deny = %+v", cfg.Deny)
	}
	if _, err := cfg.Compile(); err != nil {
		t.Fatal(err)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "{}", "~"} {
		cfg, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		e, err := cfg.Compile()
		if err != nil {
			t.Fatal(err)
		}
		if e.String() != "rules{rewrites:0 redirects:0 ab:0 deny:0}" {
			t.Errorf("engine %s", e)
		}
	}
}

// TestParseErrors checks that each bad document is refused with an error
// naming the path of the problem (and its line when the problem is at one).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"unknown top", "rewrite: []", []string{"rewrite: unknown field (known: rewrites, redirects"}},
		{"unknown nested", "rewrites:\n  - match: a\n    replace: /b\n  - match: a\n    replac: /b\n", []string{"rewrites[1].replac: unknown field", "(line 5)"}},
		{"bad regexp", "rewrites:\n  - {match: '/a', replace: /b}\n  - {match: '/a', replace: /b}\n  - {match: '(', replace: /x}\n", []string{"rewrites[2].match: missing closing ): `(`", "(line 4)"}},
		{"replace not rooted", "rewrites: [{match: a, replace: b}]", []string{`rewrites[0].replace: "b" must start with "/"`}},
		{"replace missing", "rewrites: [{match: a}]", []string{"rewrites[0].replace: required"}},
		{"match missing", "redirects: [{location: /x, status: 301}]", []string{"redirects[0].match: required"}},
		{"redirect status", "redirects: [{match: a, location: /x, status: 303}]", []string{"redirects[0].status: 303 is not a redirect status (one of 301, 302, 307, 308)"}},
		{"redirect status missing", "redirects: [{match: a, location: /x}]", []string{"redirects[0].status: required"}},
		{"redirect location", "redirects: [{match: a, status: 302}]", []string{"redirects[0].location: required"}},
		{"status not int", "redirects: [{match: a, location: /x, status: moved}]", []string{`redirects[0].status: "moved" is not an integer`}},
		{"bool", "normalize: {sort_query: yes please}", []string{`normalize.sort_query: "yes please" is not true or false`}},
		{"glob", "normalize: {drop_query: ['utm_*', '[']}", []string{"normalize.drop_query[1]: \"[\" is not a glob"}},
		{"list not map", "normalize: [1]", []string{"normalize: must be a mapping, not a list"}},
		{"ab name", "ab: [{name: 'a b', cookie: c, buckets: [{name: x, weight: 1}]}]", []string{`ab[0].name: "a b" must be 1 to 64`}},
		{"ab cookie", "ab: [{name: t, cookie: 'c;d', buckets: [{name: x, weight: 1}]}]", []string{`ab[0].cookie: "c;d" is not a cookie name`}},
		{"ab no buckets", "ab: [{name: t, cookie: c}]", []string{"ab[0].buckets: at least one bucket is required"}},
		{"ab weights zero", "ab: [{name: t, cookie: c, buckets: [{name: x, weight: 0}]}]", []string{"ab[0].buckets: weights sum to 0"}},
		{"ab negative", "ab: [{name: t, cookie: c, buckets: [{name: x, weight: -1}]}]", []string{"ab[0].buckets[0].weight: -1 is outside 0..1000000"}},
		{"ab dup bucket", "ab: [{name: t, cookie: c, buckets: [{name: x, weight: 1}, {name: x, weight: 1}]}]", []string{`ab[0].buckets[1].name: "x" is also the name of bucket 0`}},
		{"ab dup name", "ab: [{name: t, cookie: c, buckets: [{name: x, weight: 1}]}, {name: t, cookie: d, buckets: [{name: x, weight: 1}]}]", []string{`ab[1].name: "t" is also the name of ab[0]`}},
		{"ab max_age", "ab: [{name: t, cookie: c, max_age: 5ms, buckets: [{name: x, weight: 1}]}]", []string{"ab[0].max_age: 5ms is under the minimum 1s"}},
		{"ab duration", "ab: [{name: t, cookie: c, max_age: forever, buckets: [{name: x, weight: 1}]}]", []string{`ab[0].max_age: "forever" is not a duration`}},
		{"header name", "headers: {request_set: {'Bad Name': x}}", []string{`headers.request_set["Bad Name"]: "Bad Name" is not a header name`}},
		{"header dup", "headers: {response_set: {x-a: '1', X-A: '2'}}", []string{"headers.response_set"}},
		{"header remove", "headers: {response_remove: [ok, 'no:']}", []string{`headers.response_remove[1]: "no:" is not a header name`}},
		{"cidr", "deny: {cidrs: [10.0.0.0/8, 10.0.0.0/33]}", []string{`deny.cidrs[1]: "10.0.0.0/33" is not a CIDR`}},
		{"ua empty", "deny: {user_agents: ['']}", []string{"deny.user_agents[0]: must not be empty"}},
		{"ua regexp", "deny: {user_agents: ['re:[']}", []string{"deny.user_agents[0]: missing closing ]"}},
		{"deny path", "deny: {paths: [admin]}", []string{`deny.paths[0]: "admin" must start with "/"`}},
		{"duplicate key", "deny: {}\ndeny: {}\n", []string{"deny: duplicate key"}},
		{"merge", "base: &b {paths: [/a]}\n", []string{"base: unknown field"}},
		{"merge key", "deny:\n  <<: {paths: [/a]}\n", []string{"merge keys"}},
		{"two docs", "deny: {}\n---\ndeny: {}\n", []string{"more than one YAML document"}},
		{"syntax", "deny: [\n", []string{"line"}},
		{"not a mapping", "- a\n", []string{"must be a mapping, not a list"}},
		{"two problems sorted", "rewrites:\n" + strings.Repeat("  - {match: a, replace: /b}\n", 10) + "  - {match: '(', replace: /b}\n  - {match: a, replace: c}\n",
			[]string{"2 problems:\nrewrites[10].match", "\nrewrites[11].replace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("Parse accepted the document")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	_, err := Parse(make([]byte, MaxDocumentBytes+1))
	if err == nil || !strings.Contains(err.Error(), "the limit is 1048576") {
		t.Errorf("oversized document: %v", err)
	}
	long := strings.Repeat("a", MaxPatternBytes+1)
	_, err = Parse([]byte("rewrites: [{match: " + long + ", replace: /x}]"))
	if err == nil || !strings.Contains(err.Error(), "rewrites[0].match: is 4097 bytes, the limit is 4096") {
		t.Errorf("long pattern: %v", err)
	}
	// An alias bomb is refused quickly: nothing in a Config nests, so aliases
	// are never expanded deeply.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		name := "a" + string(rune('0'+i))
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString(name + ": &" + name + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	b.WriteString("deny: {paths: *a8}\n")
	_, err = Parse([]byte(b.String()))
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
}

func TestValidateBuiltInGo(t *testing.T) {
	cfg := &Config{Redirects: []Redirect{{Match: "^/a$", Location: "/b", Status: 200}}}
	err := cfg.Validate()
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Path != "redirects[0].status" || es[0].Line != 0 {
		t.Fatalf("Validate = %#v", err)
	}
}
