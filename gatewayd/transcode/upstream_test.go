package transcode

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// startFake serves a fakeKV named name and a fakeWatch.
func startFake(t testing.TB, name string) (string, *fakeWatch) {
	t.Helper()
	w := &fakeWatch{canceled: make(chan struct{})}
	addr := startGRPC(t, func(s *grpc.Server) {
		kvpb.RegisterKVServiceServer(s, &fakeKV{name: name})
		kvpb.RegisterWatchServiceServer(s, w)
	})
	return addr, w
}

// b64 is s in base64, as protojson writes bytes.
func b64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return string(b)
}

// Every gRPC code an upstream returns becomes its google.api HTTP status
// and a JSON error with the code, its name, the message and the details.
func TestUpstreamErrorMapping(t *testing.T) {
	addr, _ := startFake(t, "a")
	gw := gateway(t, New(Config{}), newConn(t, addr), ServeOptions{})
	want := map[codes.Code]int{
		codes.Canceled: 499, codes.Unknown: 500, codes.InvalidArgument: 400,
		codes.DeadlineExceeded: 504, codes.NotFound: 404, codes.AlreadyExists: 409,
		codes.PermissionDenied: 403, codes.ResourceExhausted: 429, codes.FailedPrecondition: 400,
		codes.Aborted: 409, codes.OutOfRange: 400, codes.Unimplemented: 501,
		codes.Internal: 500, codes.Unavailable: 503, codes.DataLoss: 500,
		codes.Unauthenticated: 401,
	}
	for c, httpStatus := range want {
		t.Run(c.String(), func(t *testing.T) {
			r := do(t, http.MethodPost, gw.URL+"/cairn.raftkv.v1.KVService/Range",
				`{"key":`+b64("code:"+strconv.Itoa(int(c)))+`}`, "X-Request-Id", "rid-"+c.String())
			require.Equal(t, httpStatus, r.status, r.body)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			e := r.json(t)
			require.Equal(t, float64(c), e["code"])
			require.Equal(t, statusName(c), e["status"])
			require.Equal(t, fmt.Sprintf("failed with %v", c), e["message"])
			require.Equal(t, "rid-"+c.String(), e["request_id"])
			details := e["details"].([]any)
			require.Len(t, details, 2)
			info := details[0].(map[string]any)
			require.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", info["@type"])
			require.Equal(t, "TEST_"+statusName(c), info["reason"])
			require.Equal(t, "test.cairn.dev", info["domain"])
			require.Equal(t, map[string]any{"code": strconv.Itoa(int(c))}, info["metadata"])
			bad := details[1].(map[string]any)
			require.Equal(t, "type.googleapis.com/google.rpc.BadRequest", bad["@type"])
			require.Equal(t, []any{map[string]any{"field": "key", "description": "test"}}, bad["fieldViolations"])
		})
	}
}

// Only the request id, the deadline and the caller's metadata reach the
// upstream: never Authorization, cookies or other request headers, and no
// reserved or invalid metadata the caller passes.
func TestMetadataForwarding(t *testing.T) {
	addr, _ := startFake(t, "a")
	opts := ServeOptions{
		Timeout: 3 * time.Second,
		Metadata: map[string]string{
			"X-Cairn-Consumer": "demo",
			"authorization":    "Bearer caller-supplied",
			"grpc-timeout":     "1n",
			"bad key":          "v",
			"x-bad-value":      "a\nb",
			"x-raw-bin":        "\x00\xff",
		},
	}
	gw := gateway(t, New(Config{}), newConn(t, addr), opts)
	r := do(t, http.MethodPost, gw.URL+"/cairn.raftkv.v1.KVService/Range", `{"key":`+b64("md")+`}`,
		"Authorization", "Bearer secret-token",
		"Cookie", "session=1",
		"X-Api-Key", "cgw_x_y",
		"X-Other", "other",
		"X-Request-Id", "rid-42")
	require.Equal(t, http.StatusOK, r.status, r.body)
	var resp struct {
		Kvs []struct{ Key, Value []byte }
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &resp))
	seen := map[string]string{}
	for _, kv := range resp.Kvs {
		seen[string(kv.Key)] = string(kv.Value)
	}
	require.Equal(t, "rid-42", seen["x-request-id"])
	require.Equal(t, "demo", seen["x-cairn-consumer"])
	require.Equal(t, "\x00\xff", seen["x-raw-bin"])
	for _, k := range []string{"authorization", "cookie", "x-api-key", "x-other", "bad key", "x-bad-value"} {
		require.NotContains(t, seen, k)
	}
	left, err := strconv.Atoi(seen["deadline"])
	require.NoError(t, err, "the call has a deadline: %v", seen)
	require.LessOrEqual(t, left, 3000)
	require.Greater(t, left, 0)
}

// Server-streaming calls answer NDJSON: one line per message, an error
// before the first message as a plain JSON error with its HTTP status, a
// later one as a last {"error":...} line.
func TestServerStreaming(t *testing.T) {
	addr, watch := startFake(t, "a")
	gw := gateway(t, New(Config{}), newConn(t, addr), ServeOptions{})
	url := gw.URL + "/cairn.raftkv.v1.WatchService/watch"

	t.Run("ends", func(t *testing.T) {
		r := do(t, http.MethodPost, url, `{"startRevision":3}`)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
		require.Equal(t, `{"header":{"revision":"1"}}`+"\n"+`{"header":{"revision":"2"}}`+"\n"+`{"header":{"revision":"3"}}`+"\n",
			compactLines(t, r.body))
	})
	t.Run("empty", func(t *testing.T) {
		r := do(t, http.MethodPost, url, `{}`)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Empty(t, r.body)
	})
	t.Run("fails at once", func(t *testing.T) {
		r := do(t, http.MethodPost, url, `{"key":`+b64("fail")+`}`)
		require.Equal(t, http.StatusConflict, r.status, r.body)
		require.Equal(t, "ABORTED", r.json(t)["status"])
	})
	t.Run("fails after messages", func(t *testing.T) {
		r := do(t, http.MethodPost, url, `{"key":`+b64("fail")+`,"startRevision":2}`)
		require.Equal(t, http.StatusOK, r.status, r.body)
		lines := splitLines(r.body)
		require.Len(t, lines, 3, r.body)
		var last struct{ Error errorBody }
		require.NoError(t, json.Unmarshal([]byte(lines[2]), &last))
		require.Equal(t, int32(codes.Aborted), last.Error.Code)
		require.Equal(t, "ABORTED", last.Error.Status)
		require.Len(t, last.Error.Details, 2)
	})
	t.Run("headers before the first message", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, _ := ndjson(t, ctx, url, `{"key":`+b64("quiet")+`}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "the 200 comes with the upstream's headers")
		require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	})
	t.Run("client leaves", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, lines := ndjson(t, ctx, url, `{"key":`+b64("block")+`,"startRevision":1}`)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, lines.Scan(), "the first message arrives while the stream is open: %v", lines.Err())
		require.JSONEq(t, `{"header":{"revision":"1"}}`, lines.Text())
		cancel()
		select {
		case <-watch.canceled:
		case <-time.After(10 * time.Second):
			t.Fatal("the upstream stream was not canceled when the client left")
		}
	})
}

// A GET maps query parameters onto a real upstream call too.
func TestQueryOverGRPC(t *testing.T) {
	addr, _ := startFake(t, "a")
	gw := gateway(t, New(Config{}), newConn(t, addr), ServeOptions{})
	r := do(t, http.MethodGet, gw.URL+"/cairn.raftkv.v1.KVService/range?key=eHl6", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.JSONEq(t, `{"kvs":[{"key":"YQ==","value":"eHl6"}]}`, r.body)
}

// compactLines re-renders each NDJSON line compactly (protojson may add
// spaces at random).
func compactLines(t *testing.T, body string) string {
	t.Helper()
	out := ""
	for _, l := range splitLines(body) {
		var v any
		require.NoError(t, json.Unmarshal([]byte(l), &v), "line %q", l)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		out += string(b) + "\n"
	}
	return out
}

func splitLines(body string) []string {
	var out []string
	for len(body) > 0 {
		i := 0
		for i < len(body) && body[i] != '\n' {
			i++
		}
		out = append(out, body[:i])
		if i < len(body) {
			i++
		}
		body = body[i:]
	}
	return out
}
