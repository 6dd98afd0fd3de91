package respcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestMetrics(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	reg := prometheus.NewRegistry()
	require.NoError(t, c.RegisterMetrics(reg))
	require.Error(t, c.RegisterMetrics(reg), "registering twice")
	r := httptest.NewRequest("GET", "/", nil)
	c.Put(context.Background(), "k", r, 200, http.Header{}, []byte("x"), time.Minute)
	c.Lookup(context.Background(), "k", r)
	c.Lookup(context.Background(), "other", r)
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			if m.GetCounter() != nil {
				got[name] = m.GetCounter().GetValue()
			} else {
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	require.Equal(t, 1.0, got["cairn_gateway_cache_lookups_total/local_hit"])
	require.Equal(t, 1.0, got["cairn_gateway_cache_lookups_total/miss"])
	require.Equal(t, 0.0, got["cairn_gateway_cache_lookups_total/bypass"])
	require.Equal(t, 1.0, got["cairn_gateway_cache_stores_total"])
	require.Equal(t, 1.0, got["cairn_gateway_cache_local_entries"])
	require.Positive(t, got["cairn_gateway_cache_local_bytes"])
	require.Len(t, got, 13)
}
