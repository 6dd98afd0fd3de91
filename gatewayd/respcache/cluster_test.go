package respcache

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/cachedtest"
	cachedclient "cairn.dev/cairn/cached/client"
	"cairn.dev/cairn/node/nodetest"
)

// startCachedCluster runs n cached nodes in-process and returns their gRPC
// addresses.
func startCachedCluster(t *testing.T, n int) []string { return cachedtest.Start(t, n) }

// gateway is a minimal stand-in for gatewayd's cache step: an HTTP server
// that answers from its Cache or proxies to the upstream through a
// Recorder, the way the package doc describes.
func gateway(t *testing.T, c *Cache, upstream string) *httptest.Server {
	client := &http.Client{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := Key("r", r, testSpec)
		if e, ok := c.Lookup(r.Context(), key, r); ok {
			e.Serve(w, r)
			return
		}
		e, ran, err := c.Do(r.Context(), key, r, func() *Entry {
			resp, err := client.Get(upstream + r.URL.RequestURI())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return nil
			}
			defer resp.Body.Close()
			ttl, ok := Storable(r, resp, testSpec)
			rec := c.NewRecorder(w, 1<<20)
			for k, v := range resp.Header {
				rec.Header()[k] = v
			}
			rec.WriteHeader(resp.StatusCode)
			if _, err := io.Copy(rec, resp.Body); err != nil || !ok {
				return nil
			}
			return rec.Finish(r.Context(), key, r, resp.StatusCode, resp.Header, ttl)
		})
		switch {
		case ran:
		case e != nil:
			e.Serve(w, r)
		case err == nil:
			http.Error(w, "no coalesced entry", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClusterSharesEntries: two gateways, each with its own Cache and its
// own cached client (connected through different nodes of a real
// two-node cached cluster), share responses through cached.
func TestClusterSharesEntries(t *testing.T) {
	addrs := startCachedCluster(t, 2)
	var upstreamCalls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := upstreamCalls.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "answer %d for %s", n, r.URL.Path)
	}))
	defer upstream.Close()

	var gws []*httptest.Server
	var caches []*Cache
	var clients []*cachedclient.Client
	for i, addr := range addrs {
		cc, err := cachedclient.New(cachedclient.Config{Endpoints: []string{addr}, Logger: nodetest.Logger(t)})
		require.NoError(t, err)
		t.Cleanup(func() { cc.Close() })
		clients = append(clients, cc)
		c := New(Config{Store: NewCachedStore(cc, ""), StoreTimeout: 2 * time.Second, Logger: nodetest.Logger(t).With("gw", i)})
		t.Cleanup(func() { c.Close() })
		caches = append(caches, c)
		gws = append(gws, gateway(t, c, upstream.URL))
	}
	// The key includes the Host, so both gateways are asked for one name.
	get := func(gw *httptest.Server, path string) (string, http.Header) {
		req, err := http.NewRequest("GET", gw.URL+path, nil)
		require.NoError(t, err)
		req.Host = "api.example.com"
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		return string(b), resp.Header
	}

	// Several paths, so that entries land on both cached nodes.
	paths := []string{"/a", "/b", "/c", "/d", "/e", "/f"}
	owners := map[string]bool{}
	for _, p := range paths {
		r := httptest.NewRequest("GET", "http://api.example.com"+p, nil)
		m, ok := clients[0].Owner(DefaultPrefix + Key("r", r, testSpec))
		require.True(t, ok)
		owners[m.ID] = true
	}
	require.Len(t, owners, 2, "the paths' entries should span both nodes")
	for _, p := range paths {
		body, h := get(gws[0], p)
		require.Equal(t, "MISS", h.Get("X-Cache"))
		require.Contains(t, body, "for "+p)
	}
	waitFor(t, "the shared writes", func() bool { return caches[0].Stats().SharedSets == int64(len(paths)) })
	for _, p := range paths {
		body, h := get(gws[1], p)
		require.Equal(t, "HIT", h.Get("X-Cache"), p)
		require.Equal(t, "cairn-gateway; hit", h.Get("Cache-Status"))
		require.Contains(t, body, "for "+p)
		require.NotEmpty(t, h.Get("Age"))
	}
	require.EqualValues(t, len(paths), upstreamCalls.Load())
	require.EqualValues(t, len(paths), caches[1].Stats().SharedHits)

	// HEAD on the second gateway is served from the entry, without a body.
	req, _ := http.NewRequest("HEAD", gws[1].URL+"/a", nil)
	req.Host = "api.example.com"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
	require.EqualValues(t, len(paths), upstreamCalls.Load())
}
