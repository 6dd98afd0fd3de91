package transcode

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	cachedpb "cairn.dev/cairn/proto/cairn/cached/v1"
	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// The request-side rules, checked without an upstream: what reaches Invoke
// (or that nothing does) for each kind of request.
func TestRequestMapping(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		status   int
		errText  string        // in the error message (status != 200)
		sent     proto.Message // the request Invoke got (status 200)
		fullName string        // the gRPC method called (status 200)
	}{
		{name: "json names", method: "POST", path: "KVService/range", body: `{"key":"Zw==","rangeEnd":"aA==","keysOnly":true}`,
			status: 200, sent: &kvpb.RangeRequest{Key: []byte("g"), RangeEnd: []byte("h"), KeysOnly: true}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "proto names and string int64", method: "POST", path: "KVService/Range", body: `{"key":"Zw==","range_end":"aA==","limit":"7"}`,
			status: 200, sent: &kvpb.RangeRequest{Key: []byte("g"), RangeEnd: []byte("h"), Limit: 7}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "empty body is the empty message", method: "POST", path: "KVService/range", body: "",
			status: 200, sent: &kvpb.RangeRequest{}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "whitespace body is the empty message", method: "POST", path: "KVService/range", body: " \n\t",
			status: 200, sent: &kvpb.RangeRequest{}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "snake case method", method: "POST", path: "KVService/delete_range", body: `{"key":"Zw=="}`,
			status: 200, sent: &kvpb.DeleteRangeRequest{Key: []byte("g")}, fullName: "/cairn.raftkv.v1.KVService/DeleteRange"},
		{name: "kebab case method", method: "POST", path: "KVService/Delete-Range/", body: `{}`,
			status: 200, sent: &kvpb.DeleteRangeRequest{}, fullName: "/cairn.raftkv.v1.KVService/DeleteRange"},
		{name: "query scalars and enum name", method: "GET", path: "KVService/range?key=Zw%3D%3D&limit=3&count_only=true&consistency=CONSISTENCY_SERIALIZABLE",
			status: 200, sent: &kvpb.RangeRequest{Key: []byte("g"), Limit: 3, CountOnly: true, Consistency: kvpb.Consistency_CONSISTENCY_SERIALIZABLE}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "query enum number", method: "GET", path: "KVService/range?consistency=2",
			status: 200, sent: &kvpb.RangeRequest{Consistency: kvpb.Consistency_CONSISTENCY_SERIALIZABLE}, fullName: "/cairn.raftkv.v1.KVService/Range"},
		{name: "query repeated field", method: "GET", path: "CacheService/mget?keys=YQ%3D%3D&keys=Yg%3D%3D",
			status: 200, sent: &cachedpb.MGetRequest{Keys: [][]byte{[]byte("a"), []byte("b")}}, fullName: "/cairn.cached.v1.CacheService/MGet"},
		{name: "get without query", method: "GET", path: "KVService/range",
			status: 200, sent: &kvpb.RangeRequest{}, fullName: "/cairn.raftkv.v1.KVService/Range"},

		{name: "unknown field", method: "POST", path: "KVService/range", body: `{"key":"Zw==","bogus":1}`, status: 400, errText: `unknown field "bogus"`},
		{name: "unknown nested field", method: "POST", path: "KVService/txn", body: `{"success":[{"requestPut":{"key":"Zw==","valu":"eA=="}}]}`, status: 400, errText: `unknown field "valu"`},
		{name: "malformed json", method: "POST", path: "KVService/range", body: `{"key":`, status: 400, errText: "request"},
		{name: "wrong type", method: "POST", path: "KVService/range", body: `{"keysOnly":"yes"}`, status: 400, errText: "keysOnly"},
		{name: "not base64", method: "POST", path: "KVService/range", body: `{"key":"!!"}`, status: 400, errText: "key"},
		{name: "not an object", method: "POST", path: "KVService/range", body: `[1]`, status: 400, errText: "request"},
		{name: "query unknown parameter", method: "GET", path: "KVService/range?nope=1", status: 400, errText: `query parameter "nope": no such field`},
		{name: "query message field", method: "GET", path: "KVService/txn?compare=x", status: 400, errText: "is a message"},
		{name: "query repeated for singular", method: "GET", path: "KVService/range?limit=1&limit=2", status: 400, errText: "not repeated"},
		{name: "query bad number", method: "GET", path: "KVService/range?limit=many", status: 400, errText: "limit"},
		{name: "get with a body", method: "GET", path: "KVService/range", body: `{"key":"Zw=="}`, status: 400, errText: "GET carries no body"},
		{name: "put method", method: "PUT", path: "KVService/range", body: `{}`, status: 405, errText: "use POST"},
		{name: "unknown method", method: "POST", path: "KVService/frobnicate", body: `{}`, status: 404, errText: `no method "frobnicate"`},
		{name: "client streaming", method: "POST", path: "LeaseService/LeaseKeepAlive", body: `{}`, status: 501, errText: "streams requests"},
	}
	services := map[string]string{
		"KVService":    "cairn.raftkv.v1.KVService",
		"LeaseService": "cairn.raftkv.v1.LeaseService",
		"CacheService": "cairn.cached.v1.CacheService",
	}
	tr := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &fakeConn{}
			svcName, _, _ := strings.Cut(tt.path, "/")
			gw := gateway(t, tr, conn, ServeOptions{})
			r := do(t, tt.method, gw.URL+"/"+services[svcName]+strings.TrimPrefix(tt.path, svcName), tt.body)
			require.Equal(t, tt.status, r.status, r.body)
			fullName, sent, _, _ := conn.last()
			if tt.status != http.StatusOK {
				require.Empty(t, fullName, "nothing is sent upstream")
				e := r.json(t)
				require.Contains(t, e["message"], tt.errText)
				require.NotEmpty(t, e["status"])
				if tt.status == http.StatusMethodNotAllowed {
					require.Equal(t, "GET, POST", r.header.Get("Allow"))
				}
				return
			}
			require.Equal(t, tt.fullName, fullName)
			got := tt.sent.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(sent, got))
			require.True(t, proto.Equal(tt.sent, got), "sent %v, want %v", got, tt.sent)
		})
	}
}

// An unknown method's 404 names only what the caller sent, not the
// service's methods.
func TestUnknownMethodListsNothing(t *testing.T) {
	gw := gateway(t, New(Config{}), &fakeConn{}, ServeOptions{})
	r := do(t, http.MethodPost, gw.URL+"/cairn.raftkv.v1.KVService/nope", `{}`)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "NOT_FOUND", r.json(t)["status"])
	for _, m := range []string{"Range", "Put", "Txn", "Compact"} {
		require.NotContains(t, r.body, m)
	}
}

// Bodies over MaxBody are refused with 413, whether the length is declared
// or not, and nothing is sent upstream.
func TestBodyLimit(t *testing.T) {
	conn := &fakeConn{}
	gw := gateway(t, New(Config{MaxBody: 64}), conn, ServeOptions{})
	url := gw.URL + "/cairn.raftkv.v1.KVService/range"
	fits := `{"key":"` + strings.Repeat("A", 64-10) + `"}` // exactly 64 bytes
	require.Len(t, fits, 64)
	r := do(t, http.MethodPost, url, fits)
	require.Equal(t, http.StatusOK, r.status, r.body)

	conn = &fakeConn{}
	gw = gateway(t, New(Config{MaxBody: 64}), conn, ServeOptions{})
	url = gw.URL + "/cairn.raftkv.v1.KVService/range"
	big := `{"key":"` + strings.Repeat("A", 64-9) + `"}` // 65 bytes
	r = do(t, http.MethodPost, url, big)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
	require.Contains(t, r.json(t)["message"], "larger than 64 bytes")

	// Chunked: no Content-Length, the limit still holds.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(big))
		_ = pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	method, _, _, _ := conn.last()
	require.Empty(t, method, "nothing is sent upstream")
}

// A reply renders in proto3 JSON: lowerCamelCase names, bytes in base64,
// int64 as strings, unpopulated fields left out.
func TestReplyRendering(t *testing.T) {
	conn := &fakeConn{reply: &kvpb.RangeResponse{
		Header: &kvpb.ResponseHeader{Revision: 9},
		Kvs:    []*kvpb.KeyValue{{Key: []byte("g"), Value: []byte("hello"), ModRevision: 9}},
		Count:  1,
	}}
	gw := gateway(t, New(Config{}), conn, ServeOptions{})
	r := do(t, http.MethodPost, gw.URL+"/cairn.raftkv.v1.KVService/range", `{"key":"Zw=="}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.JSONEq(t, `{"header":{"revision":"9"},"kvs":[{"key":"Zw==","modRevision":"9","value":"aGVsbG8="}],"count":"1"}`, r.body)
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
}

// A Transcoder over descriptors with no compiled-in Go types (here: a
// rebuilt copy of raftkv.proto) works through dynamicpb, with the same
// results.
func TestDynamicMessages(t *testing.T) {
	fdp := protodesc.ToFileDescriptorProto(kvpb.File_cairn_raftkv_v1_raftkv_proto)
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	require.NoError(t, err)
	files := new(protoregistry.Files)
	require.NoError(t, files.RegisterFile(fd))
	svc, err := New(Config{Files: files}).Service("cairn.raftkv.v1.KVService")
	require.NoError(t, err)
	_, dynamic := svc.exact["Range"].input.New().Interface().(*dynamicpb.Message)
	require.True(t, dynamic, "no Go type for these descriptors")
	global, err := New(Config{}).Service("cairn.raftkv.v1.KVService")
	require.NoError(t, err)
	_, concrete := global.exact["Range"].input.New().Interface().(*kvpb.RangeRequest)
	require.True(t, concrete, "the compiled-in Go type is used")

	conn := &fakeConn{reply: &kvpb.RangeResponse{Kvs: []*kvpb.KeyValue{{Key: []byte("g"), Value: []byte("v")}}, Count: 1}}
	req := httptest.NewRequest(http.MethodPost, "/v1/kv/range", strings.NewReader(`{"key":"Zw==","consistency":"CONSISTENCY_SERIALIZABLE"}`))
	rec := httptest.NewRecorder()
	svc.Serve(rec, req, "range", conn, ServeOptions{})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"kvs":[{"key":"Zw==","value":"dg=="}],"count":"1"}`, rec.Body.String())
	_, sent, _, _ := conn.last()
	var got kvpb.RangeRequest
	require.NoError(t, proto.Unmarshal(sent, &got))
	require.True(t, proto.Equal(&kvpb.RangeRequest{Key: []byte("g"), Consistency: kvpb.Consistency_CONSISTENCY_SERIALIZABLE}, &got))
}
