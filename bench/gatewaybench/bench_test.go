package gatewaybench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkUpstreamHandler is the upstream's own cost per request, without
// the network: a floor under every proxied number.
func BenchmarkUpstreamHandler(b *testing.B) {
	u := &Upstream{}
	req := httptest.NewRequest(http.MethodGet, "/cache/cacheable", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		u.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkIsHit is the generator's per-answer header check.
func BenchmarkIsHit(b *testing.B) {
	h := http.Header{"Cache-Status": {"edge; fwd=miss, cairn-gateway; hit; ttl=30"}}
	for b.Loop() {
		if !isHit(h) {
			b.Fatal("no hit")
		}
	}
}

// FuzzIsHit: any Cache-Status or X-Cache value is parsed without a panic, and
// a value with a hit member appended is always a hit.
func FuzzIsHit(f *testing.F) {
	for _, s := range []string{"", "cairn-gateway; hit", "a; fwd=miss, b; hit; ttl=3", ";;,,", "hit"} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, cacheStatus, xCache string) {
		h := http.Header{}
		h.Set("Cache-Status", cacheStatus)
		h.Set("X-Cache", xCache)
		_ = isHit(h)
		h.Set("Cache-Status", cacheStatus+", fuzz; hit")
		if !isHit(h) {
			t.Fatalf("Cache-Status %q with a hit member appended: not a hit", cacheStatus)
		}
	})
}
