package store

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func pairs(kv ...string) [][]byte {
	out := make([][]byte, len(kv))
	for i, s := range kv {
		out[i] = []byte(s)
	}
	return out
}

// fieldsOf returns the hash's fields as "name=value" in order.
func fieldsOf(t *testing.T, s *Store, key string) []string {
	t.Helper()
	var out []string
	require.NoError(t, s.HRead(key, func(h Hash) {
		for i := range h.Len() {
			f := h.At(i)
			out = append(out, f.Name+"="+string(f.Value))
		}
	}))
	return out
}

// Fields keep insertion order, as Redis's small hashes do; a deleted field's
// successors move up and a field set again goes last.
func TestHashOrderAndCounts(t *testing.T) {
	s := newStore(t, Config{})
	n, err := s.HSet("h", pairs("a", "1", "b", "2", "c", "3"), false)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = s.HSet("h", pairs("a", "10", "d", "4", "d", "5"), false)
	require.NoError(t, err)
	require.Equal(t, 1, n) // d counted once, takes its last value
	require.Equal(t, []string{"a=10", "b=2", "c=3", "d=5"}, fieldsOf(t, s, "h"))
	n, err = s.HDel("h", []byte("b"), []byte("zz"), []byte("b"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.HSet("h", pairs("b", "5"), false)
	require.NoError(t, err)
	require.Equal(t, []string{"a=10", "c=3", "d=5", "b=5"}, fieldsOf(t, s, "h"))
	n, err = s.HSet("h", pairs("b", "6"), true)
	require.NoError(t, err)
	require.Equal(t, 0, n)
	n, err = s.HSet("h", pairs("e", "6"), true)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"a=10", "c=3", "d=5", "b=5", "e=6"}, fieldsOf(t, s, "h"))
	checkInvariants(t, s)

	// The last field takes the key with it.
	n, err = s.HDel("h", pairs("a", "b", "c", "d", "e")...)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	_, ok := s.Type("h")
	require.False(t, ok)
	require.Zero(t, s.Len())
	checkInvariants(t, s)
}

// A big hash (indexed) keeps order and finds its fields after deletions.
func TestHashIndexed(t *testing.T) {
	s := newStore(t, Config{})
	for i := range 100 {
		_, err := s.HSet("h", pairs("f"+strconv.Itoa(i), strconv.Itoa(i)), false)
		require.NoError(t, err)
	}
	for i := 0; i < 100; i += 3 {
		n, err := s.HDel("h", []byte("f"+strconv.Itoa(i)))
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	checkInvariants(t, s)
	got := fieldsOf(t, s, "h")
	var want []string
	for i := range 100 {
		if i%3 != 0 {
			want = append(want, fmt.Sprintf("f%d=%d", i, i))
		}
	}
	require.Equal(t, want, got)
	require.NoError(t, s.HRead("h", func(h Hash) {
		v, ok := h.Get("f98")
		require.True(t, ok)
		require.Equal(t, "98", string(v))
		_, ok = h.Get("f99")
		require.False(t, ok)
	}))
}

// Every string operation on a hash, and every hash operation on a string,
// is ErrWrongType and changes nothing; SET replaces a hash.
func TestWrongType(t *testing.T) {
	s := newStore(t, Config{})
	_, err := s.HSet("h", pairs("f", "v"), false)
	require.NoError(t, err)
	_, _, err = s.Get("h")
	require.ErrorIs(t, err, ErrWrongType)
	_, _, err = s.GetDel("h")
	require.ErrorIs(t, err, ErrWrongType)
	_, err = s.IncrBy("h", 1)
	require.ErrorIs(t, err, ErrWrongType)
	_, err = s.Append("h", []byte("x"))
	require.ErrorIs(t, err, ErrWrongType)
	require.Equal(t, []Item{{}}, s.MGet([]string{"h"}))
	require.Equal(t, []string{"f=v"}, fieldsOf(t, s, "h"))

	_, err = s.Set("str", []byte("v"), SetOptions{})
	require.NoError(t, err)
	_, err = s.HSet("str", pairs("f", "v"), false)
	require.ErrorIs(t, err, ErrWrongType)
	_, err = s.HDel("str", []byte("f"))
	require.ErrorIs(t, err, ErrWrongType)
	_, err = s.HUpdate("str", "f", func([]byte, bool) ([]byte, error) { return []byte("1"), nil })
	require.ErrorIs(t, err, ErrWrongType)
	require.ErrorIs(t, s.HRead("str", func(Hash) {}), ErrWrongType)

	_, err = s.Set("h", []byte("now a string"), SetOptions{})
	require.NoError(t, err)
	it, ok, err := s.Get("h")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "now a string", string(it.Value))
	k, _ := s.Type("h")
	require.Equal(t, KindString, k)
	checkInvariants(t, s)
}

// A hash is charged by its fields and values; the item limit applies to the
// whole hash; versions, TTL and HUpdate behave as for strings.
func TestHashChargeLimitVersionTTL(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{MaxBytes: 1 << 20, MaxItemBytes: 100, Clock: clock.Now})
	_, err := s.HSet("h", pairs("ab", "cde"), false)
	require.NoError(t, err)
	require.EqualValues(t, 1+2+3+HashFieldOverhead+ItemOverhead, s.Stats().Bytes)
	v1, _ := s.Stamp("h")
	_, err = s.HSet("h", pairs("f", string(make([]byte, 95))), false)
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, 1+5+1+95, tl.Size)
	v2, _ := s.Stamp("h")
	require.Equal(t, v1, v2, "a refused write keeps the version")

	require.True(t, s.Expire("h", time.Minute))
	out, err := s.HUpdate("h", "n", func(old []byte, ok bool) ([]byte, error) {
		require.False(t, ok)
		return []byte("7"), nil
	})
	require.NoError(t, err)
	require.Equal(t, "7", string(out))
	v3, exp := s.Stamp("h")
	require.Greater(t, v3, v2)
	require.NotZero(t, exp, "hash writes keep the TTL")
	_, err = s.HUpdate("h", "n", func([]byte, bool) ([]byte, error) { return nil, errors.New("no") })
	require.EqualError(t, err, "no")
	checkInvariants(t, s)
	clock.Advance(2 * time.Minute)
	_, ok := s.Type("h")
	require.False(t, ok)
	require.Zero(t, s.Stats().Bytes)
	checkInvariants(t, s)
}

// Eviction takes hashes as wholes and keeps the accounting exact.
func TestHashEviction(t *testing.T) {
	s := newStore(t, Config{Shards: 4, MaxBytes: 20 * (ItemOverhead + 4*HashFieldOverhead + 64)})
	for i := range 200 {
		_, err := s.HSet(fmt.Sprintf("h%03d", i), pairs("a", "1234567", "b", "2", "c", "3", "d", "4"), false)
		require.NoError(t, err)
	}
	st := s.Stats()
	require.Positive(t, st.Evictions)
	require.LessOrEqual(t, st.Bytes, int64(20*(ItemOverhead+4*HashFieldOverhead+64)))
	checkInvariants(t, s)
}

// Rename moves a value of any kind with its TTL; RENAMENX refuses an
// existing destination.
func TestRename(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{MaxBytes: 1 << 20, Clock: clock.Now})
	_, err := s.Set("a", []byte("1"), SetOptions{TTL: time.Minute})
	require.NoError(t, err)
	_, err = s.HSet("h", pairs("f", "v"), false)
	require.NoError(t, err)
	_, err = s.Set("taken", []byte("x"), SetOptions{})
	require.NoError(t, err)

	_, err = s.Rename("nope", "x", false)
	require.ErrorIs(t, err, ErrNoSuchKey)
	ok, err := s.Rename("a", "a-longer-name-than-sixteen", false)
	require.NoError(t, err)
	require.True(t, ok)
	ttl, exists, hasTTL := s.TTL("a-longer-name-than-sixteen")
	require.True(t, exists)
	require.True(t, hasTTL)
	require.Equal(t, time.Minute, ttl)
	_, ok = s.Type("a")
	require.False(t, ok)

	ok, err = s.Rename("h", "taken", true)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.Rename("h", "taken", false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []string{"f=v"}, fieldsOf(t, s, "taken"))
	ok, err = s.Rename("taken", "taken", true)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.Rename("taken", "taken", false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 2, s.Len())
	checkInvariants(t, s)
}

// SCAN's contract: every key present for the whole scan is returned, once,
// however the shards' tables grow and shrink meanwhile.
func TestScanReturnsStableKeysOnce(t *testing.T) {
	s := newStore(t, Config{Shards: 4})
	for i := range 500 {
		_, err := s.Set("stable"+strconv.Itoa(i), []byte("v"), SetOptions{})
		require.NoError(t, err)
	}
	seen := map[string]int{}
	var pos uint64
	churn := 0
	for {
		page, next := s.Scan(pos, 7)
		for _, e := range page {
			seen[e.Key]++
		}
		// Grow the tables between pages, then shrink them.
		for range 40 {
			_, err := s.Set("churn"+strconv.Itoa(churn), []byte("v"), SetOptions{})
			require.NoError(t, err)
			churn++
		}
		if churn > 2000 {
			for i := range churn {
				s.Delete("churn" + strconv.Itoa(i))
			}
		}
		if next == 0 {
			break
		}
		pos = next
	}
	for i := range 500 {
		require.Equal(t, 1, seen["stable"+strconv.Itoa(i)], "stable%d", i)
	}
}

// Stamps change on every modification WATCH must see and only then.
func TestStamp(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{Clock: clock.Now})
	v, e := s.Stamp("k")
	require.Zero(t, v)
	require.Zero(t, e)
	s.Delete("k")
	v2, _ := s.Stamp("k")
	require.Zero(t, v2)
	_, err := s.Set("k", []byte("1"), SetOptions{})
	require.NoError(t, err)
	a1, a2 := s.Stamp("k")
	_, _, _ = s.Get("k")
	b1, b2 := s.Stamp("k")
	require.Equal(t, [2]int64{int64(a1), a2}, [2]int64{int64(b1), b2}, "a read is no modification")
	s.Expire("k", time.Minute)
	c1, c2 := s.Stamp("k")
	require.NotEqual(t, b2, c2)
	require.Equal(t, b1, c1)
	clock.Advance(time.Hour)
	d1, _ := s.Stamp("k")
	require.Zero(t, d1)
}
