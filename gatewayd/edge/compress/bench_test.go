package compress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkWriter compresses a 64 KiB text body with each coding at its
// default level; b.SetBytes reports input throughput, the ratio is logged.
func BenchmarkWriter(b *testing.B) {
	body := textBody(11, 64<<10)
	for _, enc := range []string{Gzip, Brotli, Zstd} {
		b.Run(enc, func(b *testing.B) {
			var cw countWriter
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				cw = 0
				w, err := NewWriter(&cw, enc, 0)
				if err != nil {
					b.Fatal(err)
				}
				w.Write(body)
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cw)/float64(len(body)), "ratio")
		})
	}
}

// BenchmarkHandler serves a 16 KiB JSON response through the middleware.
func BenchmarkHandler(b *testing.B) {
	body := textBody(12, 16<<10)
	next := origin(200, map[string]string{"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(body))}, body)
	h := Handler(next, Options{})
	for _, enc := range []string{Gzip, Brotli, Zstd} {
		b.Run(enc, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/x", nil)
				r.Header.Set("Accept-Encoding", enc)
				for pb.Next() {
					w := &discardResponse{h: http.Header{}}
					h.ServeHTTP(w, r)
				}
			})
		})
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { return io.Discard.Write(p) }
