package transcode

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// BenchmarkServeUnary measures the transcoding itself: JSON body to a
// dynamic message, the (in-memory) call, the reply back to JSON.
func BenchmarkServeUnary(b *testing.B) {
	svc, err := New(Config{}).Service("cairn.raftkv.v1.KVService")
	if err != nil {
		b.Fatal(err)
	}
	conn := &fakeConn{reply: &kvpb.RangeResponse{
		Header: &kvpb.ResponseHeader{Revision: 42, RaftTerm: 3},
		Kvs:    []*kvpb.KeyValue{{Key: []byte("g"), Value: []byte("hello world"), ModRevision: 42, CreateRevision: 7, Version: 3}},
		Count:  1,
	}}
	const body = `{"key":"Zw==","limit":"10"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/kv/range", strings.NewReader(body))
		rec := httptest.NewRecorder()
		svc.Serve(rec, req, "range", conn, ServeOptions{Metadata: map[string]string{"x-cairn-consumer": "demo"}})
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkServeUnaryGRPC adds a real loopback gRPC call through a Conn.
func BenchmarkServeUnaryGRPC(b *testing.B) {
	svc, err := New(Config{}).Service("cairn.raftkv.v1.KVService")
	if err != nil {
		b.Fatal(err)
	}
	addr, _ := startFake(b, "a")
	conn := newConn(b, addr)
	const body = `{"key":"Zw=="}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/kv/range", strings.NewReader(body))
		rec := httptest.NewRecorder()
		svc.Serve(rec, req, "range", conn, ServeOptions{})
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
