package origin

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// seenRequest is what the test origin saw of a request.
type seenRequest struct {
	method, uri, host, body string
	header                  http.Header
}

// recordingOrigin is an httptest handler that records requests and
// answers with hop-by-hop headers mixed into its own.
type recordingOrigin struct {
	mu   sync.Mutex
	seen []seenRequest
}

func (o *recordingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.seen = append(o.seen, seenRequest{r.Method, r.RequestURI, r.Host, string(body), r.Header.Clone()})
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=30")
	w.Header().Set("Connection", "X-Hop")
	w.Header().Set("X-Hop", "1")
	w.Header().Set("Keep-Alive", "timeout=5")
	w.Header().Set("Surrogate-Key", "k1 k2")
	w.Header().Set("Content-Length", "5")
	_, _ = io.WriteString(w, "hello")
}

func (o *recordingOrigin) last(t *testing.T) seenRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.seen)
	return o.seen[len(o.seen)-1]
}

func TestHTTPOrigin(t *testing.T) {
	rec := &recordingOrigin{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL + "/static/")
	require.NoError(t, err)
	o, err := NewHTTP(base, nil, HTTPOptions{Header: http.Header{"X-Origin-Token": {"s3cret"}}})
	require.NoError(t, err)

	r := httptest.NewRequest(http.MethodGet, "http://cdn.example/img/a%2Fb.png?w=10&x=%20", nil)
	r.Header.Set("Connection", "X-Private, keep-alive")
	r.Header.Set("X-Private", "hop")
	r.Header.Set("Te", "trailers")
	r.Header.Set(HeaderShield, "edge-2")
	r.Header.Set("If-None-Match", `"abc"`)
	r.Header.Set("X-Origin-Token", "client's")
	resp, err := o.Fetch(testCtx(t), r)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "hello", string(body))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "max-age=30", resp.Header.Get("Cache-Control"))
	require.Equal(t, "k1 k2", resp.Header.Get("Surrogate-Key"))
	require.EqualValues(t, 5, resp.ContentLength)
	for _, h := range []string{"Connection", "X-Hop", "Keep-Alive"} {
		require.Empty(t, resp.Header.Values(h), "hop-by-hop response header %s", h)
	}

	got := rec.last(t)
	require.Equal(t, "/static/img/a%2Fb.png?w=10&x=%20", got.uri, "the base path prefixes the escaped path; the query is kept")
	require.Equal(t, base.Host, got.host, "Host is the origin's by default")
	require.Equal(t, `"abc"`, got.header.Get("If-None-Match"))
	require.Equal(t, "s3cret", got.header.Get("X-Origin-Token"), "configured headers replace the client's")
	for _, h := range []string{"X-Private", "Te", HeaderShield} {
		require.Empty(t, got.header.Values(h), "header %s must not reach the origin", h)
	}

	// A body is forwarded with any method.
	r = httptest.NewRequest(http.MethodPost, "http://cdn.example/form", strings.NewReader("a=1"))
	resp, err = o.Fetch(testCtx(t), r)
	require.NoError(t, err)
	resp.Body.Close()
	got = rec.last(t)
	require.Equal(t, "POST", got.method)
	require.Equal(t, "a=1", got.body)

	// Host choices.
	o2, err := NewHTTP(base, nil, HTTPOptions{Host: "origin.example"})
	require.NoError(t, err)
	resp, _ = fetch(t, o2, http.MethodGet, "http://cdn.example/x")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "origin.example", rec.last(t).host)
	o3, err := NewHTTP(base, nil, HTTPOptions{PreserveHost: true})
	require.NoError(t, err)
	fetch(t, o3, http.MethodGet, "http://cdn.example/x")
	require.Equal(t, "cdn.example", rec.last(t).host)
	require.Equal(t, "/static/x", rec.last(t).uri)
}

func TestHTTPOriginTLS(t *testing.T) {
	rec := &recordingOrigin{}
	srv := httptest.NewTLSServer(rec)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	o, err := NewHTTP(base, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, HTTPOptions{})
	require.NoError(t, err)
	resp, body := fetch(t, o, http.MethodGet, "http://cdn.example/a")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "hello", string(body))
	require.Equal(t, "/a", rec.last(t).uri)

	untrusted, err := NewHTTP(base, nil, HTTPOptions{})
	require.NoError(t, err)
	_, err = untrusted.Fetch(testCtx(t), httptest.NewRequest(http.MethodGet, "/a", nil))
	require.Error(t, err, "the system roots do not trust httptest's certificate")
}

func TestHTTPOriginUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	o, err := NewHTTP(&url.URL{Scheme: "http", Host: addr}, nil, HTTPOptions{})
	require.NoError(t, err)
	_, err = o.Fetch(testCtx(t), httptest.NewRequest(http.MethodGet, "/a", nil))
	require.ErrorContains(t, err, "origin: GET http://"+addr+"/a")
}

func TestNewHTTPValidates(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts HTTPOptions
		want string
	}{
		{"ftp://h/", HTTPOptions{}, "scheme must be http or https"},
		{"http:///x", HTTPOptions{}, "no host"},
		{"http://u:p@h/", HTTPOptions{}, "user info"},
		{"http://h/?a=1", HTTPOptions{}, "no query"},
		{"http://h/#f", HTTPOptions{}, "no query or fragment"},
		{"http://h/", HTTPOptions{Host: "a", PreserveHost: true}, "set one of them"},
		{"http://h/", HTTPOptions{DialTimeout: -1}, "must not be negative"},
		{"http://h/", HTTPOptions{Header: http.Header{"Bad Name": {"v"}}}, "not a valid token"},
		{"http://h/", HTTPOptions{Header: http.Header{"X-A": {"a\r\nb"}}}, "control characters"},
	} {
		u, err := url.Parse(tc.url)
		require.NoError(t, err)
		_, err = NewHTTP(u, nil, tc.opts)
		require.ErrorIs(t, err, ErrBadConfig, tc.url)
		require.ErrorContains(t, err, tc.want, tc.url)
	}
	_, err := NewHTTP(nil, nil, HTTPOptions{})
	require.ErrorIs(t, err, ErrBadConfig)
}
