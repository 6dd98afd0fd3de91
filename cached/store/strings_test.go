package store

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEncodeExpiry(t *testing.T) {
	for _, ms := range []int64{1, 1_700_000_000_123, math.MaxInt64 / 1_000_000, math.MaxInt64/1_000_000 + 1, 9223372036854775000, math.MaxInt64} {
		at := time.UnixMilli(ms)
		enc := encodeExpiry(at)
		require.NotZero(t, enc)
		require.Equal(t, ms, expiryTime(enc).UnixMilli(), "ms %d", ms)
	}
	require.Greater(t, encodeExpiry(time.Unix(0, 5)), int64(0)) // nanoseconds kept
	require.Equal(t, int64(5), encodeExpiry(time.Unix(0, 5)))
	require.Equal(t, int64(1), encodeExpiry(time.UnixMilli(-5))) // before 1970: long past
	require.Equal(t, int64(1), encodeExpiry(time.UnixMilli(math.MinInt64)))
}

func TestFarExpiryNeverExpires(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	_, err := s.Set("k", []byte("v"), SetOptions{ExpireAt: time.UnixMilli(math.MaxInt64)})
	require.NoError(t, err)
	clk.Advance(100 * 365 * 24 * time.Hour)
	s.tick()
	at, ok := s.Expiry("k")
	require.True(t, ok)
	require.Equal(t, int64(math.MaxInt64), at.UnixMilli())
	ttl, ok, has := s.TTL("k")
	require.True(t, ok && has)
	require.Equal(t, time.Duration(math.MaxInt64), ttl)
	it, ok, err := s.Get("k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(math.MaxInt64), it.ExpiresAt.UnixMilli())
}

func TestExpireAtConditions(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	now := clk.Now()
	_, err := s.Set("k", []byte("v"), SetOptions{})
	require.NoError(t, err)
	require.False(t, s.ExpireAt("k", now.Add(time.Hour), ExpireXX))
	require.False(t, s.ExpireAt("k", now.Add(time.Hour), ExpireGT)) // no expiry is infinite
	require.True(t, s.ExpireAt("k", now.Add(time.Hour), ExpireLT))
	require.False(t, s.ExpireAt("k", now.Add(2*time.Hour), ExpireNX))
	require.False(t, s.ExpireAt("k", now.Add(time.Hour), ExpireGT)) // equal is not greater
	require.True(t, s.ExpireAt("k", now.Add(2*time.Hour), ExpireXX|ExpireGT))
	require.False(t, s.ExpireAt("missing", now.Add(time.Hour), 0))
	require.True(t, s.ExpireAt("k", now, 0)) // not after now: deleted
	require.Zero(t, s.Exists("k"))
}

func TestSetGetAndGetEx(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	old, found, err := s.SetGet("k", []byte("a"), SetOptions{OnlyIfPresent: true})
	require.ErrorIs(t, err, ErrNotStored)
	require.False(t, found)
	require.Nil(t, old.Value)
	_, err = s.Set("k", []byte("a"), SetOptions{TTL: time.Minute})
	require.NoError(t, err)
	old, found, err = s.SetGet("k", []byte("b"), SetOptions{KeepTTL: true})
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "a", string(old.Value))
	ttl, _, has := s.TTL("k")
	require.True(t, has)
	require.Equal(t, time.Minute, ttl)
	it, ok, err := s.GetEx("k", time.Time{}, true)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "b", string(it.Value))
	_, _, has = s.TTL("k")
	require.False(t, has)
	_, ok, err = s.GetEx("k", clk.Now().Add(-time.Second), false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Zero(t, s.Exists("k"))
	// A past ExpireAt writes nothing and deletes the key.
	_, err = s.Set("p", []byte("x"), SetOptions{})
	require.NoError(t, err)
	ver, err := s.Set("p", []byte("y"), SetOptions{ExpireAt: clk.Now()})
	require.NoError(t, err)
	require.Zero(t, ver)
	require.Zero(t, s.Exists("p"))
	_, err = s.Set("p", []byte("y"), SetOptions{ExpireAt: clk.Now(), KeepTTL: true})
	require.ErrorIs(t, err, ErrBadOptions)
}

func TestSetRangeAndMSetNX(t *testing.T) {
	s := newStore(t, Config{MaxItemBytes: 100})
	n, err := s.SetRange("k", 3, []byte("ab"))
	require.NoError(t, err)
	require.Equal(t, 5, n)
	it, _, _ := s.Get("k")
	require.Equal(t, "\x00\x00\x00ab", string(it.Value))
	n, err = s.SetRange("k", 0, nil)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	_, err = s.SetRange("k", 99, []byte("x"))
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = s.SetRange("k", math.MaxInt64, []byte("x"))
	require.ErrorIs(t, err, ErrTooLarge)

	ok, err := s.MSetNX([]string{"a", "b", "a"}, [][]byte{[]byte("1"), []byte("2"), []byte("3")})
	require.NoError(t, err)
	require.True(t, ok)
	it, _, _ = s.Get("a")
	require.Equal(t, "3", string(it.Value))
	ok, err = s.MSetNX([]string{"c", "b"}, [][]byte{[]byte("1"), []byte("2")})
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, s.Exists("c"))
	err = s.MSet([]string{"x", "y"}, [][]byte{[]byte("1"), make([]byte, 100)})
	require.ErrorIs(t, err, ErrTooLarge)
	require.Zero(t, s.Exists("x"))
}

func TestAddFloat(t *testing.T) {
	for _, tc := range []struct{ cur, incr, want string }{
		{"", "10.5", "10.5"},
		{"10.5", "0.1", "10.6"},
		{"10.6", "3.0e3", "3010.60000000000000009"},
		{"0.1", "0.2", "0.3"},
		{"", "-0", "0"},
		{"", "1.23456789012345678901234", "1.23456789012345679"},
		{"1", "1e-17", "1.00000000000000001"},
		{"7", "0x1p-2", "7.25"},
		{"", "+5", "5"},
		{"", ".5", "0.5"},
		{"", "5.", "5"},
	} {
		got, err := addFloat([]byte(tc.cur), tc.cur != "", []byte(tc.incr))
		require.NoError(t, err, "%s + %s", tc.cur, tc.incr)
		require.Equal(t, tc.want, string(got), "%s + %s", tc.cur, tc.incr)
	}
	for _, bad := range []string{"abc", " 1", "1 ", "nan", "1_0", "0b1", "1e5000", "1e-5000", "", "1p3", "e5", "0x"} {
		_, err := addFloat(nil, false, []byte(bad))
		require.ErrorIs(t, err, ErrNotFloat, bad)
	}
	for _, c := range [][2]string{{"", "inf"}, {"", "-Infinity"}, {"1e4932", "1e4932"}} {
		_, err := addFloat([]byte(c[0]), c[0] != "", []byte(c[1]))
		require.ErrorIs(t, err, ErrNaNOrInf, c[1])
	}
}

// FuzzParseLongDouble checks that parsing never panics and that what parses
// formats and parses back.
func FuzzParseLongDouble(f *testing.F) {
	for _, s := range []string{"1", "-0.5", "0x1p-2", "inf", "1e4932", "abc", "1e", ".", "0x.p1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := addFloat(nil, false, []byte(s))
		if err != nil {
			return
		}
		_, ok := ParseLongDouble(v)
		require.True(t, ok, "%q formatted as %q", s, v)
	})
}
