package transcode

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// serveOnce answers one request with svc over conn, in memory.
func serveOnce(svc *Service, conn *fakeConn, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	svc.Serve(rec, req, "txn", conn, ServeOptions{})
	return rec
}

// FuzzTranscodeBody feeds arbitrary bodies to KVService.Txn (nested
// messages, oneofs, repeated fields, enums, bytes, int64). Whatever the
// body: no panic; the answer is 200, 400 or 413 with a JSON body; nothing
// goes upstream unless it is 200; and what went upstream, rendered back to
// JSON and sent again, goes upstream unchanged.
func FuzzTranscodeBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"compare":[]}`,
		`{"compare":[{"result":"COMPARE_RESULT_GREATER","target":"COMPARE_TARGET_VERSION","key":"Zw==","version":"0"}],"success":[{"requestPut":{"key":"aA==","value":"d29ybGQ="}}]}`,
		`{"success":[{"request_range":{"key":"Zw==","limit":"10","consistency":2}}],"failure":[{"requestDeleteRange":{"key":"Zw==","prevKv":true}}]}`,
		`{"compare":[{"result":1,"target":4,"value":"eA=="}]}`,
		`{"success":[{"requestPut":{}, "requestRange":{}}]}`,
		`{"compare":[{"key":"Zw=="}],"compare":[]}`,
		`{"bogus":1}`, `{"success":[{"requestPut":{"lease":"1e3"}}]}`,
		`{"success":[{"requestPut":{"lease":9223372036854775808}}]}`,
		`{"compare":[{"key":"\u0000"}]}`, "{\"compare\":[{\"key\":\"Zw==\"}]}\n\n",
	} {
		f.Add(seed)
	}
	svc, err := New(Config{MaxBody: 1 << 16}).Service("cairn.raftkv.v1.KVService")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		conn := &fakeConn{}
		rec := serveOnce(svc, conn, http.MethodPost, "/txn", body)
		method, sent, _, _ := conn.last()
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if method != "" {
				t.Fatalf("status %d but the request went upstream", rec.Code)
			}
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		var first kvpb.TxnRequest
		if err := proto.Unmarshal(sent, &first); err != nil {
			t.Fatalf("sent bytes do not parse: %v", err)
		}
		again, err := protojson.Marshal(&first)
		if err != nil {
			t.Fatalf("rendering what was sent: %v", err)
		}
		conn2 := &fakeConn{}
		if rec := serveOnce(svc, conn2, http.MethodPost, "/txn", string(again)); rec.Code != http.StatusOK {
			t.Fatalf("re-sent %s: status %d: %s", again, rec.Code, rec.Body)
		}
		_, sent2, _, _ := conn2.last()
		var second kvpb.TxnRequest
		if err := proto.Unmarshal(sent2, &second); err != nil {
			t.Fatalf("re-sent bytes do not parse: %v", err)
		}
		if !proto.Equal(&first, &second) {
			t.Fatalf("round trip changed the request: %v then %v", &first, &second)
		}
	})
}

// FuzzTranscodeQuery feeds arbitrary query strings to a GET of
// KVService.Range: no panic, 200 or 400 with a JSON body, and nothing goes
// upstream on a 400.
func FuzzTranscodeQuery(f *testing.F) {
	for _, seed := range []string{
		"", "key=Zw%3D%3D", "key=Zw==&limit=3", "limit=1&limit=2", "consistency=2",
		"consistency=CONSISTENCY_SERIALIZABLE", "keysOnly=true", "keys_only=yes", "nope=1",
		"key=%zz", "revision=-1", "limit=1e3", ";;&&==", "key",
	} {
		f.Add(seed)
	}
	svc, err := New(Config{}).Service("cairn.raftkv.v1.KVService")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		conn := &fakeConn{}
		req := httptest.NewRequest(http.MethodGet, "/range", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		svc.Serve(rec, req, "range", conn, ServeOptions{})
		method, _, _, _ := conn.last()
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code == http.StatusBadRequest && method == "":
		default:
			t.Fatalf("query %q: status %d (sent upstream: %v): %s", query, rec.Code, method != "", rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
	})
}
