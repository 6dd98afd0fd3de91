package gwconfig

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// bigDocument is a valid document with n routes, each with a pattern, a
// rate limit and a header edit.
func bigDocument(n int) []byte {
	var b strings.Builder
	b.WriteString("upstreams:\n  - {name: u, targets: [{address: \"10.0.0.1:80\"}, {address: \"10.0.0.2:80\", weight: 2}]}\nroutes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - name: r%d\n    upstream: u\n    match: {hosts: [h%d.example.com], paths: [{pattern: \"/v1/s%d/{id}/{rest...}\"}], methods: [GET]}\n", i, i, i)
		fmt.Fprintf(&b, "    rewrite: {path: \"/{id}/{rest}\"}\n    rate_limits: [{by: ip, limit: 10, per: 1s}]\n    request: {headers: {add: {X-Route: r%d}}}\n", i)
	}
	return []byte(b.String())
}

func TestCountLimitsThroughParse(t *testing.T) {
	if _, err := Parse(bigDocument(MaxRoutes)); err != nil {
		t.Fatalf("%d routes: %v", MaxRoutes, err)
	}
	_, err := Parse(bigDocument(MaxRoutes + 1))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Error() != "routes: has 1001 entries, the limit is 1000 (line 3)" {
		t.Fatalf("%d routes: %v", MaxRoutes+1, err)
	}
}

func BenchmarkParseFull(b *testing.B) {
	src, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse1000Routes parses a document at the route limit.
func BenchmarkParse1000Routes(b *testing.B) {
	src := bigDocument(MaxRoutes)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
