package gwconfig

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseErrors checks the exact text of decoding errors: path, message
// and line.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"bad duration", `
routes:
  - name: r
    rate_limits:
      - by: ip
        limit: 1
        per: 1x
`, []string{`routes[0].rate_limits[0].per: "1x" is not a duration (like 500ms, 30s, 5m) (line 7)`}},
		{"integer duration", "upstreams:\n  - name: u\n    timeouts: {connect: 30}\n",
			[]string{`upstreams[0].timeouts.connect: "30" is not a duration (like 500ms, 30s, 5m) (line 3)`}},
		{"unknown top-level field", "version: 1\nroute: []\n",
			[]string{`route: unknown field (did you mean routes?) (line 2)`}},
		{"unknown nested field without suggestion", "upstreams:\n  - name: u\n    colour: blue\n",
			[]string{`upstreams[0].colour: unknown field (line 3)`}},
		{"duplicate key", "version: 1\nversion: 1\n", []string{`version: duplicate key (line 2)`}},
		{"duplicate map key", "routes:\n  - headers:\n      A: x\n      A: y\n",
			[]string{`routes[0].headers.A: duplicate key (line 4)`}},
		{"string for int", "version: one\n", []string{`version: "one" is not an integer (line 1)`}},
		{"float for int", "version: 1.5\n", []string{`version: "1.5" is not an integer (line 1)`}},
		{"int overflow", "upstreams:\n  - targets: [{weight: 99999999999999999999}]\n",
			[]string{`upstreams[0].targets[0].weight: "99999999999999999999" is not an integer (line 2)`}},
		{"string for bool", "upstreams:\n  - tls: {cluster: maybe}\n",
			[]string{`upstreams[0].tls.cluster: "maybe" is not true or false (line 2)`}},
		{"list for string", "upstreams:\n  - name: [a]\n", []string{`upstreams[0].name: must be a string, not a list (line 2)`}},
		{"mapping for list", "routes: {a: 1}\n", []string{`routes: must be a list, not a mapping (line 1)`}},
		{"scalar for struct", "routes:\n  - match: yes\n", []string{`routes[0].match: must be a mapping, not "yes" (line 2)`}},
		{"bad byte size", "routes:\n  - max_body: 10MB5\n",
			[]string{`routes[0].max_body: "10MB5" is not a byte size (like 1048576, 512KiB, 10MiB, 1GiB) (line 2)`}},
		{"negative byte size", "routes:\n  - max_body: -1\n",
			[]string{`routes[0].max_body: "-1" is not a byte size (like 1048576, 512KiB, 10MiB, 1GiB) (line 2)`}},
		{"NaN", "upstreams:\n  - circuit_breaker: {error_rate: .nan}\n",
			[]string{`upstreams[0].circuit_breaker.error_rate: ".nan" is not a number (line 2)`}},
		{"non-string key", "routes:\n  - headers: {[a]: b}\n", []string{`routes[0].headers: keys must be strings, not a list (line 2)`}},
		{"merge key", "base: &b {name: x}\nroutes:\n  - <<: *b\n", []string{
			`base: unknown field (line 1)`, `routes[0]: merge keys (<<) are not supported (line 3)`}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{`more than one YAML document (---) (line 2)`}},
		{"syntax", "routes: [\n", []string{`yaml syntax: did not find expected node content (line 1)`}},
		{"several, sorted by path naturally", `
routes:
  - {name: a, x10: 1}
  - {name: b, x2: 1}
  - {name: c, x1: 1}
  - {name: d, x1: 1}
  - {name: e, x1: 1}
  - {name: f, x1: 1}
  - {name: g, x1: 1}
  - {name: h, x1: 1}
  - {name: i, x1: 1}
  - {name: j, x1: 1}
  - {name: k, timeout: 1}
`, []string{
			`routes[0].x10: unknown field (line 3)`,
			`routes[1].x2: unknown field (line 4)`,
			`routes[2].x1: unknown field (line 5)`,
			`routes[3].x1: unknown field (line 6)`,
			`routes[4].x1: unknown field (line 7)`,
			`routes[5].x1: unknown field (line 8)`,
			`routes[6].x1: unknown field (line 9)`,
			`routes[7].x1: unknown field (line 10)`,
			`routes[8].x1: unknown field (line 11)`,
			`routes[9].x1: unknown field (line 12)`,
			`routes[10].timeout: "1" is not a duration (like 500ms, 30s, 5m) (line 13)`,
		}},
		{"validation error under a quoted map key", `
upstreams: [{name: u, service: s}]
routes:
  - name: r
    upstream: u
    headers:
      "a b": x
      X-Ok: "y"
`, []string{`routes[0].headers["a b"]: "a b" is not a valid header name (line 7)`}},
		{"validation error under an alias", `
upstreams: [{name: u, service: s}]
routes:
  - name: r
    upstream: u
    rate_limits: &rl
      - {by: ip, limit: 1, per: 1s}
  - name: r2
    upstream: u
    rate_limits: *rl
  - name: r3
    upstream: u
    rate_limits:
      - {by: ip, limit: 1, per: 1ms}
`, []string{`routes[2].rate_limits[0].per: must be at least 1s (line 14)`}},
		{"validation errors carry lines", "upstreams:\n  - name: u\n    targets: [{address: nope}]\n",
			[]string{`upstreams[0].targets[0].address: "nope": must be host:port (line 3)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.src))
			if d != nil || err == nil {
				t.Fatalf("Parse = %v, %v; want an error", d, err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestDefaultTimeoutsFitTotal checks that defaulted phase timeouts shrink
// to a shorter total, while explicit ones longer than it are errors.
func TestDefaultTimeoutsFitTotal(t *testing.T) {
	d, err := Parse([]byte("upstreams: [{name: u, service: s, timeouts: {total: 1s}}]"))
	if err != nil {
		t.Fatal(err)
	}
	if to := d.Upstreams[0].Timeouts; to.Connect != time.Second || to.ResponseHeader != time.Second || to.Idle != DefaultIdleTimeout {
		t.Errorf("timeouts %+v", to)
	}
	_, err = Parse([]byte("upstreams: [{name: u, service: s, timeouts: {total: 1s, response_header: 2s}}]"))
	if err == nil || !strings.Contains(err.Error(), "response_header: 2s is longer than total (1s)") {
		t.Errorf("explicit response_header over total: %v", err)
	}
}

func TestParseEmptyAndNull(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "version: 1\nupstreams: []\nroutes: ~\n"} {
		d, err := Parse([]byte(src))
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if d.Version != 1 || d.Routes != nil || d.Upstreams != nil {
			t.Errorf("Parse(%q) = %+v, want an empty version 1 document", src, d)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	src := []byte("# " + strings.Repeat("x", MaxDocumentBytes) + "\n")
	_, err := Parse(src)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Parse of %d bytes: %v, want ErrTooLarge", len(src), err)
	}
}

// TestParseAliasBomb checks that aliases cannot expand a small document
// into a huge decode: 2000 routes that each alias a list of 2000 paths would
// be 4 million path nodes.
func TestParseAliasBomb(t *testing.T) {
	const n = 2000
	var b strings.Builder
	b.WriteString("upstreams: [{name: u, targets: [{address: \"127.0.0.1:1\"}]}]\n")
	b.WriteString("jwt_providers:\n  - name: p\n    audiences: &p [")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("a" + strconv.Itoa(i))
	}
	b.WriteString("]\nroutes:\n  - &r {upstream: u, authorize: {scopes: *p}}\n")
	for i := 1; i < n; i++ {
		b.WriteString("  - *r\n")
	}
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 nodes") {
		t.Fatalf("Parse of an alias bomb: %.300v, want the node limit", err)
	}
}

// TestParseAliases checks that a plain anchor and alias are decoded.
func TestParseAliases(t *testing.T) {
	src := `
upstreams:
  - name: a
    targets: &t [{address: "127.0.0.1:1"}]
  - name: b
    targets: *t
`
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.Upstreams[1].Targets[0].Address != "127.0.0.1:1" {
		t.Errorf("alias not decoded: %+v", d.Upstreams[1])
	}
}
