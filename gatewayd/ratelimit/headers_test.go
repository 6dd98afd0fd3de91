package ratelimit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSetHeaders(t *testing.T) {
	allowed := Decision{Allowed: true, Limit: 10, Window: time.Minute, Remaining: 7, Reset: 18 * time.Second}
	tight := Decision{Allowed: true, Limit: 100, Window: time.Hour, Remaining: 2, Reset: 1500 * time.Millisecond}
	denied := Decision{Limit: 5, Window: time.Second, Reset: 900 * time.Millisecond, RetryAfter: 200 * time.Millisecond}
	slow := Decision{Limit: 1, Window: 24 * time.Hour, Reset: time.Hour, RetryAfter: time.Hour}
	for _, tc := range []struct {
		name string
		ds   []Decision
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"one allowed", []Decision{allowed}, map[string]string{
			"Ratelimit-Limit": "10", "Ratelimit-Remaining": "7", "Ratelimit-Reset": "18", "Ratelimit-Policy": "10;w=60",
		}},
		{"fewest remaining wins", []Decision{allowed, tight}, map[string]string{
			"Ratelimit-Limit": "100", "Ratelimit-Remaining": "2", "Ratelimit-Reset": "2", "Ratelimit-Policy": "10;w=60, 100;w=3600",
		}},
		{"denied wins, retry at least 1s", []Decision{tight, denied}, map[string]string{
			"Ratelimit-Limit": "5", "Ratelimit-Remaining": "0", "Ratelimit-Reset": "1", "Ratelimit-Policy": "100;w=3600, 5;w=1",
			"Retry-After": "1",
		}},
		{"longest retry of the denials", []Decision{denied, slow, allowed}, map[string]string{
			"Ratelimit-Limit": "1", "Ratelimit-Remaining": "0", "Ratelimit-Reset": "3600", "Ratelimit-Policy": "5;w=1, 1;w=86400, 10;w=60",
			"Retry-After": "3600",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Retry-After", "stale")
			if len(tc.ds) == 0 {
				delete(h, "Retry-After")
			}
			SetHeaders(h, tc.ds...)
			got := map[string]string{}
			for k := range h {
				got[k] = h.Get(k)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
