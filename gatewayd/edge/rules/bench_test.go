package rules

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkApply runs the full rule set of the package doc on a request that
// passes every rule (no answer).
func BenchmarkApply(b *testing.B) {
	cfg, err := Parse([]byte(fullDoc))
	if err != nil {
		b.Fatal(err)
	}
	e, err := cfg.Compile()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "http://Example.com/old/a/b.css?z=1&utm_source=x&a=2", nil)
			r.RemoteAddr = "10.1.2.3:5555"
			r.Header.Set("Cookie", "session=1; ab_checkout=0123456789abcdef0123456789abcdef")
			r.Header.Set("User-Agent", "Mozilla/5.0")
			if _, done := e.Apply(httptest.NewRecorder(), r); done {
				b.Fatal("answered")
			}
		}
	})
}
