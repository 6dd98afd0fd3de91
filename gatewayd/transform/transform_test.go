package transform

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestCompileHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		tr   gwconfig.Transform
		want error
	}{
		{"remove host", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Remove: []string{"host"}}}, ErrForbiddenHeader},
		{"add connection", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Add: map[string]string{"Connection": "close"}}}, ErrForbiddenHeader},
		{"rename to te", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Rename: map[string]string{"X-A": "TE"}}}, ErrForbiddenHeader},
		{"rename from transfer-encoding", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Rename: map[string]string{"transfer-encoding": "X-A"}}}, ErrForbiddenHeader},
		{"content-length", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Remove: []string{"Content-Length"}}}, ErrForbiddenHeader},
		{"upgrade", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Remove: []string{"Upgrade"}}}, ErrForbiddenHeader},
		{"bad name", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Remove: []string{"X A"}}}, ErrBadHeader},
		{"empty name", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Add: map[string]string{"": "v"}}}, ErrBadHeader},
		{"crlf value", gwconfig.Transform{Headers: gwconfig.HeaderEdits{Add: map[string]string{"X-A": "a\r\nX-B: b"}}}, ErrBadHeader},
		{"empty query name", gwconfig.Transform{Query: gwconfig.HeaderEdits{Remove: []string{""}}}, ErrBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(&tc.tr)
			require.ErrorIs(t, err, tc.want)
		})
	}
	require.True(t, Forbidden("keep-alive"))
	require.False(t, Forbidden("X-Api-Key"))
}

func TestApplyRequestHeadersAndQuery(t *testing.T) {
	tr, err := Compile(&gwconfig.Transform{
		Headers: gwconfig.HeaderEdits{
			Remove: []string{"x-internal"},
			Rename: map[string]string{"X-Old": "x-new"},
			Add:    map[string]string{"X-Gateway": "cairn", "x-new": "ignored-by-order?"},
		},
		Query: gwconfig.HeaderEdits{
			Remove: []string{"debug"},
			Rename: map[string]string{"q": "query"},
			Add:    map[string]string{"v": "2 &x", "z": "1"},
		},
	})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/p?b=1&debug=1&q=a%20b&z=old&c&v=1&b=2", nil)
	r.Header.Set("X-Internal", "secret")
	r.Header.Add("X-Old", "1")
	r.Header.Add("X-Old", "2")
	require.NoError(t, tr.ApplyRequest(r))
	require.Empty(t, r.Header.Values("X-Internal"))
	require.Empty(t, r.Header.Values("X-Old"))
	// add runs after rename and replaces.
	require.Equal(t, []string{"ignored-by-order?"}, r.Header.Values("X-New"))
	require.Equal(t, "cairn", r.Header.Get("X-Gateway"))
	// untouched parameters keep their order and encoding; adds replace and go last.
	require.Equal(t, "b=1&query=a%20b&c&b=2&v=2+%26x&z=1", r.URL.RawQuery)
}

func TestRenameHeaderMovesValues(t *testing.T) {
	tr, err := Compile(&gwconfig.Transform{Headers: gwconfig.HeaderEdits{Rename: map[string]string{"X-A": "X-B"}}})
	require.NoError(t, err)
	h := http.Header{"X-A": {"1", "2"}, "X-B": {"old"}}
	r := &http.Request{Header: h}
	require.NoError(t, tr.ApplyRequest(r))
	require.Equal(t, http.Header{"X-B": {"1", "2"}}, h)
}

func jsonTransform(t *testing.T) *Transform {
	tr, err := Compile(&gwconfig.Transform{JSON: &gwconfig.JSONEdits{Remove: []string{"password"}, Add: map[string]any{"via": "gw"}}})
	require.NoError(t, err)
	require.True(t, tr.NeedsBody())
	return tr
}

func TestApplyRequestJSONBody(t *testing.T) {
	tr := jsonTransform(t)
	tests := []struct {
		name, ctype, encoding, body, want string
		chunked                           bool
	}{
		{"json", "application/json", "", `{"user":"u","password":"p"}`, `{"user":"u","via":"gw"}`, false},
		{"json params chunked", "Application/JSON; charset=utf-8", "", `{"password":1}`, `{"via":"gw"}`, true},
		{"plus json", "application/merge-patch+json", "", `{}`, `{"via":"gw"}`, false},
		{"text passes", "text/plain", "", `{"password":"p"}`, `{"password":"p"}`, false},
		{"gzip passes", "application/json", "gzip", `{"password":"p"}`, `{"password":"p"}`, false},
		{"invalid passes", "application/json", "", `{"password":`, `{"password":`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			if tc.chunked {
				r.ContentLength = -1
			}
			r.Header.Set("Content-Type", tc.ctype)
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			require.NoError(t, tr.ApplyRequest(r))
			got, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			if tc.want != tc.body || tc.chunked {
				require.EqualValues(t, len(tc.want), r.ContentLength)
				require.NotNil(t, r.GetBody)
				again, _ := r.GetBody()
				b, _ := io.ReadAll(again)
				require.Equal(t, tc.want, string(b))
			}
		})
	}
}

// TestTooBigBodyStreamsUnchanged: a body over MaxBody is not buffered whole
// and reaches the reader byte for byte.
func TestTooBigBodyStreamsUnchanged(t *testing.T) {
	tr := jsonTransform(t)
	big := `{"password":"` + strings.Repeat("x", MaxBody) + `"}`
	for _, n := range []int64{-1, int64(len(big))} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(big))
		r.ContentLength = n
		r.Header.Set("Content-Type", "application/json")
		require.NoError(t, tr.ApplyRequest(r))
		got, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Equal(t, big, string(got))
		require.Equal(t, n, r.ContentLength)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("boom")
	}
	p[0] = '{'
	f.n--
	return 1, nil
}

func TestBodyReadError(t *testing.T) {
	tr := jsonTransform(t)
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = io.NopCloser(&failingReader{n: 3})
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	require.ErrorIs(t, tr.ApplyRequest(r), ErrBody)
}

func TestApplyResponse(t *testing.T) {
	tr, err := Compile(&gwconfig.Transform{
		Headers: gwconfig.HeaderEdits{Remove: []string{"Server"}, Add: map[string]string{"X-Frame-Options": "DENY"}},
		JSON:    &gwconfig.JSONEdits{Remove: []string{"internal"}},
	})
	require.NoError(t, err)
	mk := func(method, body string) *http.Response {
		return &http.Response{
			StatusCode: 200, Request: httptest.NewRequest(method, "/", nil),
			Header: http.Header{"Content-Type": {"application/json"}, "Etag": {`"abc"`}, "Server": {"x"},
				"Content-Length": {"99"}},
			Body: io.NopCloser(bytes.NewBufferString(body)), ContentLength: int64(len(body)),
		}
	}
	resp := mk("GET", `{"a":1,"internal":2}`)
	require.NoError(t, tr.ApplyResponse(resp))
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, `{"a":1}`, string(b))
	require.EqualValues(t, 7, resp.ContentLength)
	require.Equal(t, "7", resp.Header.Get("Content-Length"))
	require.Empty(t, resp.Header.Get("Etag"), "an edited body loses its ETag")
	require.Empty(t, resp.Header.Get("Server"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	resp = mk("GET", `{"a":1}`)
	require.NoError(t, tr.ApplyResponse(resp))
	require.Equal(t, `"abc"`, resp.Header.Get("Etag"), "an unchanged body keeps its ETag")

	resp = mk("HEAD", `{"a":1,"internal":2}`)
	require.NoError(t, tr.ApplyResponse(resp))
	b, _ = io.ReadAll(resp.Body)
	require.Equal(t, `{"a":1,"internal":2}`, string(b))
}

func TestNilAndEmpty(t *testing.T) {
	var nilT *Transform
	require.True(t, nilT.Empty())
	require.False(t, nilT.NeedsBody())
	require.NoError(t, nilT.ApplyRequest(httptest.NewRequest("GET", "/", nil)))
	tr, err := Compile(nil)
	require.NoError(t, err)
	require.True(t, tr.Empty())
}

// BenchmarkApplyRequestHeaders measures the common header-only request edit.
func BenchmarkApplyRequestHeaders(b *testing.B) {
	tr, err := Compile(&gwconfig.Transform{Headers: gwconfig.HeaderEdits{Remove: []string{"X-Internal"}, Add: map[string]string{"X-Gateway": "cairn"}}})
	require.NoError(b, err)
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		r.Header.Set("X-Internal", "1")
		_ = tr.ApplyRequest(r)
	}
}

// BenchmarkEditJSON measures one remove and one add on a 1 KiB object.
func BenchmarkEditJSON(b *testing.B) {
	tr, err := Compile(&gwconfig.Transform{JSON: &gwconfig.JSONEdits{Remove: []string{"user.password"}, Add: map[string]any{"via": "gw"}}})
	require.NoError(b, err)
	body := []byte(`{"user":{"name":"n","password":"p"},"items":[` + strings.Repeat(`{"id":12345678901234567890,"s":"abc"},`, 25) + `1]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		tr.EditJSON(body)
	}
}

// FuzzQueryEdit: query edits never panic, and parameters no edit names
// keep their raw form and order.
func FuzzQueryEdit(f *testing.F) {
	for _, q := range []string{"a=1&b=2", "", "&&", "a", "%zz=1&a=%", "x=1;y=2", "a=1&a=2&b"} {
		f.Add(q, "a", "b", "c")
	}
	f.Fuzz(func(t *testing.T, raw, remove, renameFrom, add string) {
		e, err := compileQuery([]string{remove}, map[string]string{renameFrom: "renamed"}, map[string]string{add: "v"})
		if err != nil {
			return
		}
		out := e.apply(raw)
		var kept []string
		for part := range strings.SplitSeq(raw, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if dec, err := url.QueryUnescape(name); err == nil {
				name = dec
			}
			if name != remove && name != renameFrom && name != add && name != "renamed" {
				kept = append(kept, part)
			}
		}
		var outKept []string
		for part := range strings.SplitSeq(out, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if dec, err := url.QueryUnescape(name); err == nil {
				name = dec
			}
			if name != remove && name != renameFrom && name != add && name != "renamed" {
				outKept = append(outKept, part)
			}
		}
		require.Equal(t, kept, outKept)
		require.Contains(t, out, url.QueryEscape(add)+"=v")
	})
}
