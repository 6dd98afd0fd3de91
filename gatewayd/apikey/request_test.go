package apikey

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFromRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		want   string
		ok     bool
	}{
		{"x-api-key", http.Header{"X-Api-Key": {"cgw_k"}}, "cgw_k", true},
		{"authorization", http.Header{"Authorization": {"ApiKey cgw_k"}}, "cgw_k", true},
		{"scheme case", http.Header{"Authorization": {"apikey  cgw_k"}}, "cgw_k", true},
		{"bearer is not a key", http.Header{"Authorization": {"Bearer x.y.z"}}, "", false},
		{"none", http.Header{}, "", false},
		{"empty", http.Header{"X-Api-Key": {""}}, "", false},
		{"both headers", http.Header{"X-Api-Key": {"cgw_a"}, "Authorization": {"ApiKey cgw_b"}}, "", false},
		{"two values", http.Header{"X-Api-Key": {"cgw_a", "cgw_b"}}, "", false},
	} {
		got, ok := FromRequest(tc.header)
		require.Equal(t, tc.ok, ok, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}
