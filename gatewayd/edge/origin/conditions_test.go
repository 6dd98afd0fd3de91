package origin

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byteRange
		ok   bool
	}{
		{"bytes=0-499", byteRange{first: 0, last: 499}, true},
		{"bytes=500-", byteRange{first: 500, last: -1}, true},
		{"bytes=-500", byteRange{suffix: 500}, true},
		{"bytes=-0", byteRange{zeroSuffix: true}, true},
		{"Bytes=1-1", byteRange{first: 1, last: 1}, true},
		{" bytes= 1 - 2 ", byteRange{first: 1, last: 2}, true},
		{"", byteRange{}, false},
		{"bytes=", byteRange{}, false},
		{"bytes=-", byteRange{}, false},
		{"bytes=5", byteRange{}, false},
		{"bytes=5-4", byteRange{}, false},
		{"bytes=0-1,4-5", byteRange{}, false},
		{"bytes=a-b", byteRange{}, false},
		{"bytes=+1-2", byteRange{}, false},
		{"bytes=1234567890123456789-", byteRange{}, false},
		{"lines=1-2", byteRange{}, false},
	} {
		got, ok := parseRange(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestByteRangeResolve(t *testing.T) {
	for _, tc := range []struct {
		r       byteRange
		size    int64
		off, n  int64
		satisfy bool
	}{
		{byteRange{first: 0, last: 9}, 100, 0, 10, true},
		{byteRange{first: 90, last: 200}, 100, 90, 10, true},
		{byteRange{first: 99, last: -1}, 100, 99, 1, true},
		{byteRange{first: 100, last: -1}, 100, 0, 0, false},
		{byteRange{suffix: 10}, 100, 90, 10, true},
		{byteRange{suffix: 1000}, 100, 0, 100, true},
		{byteRange{zeroSuffix: true}, 100, 0, 0, false},
	} {
		off, n, ok := tc.r.resolve(tc.size)
		require.Equal(t, tc.satisfy, ok, "%+v", tc.r)
		require.Equal(t, [2]int64{tc.off, tc.n}, [2]int64{off, n}, "%+v", tc.r)
	}
}

func TestETagListMatches(t *testing.T) {
	require.True(t, etagListMatches(`"a"`, "a", false))
	require.True(t, etagListMatches(`"x", "a"`, "a", false))
	require.True(t, etagListMatches(`*`, "a", false))
	require.False(t, etagListMatches(`W/"a"`, "a", false), "strong comparison")
	require.True(t, etagListMatches(`W/"a"`, "a", true), "weak comparison")
	require.False(t, etagListMatches(`"b"`, "a", true))
	require.Equal(t, `"a-2"`, quoteETag("a-2"))
	require.Empty(t, quoteETag(""))
}

func TestValidHeader(t *testing.T) {
	require.True(t, validHeaderValue("a b\tc"))
	require.False(t, validHeaderValue("a\r\nb"))
	require.False(t, validHeaderValue("a\x7f"))
	require.True(t, validHeaderName("x-amz-meta-owner"))
	require.False(t, validHeaderName("bad name"))
	require.False(t, validHeaderName(""))
	require.False(t, validHeaderName("a:b"))
}

// FuzzParseRange: any header parses without a panic, and a range it
// accepts resolves inside the object.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=7-", "bytes=-0", "bytes=1-0", "bytes=0-1,2-3", "x"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		r, ok := parseRange(v)
		if !ok || size <= 0 {
			return
		}
		off, n, sat := r.resolve(size)
		if sat && (off < 0 || n <= 0 || off+n > size) {
			t.Fatalf("%q in %d bytes: offset %d length %d", v, size, off, n)
		}
	})
}
