package route

import (
	"net/http"
	"strconv"
	"testing"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// benchRoutes is a realistic table: per service an exact path on a shared
// host, a prefix on its own host with a header constraint, and a pattern.
func benchRoutes(n int) []gwconfig.Route {
	var rs []gwconfig.Route
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		rs = append(rs,
			rt("exact"+s, hosts("api.example.com"), paths(ex("/svc/"+s+"/exact")), methods("GET", "POST")),
			rt("prefix"+s, hosts("svc"+s+".example.com", "*.svc"+s+".example.com"), paths(pre("/svc/"+s)), header("X-Tenant", "t1")),
			rt("pattern"+s, paths(pat("/svc/"+s+"/users/{id}/orders/{rest...}"))),
		)
	}
	rs = append(rs, rt("catch-all"))
	return rs
}

func benchMatch(b *testing.B, host, method, path string, want string) {
	routes := benchRoutes(300)
	r, err := New(routes)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{"X-Tenant": {"t1"}, "Accept": {"*/*"}, "User-Agent": {"bench"}}
	if res := r.Match(host, method, path, h); !res.Matched || routes[res.Route].Name != want {
		b.Fatalf("matched %+v, want %s", res, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Match(host, method, path, h)
	}
}

func BenchmarkMatchExact(b *testing.B) {
	benchMatch(b, "api.example.com:443", "GET", "/svc/150/exact", "exact150")
}

func BenchmarkMatchPrefix(b *testing.B) {
	benchMatch(b, "svc150.example.com", "GET", "/svc/150/items/42/details", "prefix150")
}

func BenchmarkMatchWildcardPrefix(b *testing.B) {
	benchMatch(b, "eu.svc150.example.com", "GET", "/svc/150/items", "prefix150")
}

func BenchmarkMatchPattern(b *testing.B) {
	benchMatch(b, "x.example.com", "GET", "/svc/150/users/9/orders/1/2", "pattern150")
}

func BenchmarkMatchCatchAll(b *testing.B) {
	benchMatch(b, "x.example.com", "GET", "/unknown/path", "catch-all")
}

func BenchmarkCleanPath(b *testing.B) {
	for _, p := range []string{"/api/v1/users/123", "/api//v1/./users/../users/%7e123"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				CleanPath(p)
			}
		})
	}
}
