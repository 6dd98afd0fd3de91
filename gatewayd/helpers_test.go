package gatewayd

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// testGateway is one in-process gateway node for a test.
type testGateway struct {
	srv  *Server
	base string // http://host:port
	file string // its config file ("" with a registry)
}

// startGateway runs a plaintext gateway node; tune edits its Config (set
// ConfigFile or Registry there). It waits until the node serves.
func startGateway(t testing.TB, tune func(*Config)) *testGateway {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ID = "gw-test"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.HTTPAddr = "127.0.0.1:0"
	if tune != nil {
		tune(&cfg)
	}
	srv, err := New(cfg, nodetest.Logger(t).With("test_node", cfg.ID))
	require.NoError(t, err)
	nodetest.Serve(t, "gateway", srv)
	return &testGateway{srv: srv, base: "http://" + srv.HTTPAddr(), file: cfg.ConfigFile}
}

// startFileGateway runs a gateway configured by the document doc (a file it
// re-reads).
func startFileGateway(t testing.TB, doc string, tune func(*Config)) *testGateway {
	t.Helper()
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(file, []byte(doc), 0o644))
	return startGateway(t, func(c *Config) {
		c.ConfigFile = file
		if tune != nil {
			tune(c)
		}
	})
}

// rewrite replaces the gateway's config file and waits until it serves the
// new version.
func (g *testGateway) rewrite(t *testing.T, doc string) {
	t.Helper()
	before := g.srv.ConfigVersion()
	require.NoError(t, os.WriteFile(g.file, []byte(doc), 0o644))
	nodetest.WaitFor(t, 10*time.Second, "config reload", func() bool { return g.srv.ConfigVersion() > before })
}

// do sends a request and returns the response with its body read.
func (g *testGateway) do(t *testing.T, method, path, body string, h map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.base+path, rd)
	require.NoError(t, err)
	for k, v := range h {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp, string(b)
}

// testUpstream is a real HTTP server that records what it received.
type testUpstream struct {
	*httptest.Server
	hits atomic.Int64
	last atomic.Pointer[http.Request]
	body atomic.Pointer[string]
}

// startUpstream runs an upstream whose answers come from h (nil: 200
// "ok <path>").
func startUpstream(t *testing.T, h http.HandlerFunc) *testUpstream {
	t.Helper()
	u := &testUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		s := string(b)
		u.body.Store(&s)
		u.last.Store(r.Clone(context.Background()))
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

// addr is the upstream's host:port.
func (u *testUpstream) addr() string { return strings.TrimPrefix(u.URL, "http://") }
