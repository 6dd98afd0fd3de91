package httpproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// benchBody is the ~100-byte answer of the benchmark upstream.
var benchBody = []byte(`{"message":"hello from the benchmark upstream","padding":"0123456789012345678901234567890123"}`)

// benchUpstream answers every request with benchBody and a Content-Length.
func benchUpstream(b *testing.B) string {
	cl := []string{strconv.Itoa(len(benchBody))}
	ct := []string{"application/json"}
	return upstream(b, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Length"] = cl
		h["Content-Type"] = ct
		_, _ = w.Write(benchBody)
	})
}

// BenchmarkForward measures the whole path: a keep-alive HTTP/1.1 client,
// the proxy's Server and Forward, and a local upstream, all in this
// process (allocations of all three are counted).
func BenchmarkForward(b *testing.B) {
	up := benchUpstream(b)
	p := newProxy(b, Config{})
	tr := newTransport(b, TransportConfig{})
	u := Upstream{Name: "bench", Route: "bench", Target: up, Transport: tr}
	srv := serve(b, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Forward(w, r, u)
	}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	url := "http://" + srv.Addr() + "/bench"
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkForwardOnly measures Forward alone (the proxy and its upstream
// transport) with a prepared request and a discarding writer.
func BenchmarkForwardOnly(b *testing.B) {
	up := benchUpstream(b)
	p := newProxy(b, Config{})
	tr := newTransport(b, TransportConfig{})
	u := Upstream{Name: "bench", Route: "bench", Target: up, Transport: tr}
	r := httptest.NewRequest(http.MethodGet, "http://front.test/bench", nil)
	r.Header.Set("X-Request-Id", "0123456789abcdef0123456789abcdef")
	r.Header.Set("User-Agent", "bench")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		if o := p.Forward(w, r, u); o.Status != 200 {
			b.Fatalf("outcome %+v", o)
		}
	}
}

// BenchmarkOutboundHeader measures building the upstream request header
// for a typical browser-like request.
func BenchmarkOutboundHeader(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "http://front.test/api/items?page=2", nil)
	for k, v := range map[string]string{
		"Accept": "application/json", "Accept-Encoding": "gzip, br", "Accept-Language": "en",
		"User-Agent": "bench/1.0", "Cookie": "session=abc", "Authorization": "Bearer x.y.z",
		"Connection": "keep-alive", "X-Request-Id": "0123456789abcdef0123456789abcdef",
	} {
		r.Header.Set(k, v)
	}
	var vals [4]string
	b.ReportAllocs()
	for b.Loop() {
		_ = outboundHeader(r, "0123456789abcdef0123456789abcdef", false, &vals)
	}
}

// BenchmarkRetryBudget measures the per-request bookkeeping of the budget
// under parallel load.
func BenchmarkRetryBudget(b *testing.B) {
	budget := NewRetryBudget(0.2, 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			budget.Request()
		}
	})
}

// BenchmarkUpstreamRoundTrip compares the upstream clients alone: a GET and
// its ~100-byte body over a keep-alive connection, through the package's
// HTTP/1.1 client and through a tuned http.Transport.
func BenchmarkUpstreamRoundTrip(b *testing.B) {
	up := benchUpstream(b)
	own := newTransport(b, TransportConfig{})
	std := newTransport(b, TransportConfig{MaxConnsPerHost: 1 << 20}) // keeps http.Transport
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{{"h1client", own}, {"http.Transport", std}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "http://"+up+"/bench", nil)
			req.RequestURI = ""
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkServerHTTP1 measures the listening side alone: a keep-alive
// HTTP/1.1 client and the Server answering benchBody from the handler.
func BenchmarkServerHTTP1(b *testing.B) {
	cl := []string{strconv.Itoa(len(benchBody))}
	srv := serve(b, ServerConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = cl
		_, _ = w.Write(benchBody)
	}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	url := "http://" + srv.Addr() + "/bench"
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
