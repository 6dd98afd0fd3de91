package es

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/searchd/searchdfake"
)

// apiTest is the HTTP API over a fake searchd.
type apiTest struct {
	t    *testing.T
	fake *searchdfake.Server
	srv  *httptest.Server
}

func newAPITest(t *testing.T, opts Options) *apiTest {
	fake, conn := searchdfake.Start(t)
	opts.Logger = nodetest.Logger(t)
	srv := httptest.NewServer(NewHandler(conn, opts))
	t.Cleanup(srv.Close)
	return &apiTest{t: t, fake: fake, srv: srv}
}

// response is an answer: its status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body as an object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), "body %q", r.body)
	return m
}

func (a *apiTest) do(method, path, body string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	require.NoError(a.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	require.Equal(a.t, "Elasticsearch", resp.Header.Get("X-Elastic-Product"), "%s %s", method, path)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// ok runs a request that must answer status and returns its JSON body.
func (a *apiTest) ok(status int, method, path, body string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body)
	require.Equal(a.t, status, r.status, "%s %s: %s", method, path, r.body)
	return r.json(a.t)
}

// esErr checks an error body: status, type, and root_cause's type.
func (a *apiTest) esErr(status int, typ, method, path, body string) map[string]any {
	a.t.Helper()
	m := a.ok(status, method, path, body)
	require.EqualValues(a.t, status, m["status"])
	e := m["error"].(map[string]any)
	require.Equal(a.t, typ, e["type"], "%v", m)
	require.NotEmpty(a.t, e["reason"])
	rc := e["root_cause"].([]any)
	require.Len(a.t, rc, 1)
	require.NotEmpty(a.t, rc[0].(map[string]any)["type"])
	return e
}

// at walks a decoded JSON value by keys and indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
