package cachebench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Endpoints = []string{"a:1"}
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"scenario", func(c *Config) { c.Scenario = "x" }, "Scenario"},
		{"endpoints", func(c *Config) { c.Endpoints = nil }, "Endpoints"},
		{"clients", func(c *Config) { c.Clients = 0 }, "Clients"},
		{"total", func(c *Config) { c.Total = 0 }, "Total"},
		{"keys", func(c *Config) { c.Keys = 0 }, "Keys"},
		{"key size", func(c *Config) { c.KeySize = 2 }, "KeySize"},
		{"zipf", func(c *Config) { c.Zipf = 0.9 }, "Zipf"},
		{"batch", func(c *Config) { c.Batch = 0 }, "Batch"},
		{"timeout", func(c *Config) { c.RequestTimeout = 0 }, "RequestTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}

func TestSummarizeAndTable(t *testing.T) {
	cfg := DefaultConfig()
	stats := []clientStats{
		{lat: []time.Duration{1, 2, 3}, reads: 3, hits: 2, misses: 1},
		{lat: []time.Duration{4}, reads: 1, hits: 1, errors: 1},
	}
	r := summarize(cfg, stats, time.Second)
	require.Equal(t, 5, r.Requests)
	require.InDelta(t, 0.75, r.HitRatio, 1e-9)
	require.Equal(t, time.Duration(4), r.Latency.Max)
	require.InDelta(t, 4, r.Throughput, 1e-9)
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, r))
	require.Contains(t, b.String(), "0.7500")
	require.Equal(t, []string{"0007", "0042"}, []string{makeKeys(43, 4)[7], makeKeys(43, 4)[42]})
}
