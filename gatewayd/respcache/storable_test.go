package respcache

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestStorable(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	spec := &gwconfig.Cache{TTL: 30 * time.Second}
	tests := []struct {
		name    string
		method  string
		reqHdr  http.Header
		status  int
		respHdr http.Header
		spec    *gwconfig.Cache
		want    time.Duration // 0: not storable
	}{
		{"route ttl", "GET", nil, 200, nil, spec, 30 * time.Second},
		{"no spec", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}}, nil, 0},
		{"route ttl zero", "GET", nil, 200, nil, &gwconfig.Cache{}, 0},
		{"max-age", "GET", nil, 200, http.Header{"Cache-Control": {"public, max-age=60"}}, spec, time.Minute},
		{"s-maxage over max-age", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60, s-maxage=10"}}, spec, 10 * time.Second},
		{"directives case and lines", "GET", nil, 200, http.Header{"Cache-Control": {"Public", "MAX-AGE=\"5\""}}, spec, 5 * time.Second},
		{"first max-age wins", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=5, max-age=50"}}, spec, 5 * time.Second},
		{"malformed max-age is stale", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=5s"}}, spec, 0},
		{"max-age 0", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=0"}}, spec, 0},
		{"huge max-age capped", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, spec, maxDelta * time.Second},
		{"expires minus date", "GET", nil, 200, http.Header{"Date": {date}, "Expires": {now.Add(2 * time.Minute).Format(http.TimeFormat)}}, spec, 2 * time.Minute},
		{"expires without date uses now", "GET", nil, 200, http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, spec, time.Hour},
		{"invalid expires", "GET", nil, 200, http.Header{"Expires": {"0"}}, spec, 0},
		{"past expires", "GET", nil, 200, http.Header{"Date": {date}, "Expires": {now.Add(-time.Hour).Format(http.TimeFormat)}}, spec, 0},
		{"max-age over expires", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=7"}, "Expires": {"0"}}, spec, 7 * time.Second},
		{"age subtracted", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Age": {"20"}}, spec, 40 * time.Second},
		{"age beyond lifetime", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Age": {"61"}}, spec, 0},
		{"malformed age ignored", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Age": {"x"}}, spec, time.Minute},
		{"no-store", "GET", nil, 200, http.Header{"Cache-Control": {"no-store, max-age=60"}}, spec, 0},
		{"private", "GET", nil, 200, http.Header{"Cache-Control": {"private, max-age=60"}}, spec, 0},
		{"qualified private", "GET", nil, 200, http.Header{"Cache-Control": {`private="X-User", max-age=60`}}, spec, 0},
		{"no-cache", "GET", nil, 200, http.Header{"Cache-Control": {"no-cache"}}, spec, 0},
		{"set-cookie", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"a=b"}}, spec, 0},
		{"vary star", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept, *"}}, spec, 0},
		{"vary named ok", "GET", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept"}}, spec, time.Minute},
		{"request no-store", "GET", http.Header{"Cache-Control": {"no-store"}}, 200, nil, spec, 0},
		{"request no-cache still stores", "GET", http.Header{"Cache-Control": {"no-cache"}}, 200, nil, spec, 30 * time.Second},
		{"head not stored", "HEAD", nil, 200, nil, spec, 0},
		{"post not stored", "POST", nil, 200, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"authorization refused", "GET", http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"authorization route ttl refused", "GET", http.Header{"Authorization": {"Bearer x"}}, 200, nil, spec, 0},
		{"api key refused", "GET", http.Header{"X-Api-Key": {"cgw_x"}}, 200, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"api key public", "GET", http.Header{"X-Api-Key": {"cgw_x"}}, 200, http.Header{"Cache-Control": {"public, max-age=60"}}, spec, time.Minute},
		{"authorization public", "GET", http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"public, max-age=60"}}, spec, time.Minute},
		{"authorization s-maxage", "GET", http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"s-maxage=9"}}, spec, 9 * time.Second},
		{"authorization must-revalidate", "GET", http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"must-revalidate, max-age=8"}}, spec, 8 * time.Second},
		{"404 heuristic", "GET", nil, 404, nil, spec, 30 * time.Second},
		{"410 explicit", "GET", nil, 410, http.Header{"Cache-Control": {"max-age=3"}}, spec, 3 * time.Second},
		{"204", "GET", nil, 204, nil, spec, 30 * time.Second},
		{"301", "GET", nil, 301, nil, spec, 30 * time.Second},
		{"302 needs explicit", "GET", nil, 302, nil, spec, 0},
		{"302 explicit", "GET", nil, 302, http.Header{"Cache-Control": {"max-age=4"}}, spec, 4 * time.Second},
		{"206 never", "GET", nil, 206, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"500 never", "GET", nil, 500, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"503 never", "GET", nil, 503, nil, spec, 0},
		{"304 never", "GET", nil, 304, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
		{"201 never", "GET", nil, 201, http.Header{"Cache-Control": {"max-age=60"}}, spec, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/x", nil)
			for k, v := range tc.reqHdr {
				r.Header[k] = v
			}
			h := tc.respHdr
			if h == nil {
				h = http.Header{}
			}
			ttl, ok := StorableHeader(r, tc.status, h, tc.spec, now)
			require.Equal(t, tc.want, ttl)
			require.Equal(t, tc.want > 0, ok)
		})
	}
}

func TestRequestBypass(t *testing.T) {
	tests := []struct {
		h      http.Header
		bypass bool
		maxAge int64
	}{
		{http.Header{}, false, -1},
		{http.Header{"Cache-Control": {"no-cache"}}, true, -1},
		{http.Header{"Cache-Control": {"max-age=0"}}, true, 0},
		{http.Header{"Cache-Control": {"max-age=10"}}, false, 10},
		{http.Header{"Pragma": {"no-cache"}}, true, -1},
		{http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=5"}}, false, 5},
	}
	for _, tc := range tests {
		b, m := requestBypass(tc.h)
		require.Equal(t, tc.bypass, b, "%v", tc.h)
		require.Equal(t, tc.maxAge, m, "%v", tc.h)
	}
}
