package transcode

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// End to end against a real in-process raftkv: JSON in, gRPC to raftkv,
// JSON out. One raftkv serves every subtest (it takes a while to start).
func TestRaftKV(t *testing.T) {
	addr := startRaftKV(t)
	gw := gateway(t, New(Config{}), newConn(t, addr), ServeOptions{Timeout: 5 * time.Second})
	kv := gw.URL + "/cairn.raftkv.v1.KVService/"

	t.Run("put then range", func(t *testing.T) {
		r := do(t, http.MethodPost, kv+"put", `{"key":"Zw==","value":"aGVsbG8="}`) // g = hello
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		put := r.json(t)
		require.Contains(t, put, "header")

		// As the curl sends it: -d, so a form Content-Type.
		r = do(t, http.MethodPost, kv+"range", `{"key":"Zw=="}`, "Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusOK, r.status, r.body)
		got := r.json(t)
		require.Equal(t, "1", got["count"], "int64 renders as a JSON string")
		kvs := got["kvs"].([]any)
		require.Len(t, kvs, 1)
		require.Equal(t, "Zw==", kvs[0].(map[string]any)["key"])
		require.Equal(t, "aGVsbG8=", kvs[0].(map[string]any)["value"])
		require.Equal(t, put["header"].(map[string]any)["revision"], kvs[0].(map[string]any)["modRevision"])
	})

	t.Run("method names", func(t *testing.T) {
		for _, m := range []string{"Range", "range", "RANGE", "ra_nge"} {
			r := do(t, http.MethodPost, kv+m, `{"key":"Zw==","keys_only":true}`)
			require.Equal(t, http.StatusOK, r.status, "%s: %s", m, r.body)
			kvs := r.json(t)["kvs"].([]any)
			require.NotContains(t, kvs[0], "value", "%s: keys_only (proto name) was applied", m)
		}
		r := do(t, http.MethodPost, kv+"delete-range", `{"key":"bm9uZQ=="}`)
		require.Equal(t, http.StatusOK, r.status, r.body)
	})

	t.Run("get with query parameters", func(t *testing.T) {
		r := do(t, http.MethodGet, kv+"range?key=Zw%3D%3D&countOnly=true", "")
		require.Equal(t, http.StatusOK, r.status, r.body)
		got := r.json(t)
		require.Equal(t, "1", got["count"])
		require.NotContains(t, got, "kvs")
	})

	t.Run("empty range is raftkv's invalid argument", func(t *testing.T) {
		r := do(t, http.MethodPost, kv+"range", `{}`)
		t.Logf("raftkv answers {}: %d %s", r.status, r.body)
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		e := r.json(t)
		require.Equal(t, float64(3), e["code"])
		require.Equal(t, "INVALID_ARGUMENT", e["status"])
		require.Contains(t, e["message"], "key")
		details := e["details"].([]any)
		require.NotEmpty(t, details)
		info := details[0].(map[string]any)
		require.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", info["@type"])
		require.Equal(t, "cairn.dev", info["domain"])
		require.Equal(t, "INVALID_ARGUMENT", info["reason"])
	})

	t.Run("txn", func(t *testing.T) {
		body := `{
		  "compare": [{"result":"COMPARE_RESULT_GREATER","target":"COMPARE_TARGET_VERSION","key":"Zw==","version":"0"}],
		  "success": [{"requestPut":{"key":"aA==","value":"d29ybGQ="}}, {"requestRange":{"key":"Zw=="}}],
		  "failure": [{"requestPut":{"key":"aA==","value":"bm8="}}]
		}`
		r := do(t, http.MethodPost, kv+"txn", body)
		require.Equal(t, http.StatusOK, r.status, r.body)
		got := r.json(t)
		require.Equal(t, true, got["succeeded"], r.body)
		resps := got["responses"].([]any)
		require.Len(t, resps, 2)
		require.Contains(t, resps[0], "responsePut")
		rng := resps[1].(map[string]any)["responseRange"].(map[string]any)
		require.Equal(t, "aGVsbG8=", rng["kvs"].([]any)[0].(map[string]any)["value"])

		r = do(t, http.MethodPost, kv+"range", `{"key":"aA=="}`)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Contains(t, r.body, `"d29ybGQ="`)
	})

	t.Run("watch streams ndjson", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, lines := ndjson(t, ctx, gw.URL+"/cairn.raftkv.v1.WatchService/watch", `{"key":"Zw==","startRevision":"1"}`)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
		// The put above is in history from revision 1: an event for g comes
		// without any new write, line by line while the stream stays open.
		found := false
		for !found && lines.Scan() {
			var msg map[string]any
			require.NoError(t, json.Unmarshal(lines.Bytes(), &msg), "line %q", lines.Text())
			for _, ev := range asSlice(msg["events"]) {
				kv := ev.(map[string]any)["kv"].(map[string]any)
				if kv["key"] == "Zw==" && ev.(map[string]any)["type"] == "EVENT_TYPE_PUT" {
					found = true
				}
			}
		}
		require.True(t, found, "no put event for g (scan error %v)", lines.Err())

		// A write after the stream is open arrives as a new line.
		r := do(t, http.MethodPost, kv+"put", `{"key":"Zw==","value":"YWdhaW4="}`) // again
		require.Equal(t, http.StatusOK, r.status, r.body)
		for lines.Scan() {
			if strings.Contains(lines.Text(), `"YWdhaW4="`) {
				return
			}
		}
		t.Fatalf("no event for the second put (scan error %v)", lines.Err())
	})
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
