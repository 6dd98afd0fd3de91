package respcache

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestKey(t *testing.T) {
	key := func(route, method, target string, spec *gwconfig.Cache, hdr ...string) string {
		r := httptest.NewRequest(method, target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		return Key(route, r, spec)
	}
	base := key("api", "GET", "http://example.com/a/b?x=1&y=2", nil)
	require.Len(t, base, 64)
	// Pinned: a change of key material must bump keyVersion, or entries
	// written by older gateways would be read as new ones.
	require.Equal(t, "826fe58658aebfbda9da59701955cfbd060efe1b626d78ac731cad513cdf3aa1", base)

	same := []string{
		key("api", "GET", "http://example.com/a/b?x=1&y=2", nil),
		key("api", "HEAD", "http://example.com/a/b?x=1&y=2", nil),
		key("api", "GET", "http://EXAMPLE.com/a/b?y=2&x=1", nil),
		key("api", "GET", "http://example.com/a/b?x=1&y=2", &gwconfig.Cache{}, "Accept", "x"),
	}
	for i, k := range same {
		require.Equal(t, base, k, "case %d", i)
	}
	different := []string{
		key("web", "GET", "http://example.com/a/b?x=1&y=2", nil),
		key("api", "POST", "http://example.com/a/b?x=1&y=2", nil),
		key("api", "GET", "http://example.org/a/b?x=1&y=2", nil),
		key("api", "GET", "http://example.com/a/c?x=1&y=2", nil),
		key("api", "GET", "http://example.com/a/b?x=1&y=3", nil),
		key("api", "GET", "http://example.com/a/b?x=1", nil),
		key("api", "GET", "http://example.com/a%2Fb?x=1&y=2", nil),
		key("api", "GET", "http://example.com/a/b?x=1&y=2", &gwconfig.Cache{KeyHeaders: []string{"Accept"}}, "Accept", "x"),
		// field boundaries cannot be shifted
		key("ap", "GET", "http://iexample.com/a/b?x=1&y=2", nil),
	}
	seen := map[string]bool{base: true}
	for i, k := range different {
		require.False(t, seen[k], "case %d collides", i)
		seen[k] = true
	}

	sel := &gwconfig.Cache{KeyQuery: []string{"page", "lang"}}
	a := key("api", "GET", "/list?page=2&utm=a&lang=en", sel)
	require.Equal(t, a, key("api", "GET", "/list?lang=en&page=2&utm=b", sel), "unselected params ignored")
	require.NotEqual(t, a, key("api", "GET", "/list?page=3&lang=en", sel))
	require.NotEqual(t, a, key("api", "GET", "/list?page=2", sel))

	hs := &gwconfig.Cache{KeyHeaders: []string{"Accept-Language"}}
	require.NotEqual(t, key("api", "GET", "/", hs, "Accept-Language", "en"), key("api", "GET", "/", hs, "Accept-Language", "de"))
}

func BenchmarkKey(b *testing.B) {
	r := httptest.NewRequest("GET", "http://example.com/cacheable", nil)
	spec := &gwconfig.Cache{}
	b.ReportAllocs()
	for b.Loop() {
		Key("r", r, spec)
	}
}
