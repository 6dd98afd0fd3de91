package cached

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The admin server exports the cache's gauges and counters.
func TestMetrics(t *testing.T) {
	c := newTestCluster(t, 2, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	remote := c.keyOwnedBy(1, "met-")
	local := c.keyOwnedBy(0, "met-")
	require.Equal(t, "OK", rc.do("SET", remote, "v"))
	require.Equal(t, "OK", rc.do("SET", local, "v"))
	require.Equal(t, `"v"`, rc.do("GET", local))
	require.Equal(t, "(nil)", rc.do("GET", local+"-missing"))
	resp, err := http.Get("http://" + c.nodes[0].srv.AdminAddr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range []string{
		"cairn_cached_items 1", "cairn_cached_hits_total 1", "cairn_cached_misses_total 1", "cairn_cached_forwarded_total 1",
		"cairn_cached_ring_members 2", "cairn_cached_resp_connections 1", "cairn_cached_max_bytes 2.68435456e+08",
		"cairn_cached_evictions_total 0", "cairn_cached_owner_unreachable_misses_total 0",
	} {
		require.Contains(t, string(body), "\n"+line+"\n")
	}
}
