package transform

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// TestThroughRealProxy runs both transforms in a reverse proxy over
// loopback: the upstream sees the edited request with a correct framing,
// and the client the edited response.
func TestThroughRealProxy(t *testing.T) {
	type seen struct {
		body, query, header string
		length              int64
	}
	got := make(chan seen, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		got <- seen{string(b), r.URL.RawQuery, r.Header.Get("X-Consumer"), r.ContentLength}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Etag", `"e1"`)
		w.Header().Set("Server", "upstream/1.0")
		// Chunked: no Content-Length from the upstream.
		w.(http.Flusher).Flush()
		io.WriteString(w, `{"id":12345678901234567891,"secret":"s","nested":{"keep":1.50}}`)
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	req, err := Compile(&gwconfig.Transform{
		Headers: gwconfig.HeaderEdits{Add: map[string]string{"X-Consumer": "alice"}, Remove: []string{"Cookie"}},
		Query:   gwconfig.HeaderEdits{Remove: []string{"token"}},
		JSON:    &gwconfig.JSONEdits{Rename: map[string]string{"name": "user.name"}, Add: map[string]any{"source": "gateway"}},
	})
	require.NoError(t, err)
	resp, err := Compile(&gwconfig.Transform{
		Headers: gwconfig.HeaderEdits{Remove: []string{"Server"}},
		JSON:    &gwconfig.JSONEdits{Remove: []string{"secret"}},
	})
	require.NoError(t, err)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			require.NoError(t, req.ApplyRequest(pr.Out))
		},
		ModifyResponse: resp.ApplyResponse,
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	body := `{"name":"Ann","n":1e2}`
	r, _ := http.NewRequest("POST", front.URL+"/x?token=abc&page=2", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Cookie", "c=1")
	res, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	s := <-got
	require.Equal(t, `{"n":1e2,"user":{"name":"Ann"},"source":"gateway"}`, s.body)
	require.EqualValues(t, len(s.body), s.length)
	require.Equal(t, "page=2", s.query)
	require.Equal(t, "alice", s.header)

	require.Equal(t, `{"id":12345678901234567891,"nested":{"keep":1.50}}`, string(out))
	require.Equal(t, strconv.Itoa(len(out)), res.Header.Get("Content-Length"))
	require.Empty(t, res.Header.Get("Etag"))
	require.Empty(t, res.Header.Get("Server"))
	require.True(t, json.Valid(out))
}
