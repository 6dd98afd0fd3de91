package respcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// discardWriter is a ResponseWriter that keeps its header map between
// requests (cleared), as net/http's pooled response does not: it isolates
// the cache's own cost.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkLocalHit is the gateway's hit path: Key, Lookup in the local
// tier, Serve of a ~100-byte response.
func BenchmarkLocalHit(b *testing.B) {
	c := New(Config{})
	defer c.Close()
	r := httptest.NewRequest("GET", "http://api.example.com/cacheable", nil)
	h := http.Header{"Cache-Control": {"public, max-age=60"}, "Content-Type": {"text/plain; charset=utf-8"},
		"Date": {time.Now().UTC().Format(http.TimeFormat)}}
	key := Key("bench", r, testSpec)
	require.NotNil(b, c.Put(context.Background(), key, r, 200, h, []byte(strings.Repeat("x", 100)), time.Hour))
	w := &discardWriter{h: http.Header{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e, ok := c.Lookup(ctx, Key("bench", r, testSpec), r)
		if !ok {
			b.Fatal("miss")
		}
		e.Serve(w, r)
	}
}

// BenchmarkLocalHitParallel is BenchmarkLocalHit from GOMAXPROCS goroutines.
func BenchmarkLocalHitParallel(b *testing.B) {
	c := New(Config{})
	defer c.Close()
	r := httptest.NewRequest("GET", "http://api.example.com/cacheable", nil)
	key := Key("bench", r, testSpec)
	c.Put(context.Background(), key, r, 200, http.Header{"Content-Type": {"text/plain"}}, []byte(strings.Repeat("x", 100)), time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			e, ok := c.Lookup(context.Background(), Key("bench", r, testSpec), r)
			if !ok {
				b.Fatal("miss")
			}
			e.Serve(w, r)
		}
	})
}

// BenchmarkHitOverHTTP serves hits through a real loopback HTTP server, the
// number to hold against a plain proxy's.
func BenchmarkHitOverHTTP(b *testing.B) {
	c := New(Config{})
	defer c.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e, ok := c.Lookup(r.Context(), Key("bench", r, testSpec), r); ok {
			e.Serve(w, r)
			return
		}
		http.Error(w, "miss", 500)
	}))
	defer srv.Close()
	r := httptest.NewRequest("GET", srv.URL+"/cacheable", nil)
	r.Host = srv.Listener.Addr().String()
	c.Put(context.Background(), Key("bench", r, testSpec), r, 200, http.Header{"Content-Type": {"text/plain"}}, []byte(strings.Repeat("x", 100)), time.Hour)
	client := srv.Client()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(srv.URL + "/cacheable")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}

// BenchmarkDecodeEntry measures reading an entry from the shared tier.
func BenchmarkDecodeEntry(b *testing.B) {
	buf := EncodeEntry(sampleEntry())
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEntry(buf); err != nil {
			b.Fatal(err)
		}
	}
}
