package httpcache

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkHit measures parallel hits on a warm cache (a 4 KiB object).
func BenchmarkHit(b *testing.B) {
	c, _, _ := newTestCache(b, Options{})
	o := &origin{}
	o.set(respond(200, strings.Repeat("x", 4096), "Cache-Control: max-age=3600", `ETag: "b"`))
	do(c, o, "GET", "/hot")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/hot", nil)
		for pb.Next() {
			w := discardWriter{h: http.Header{}}
			if c.Serve(w, r, "/hot", o.Fetch) != Hit {
				b.Fatal("not a hit")
			}
		}
	})
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
