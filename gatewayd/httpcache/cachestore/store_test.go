package cachestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"cairn.dev/cairn/gatewayd/httpcache"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "MemoryBytes is 0"},
		{Options{MemoryBytes: -1}, "MemoryBytes is -1"},
		{Options{MemoryBytes: 1 << 20, DiskBytes: -5}, "DiskBytes is -5"},
		{Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 20}, "Dir is required"},
		{Options{MemoryBytes: 1 << 20, MaxMemoryObject: -1}, "MaxMemoryObject is -1"},
		{Options{MemoryBytes: 1 << 20, MaxMemoryObject: 2 << 20}, "the limit (MemoryBytes) is 1048576"},
	} {
		_, err := Open(tc.o)
		require.ErrorContains(t, err, tc.want, "%+v", tc.o)
	}
}

func TestMemoryRoundTrip(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20})
	require.NoError(t, put(s, "a", "meta-a", []byte("hello")))
	meta, b, ok := s.Get("a")
	require.True(t, ok)
	require.Equal(t, "meta-a", string(meta))
	require.Equal(t, TierMemory, b.Tier())
	require.EqualValues(t, 5, b.Size())
	p := make([]byte, 3)
	n, err := b.ReadAt(p, 2)
	require.NoError(t, err)
	require.Equal(t, "llo", string(p[:n]))
	n, err = b.ReadAt(p, 4)
	require.Equal(t, 1, n)
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, b.Close())

	_, _, ok = s.Get("missing")
	require.False(t, ok)
	u := s.Usage()
	require.EqualValues(t, 1, u.Objects)
	require.EqualValues(t, memCost("a", []byte("meta-a"), 5), u.MemoryBytes)
	require.Zero(t, u.DiskBytes)
}

func TestCreateValidation(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20})
	_, err := s.Create("", nil, 1)
	require.ErrorContains(t, err, "id is empty")
	_, err = s.Create("x", nil, -2)
	require.ErrorContains(t, err, "size is -2")
	_, err = s.Create("x", nil, 1<<20)
	require.ErrorIs(t, err, httpcache.ErrTooLarge)
	require.ErrorContains(t, err, "MaxMemoryObject")
}

func TestSizeMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: dir})
	for _, size := range []int64{10, 100 << 10} { // memory, disk
		w, err := s.Create("short", nil, size)
		require.NoError(t, err)
		_, err = w.Write(make([]byte, size-1))
		require.NoError(t, err)
		require.ErrorIs(t, w.Commit(), ErrSize)

		w, err = s.Create("long", nil, size)
		require.NoError(t, err)
		_, err = w.Write(make([]byte, size+1))
		require.ErrorIs(t, err, ErrSize)
		require.ErrorIs(t, w.Commit(), ErrSize)
	}
	_, _, ok := s.Get("short")
	require.False(t, ok)
	_, _, ok = s.Get("long")
	require.False(t, ok)
	require.EqualValues(t, 0, s.Usage().Objects)
}

func TestUnknownSizeWithoutDiskTooLarge(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20, MaxMemoryObject: 1000})
	w, err := s.Create("big", nil, -1)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 600))
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 600))
	require.ErrorIs(t, err, httpcache.ErrTooLarge)
	require.ErrorIs(t, w.Commit(), httpcache.ErrTooLarge)

	w, err = s.Create("small", nil, -1)
	require.NoError(t, err)
	_, err = w.Write([]byte("chunked"))
	require.NoError(t, err)
	require.NoError(t, w.Commit())
	_, body, tier := get(t, s, "small")
	require.Equal(t, "chunked", body)
	require.Equal(t, TierMemory, tier)
}

func TestUnknownSizeSpillsToDisk(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20, MaxMemoryObject: 1000, DiskBytes: 1 << 24, Dir: t.TempDir()})
	w, err := s.Create("big", []byte("m"), -1)
	require.NoError(t, err)
	want := bytes.Repeat([]byte("0123456789"), 500)
	for i := 0; i < len(want); i += 700 {
		_, err = w.Write(want[i:min(i+700, len(want))])
		require.NoError(t, err)
	}
	require.NoError(t, w.Commit())
	meta, body, tier := get(t, s, "big")
	require.Equal(t, "m", meta)
	require.Equal(t, string(want), body)
	require.Equal(t, TierDisk, tier)
}

func TestAbortStoresNothing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: dir})
	for _, size := range []int64{10, 200 << 10} {
		w, err := s.Create("x", nil, size)
		require.NoError(t, err)
		_, err = w.Write(make([]byte, size))
		require.NoError(t, err)
		w.Abort()
		_, _, ok := s.Get("x")
		require.False(t, ok)
	}
	require.Empty(t, listDir(t, dir+"/tmp"))
}

func TestReplaceKeepsOpenBodies(t *testing.T) {
	for _, size := range []int{10, 100 << 10} { // memory, disk
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: t.TempDir()})
			v1 := bytes.Repeat([]byte("1"), size)
			v2 := bytes.Repeat([]byte("2"), size+3)
			require.NoError(t, put(s, "k", "m1", v1))
			_, old, ok := s.Get("k")
			require.True(t, ok)
			require.NoError(t, put(s, "k", "m2", v2))
			meta, body, _ := get(t, s, "k")
			require.Equal(t, "m2", meta)
			require.Equal(t, string(v2), body)
			require.Equal(t, string(v1), string(read(t, old)))

			_, old, ok = s.Get("k")
			require.True(t, ok)
			require.True(t, s.Delete("k"))
			require.False(t, s.Delete("k"))
			_, _, ok = s.Get("k")
			require.False(t, ok)
			require.Equal(t, string(v2), string(read(t, old)))
			u := s.Usage()
			require.Zero(t, u.Objects)
			require.Zero(t, u.MemoryBytes)
			require.Zero(t, u.DiskBytes)
		})
	}
}

func TestDiskBodyClosed(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: t.TempDir()})
	require.NoError(t, put(s, "k", "", make([]byte, 100<<10)))
	_, b, ok := s.Get("k")
	require.True(t, ok)
	require.Equal(t, TierDisk, b.Tier())
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	_, err := b.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, errBodyClosed)
}

func TestSetMeta(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: dir})
	require.False(t, s.SetMeta("nope", []byte("x")))
	require.NoError(t, put(s, "mem", "old", []byte("body-m")))
	require.NoError(t, put(s, "disk", "old", bytes.Repeat([]byte("d"), 100<<10)))
	before := s.Usage()

	longer := strings.Repeat("new-meta", 100)
	require.True(t, s.SetMeta("mem", []byte(longer)))
	require.True(t, s.SetMeta("disk", []byte(longer)))
	meta, body, tier := get(t, s, "mem")
	require.Equal(t, longer, meta)
	require.Equal(t, "body-m", body)
	require.Equal(t, TierMemory, tier)
	meta, body, tier = get(t, s, "disk")
	require.Equal(t, longer, meta)
	require.Equal(t, strings.Repeat("d", 100<<10), body)
	require.Equal(t, TierDisk, tier)
	after := s.Usage()
	grow := int64(len(longer) - len("old"))
	require.Equal(t, before.MemoryBytes+grow, after.MemoryBytes)
	require.Equal(t, before.DiskBytes+grow, after.DiskBytes)

	// A meta over the limit deletes.
	require.NoError(t, put(s, "gone", "m", []byte("b")))
	require.False(t, s.SetMeta("gone", make([]byte, maxMetaLen+1)))
	_, _, ok := s.Get("gone")
	require.False(t, ok)

	// Shorter meta, then the file must still check out after a restart.
	require.True(t, s.SetMeta("disk", []byte("short")))
	require.NoError(t, s.Close())
	s2 := openStore(t, Options{MemoryBytes: 1 << 20, DiskBytes: 1 << 24, Dir: dir})
	meta, body, _ = get(t, s2, "disk")
	require.Equal(t, "short", meta)
	require.Equal(t, strings.Repeat("d", 100<<10), body)
}

func TestMemoryLimit(t *testing.T) {
	const limit = 64 << 10
	s := openStore(t, Options{MemoryBytes: limit})
	for i := range 1000 {
		err := put(s, fmt.Sprint("k", i), "meta", make([]byte, 100+i%3000))
		if err != nil {
			require.ErrorIs(t, err, httpcache.ErrNotAdmitted)
		}
		require.LessOrEqual(t, s.Usage().MemoryBytes, int64(limit))
	}
	u := s.Usage()
	require.Greater(t, u.Evictions+u.Rejected, int64(0))
	require.Greater(t, u.MemoryBytes, int64(limit/2))
	// The index holds exactly what the policy holds.
	n := 0
	s.Range(func(string, []byte) bool { n++; return true })
	require.EqualValues(t, n, u.Objects)
}

func TestRangeStops(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20})
	for i := range 10 {
		require.NoError(t, put(s, fmt.Sprint(i), "m", []byte("b")))
	}
	n := 0
	s.Range(func(id string, meta []byte) bool {
		require.Equal(t, "m", string(meta))
		n++
		return n < 3
	})
	require.Equal(t, 3, n)
}

func TestClosed(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 1 << 20})
	require.NoError(t, put(s, "a", "", []byte("x")))
	w, err := s.Create("b", nil, 1)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = w.Write([]byte("y"))
	require.NoError(t, err)
	require.True(t, errors.Is(w.Commit(), ErrClosed))
	_, err = s.Create("c", nil, 1)
	require.ErrorIs(t, err, ErrClosed)
	_, _, ok := s.Get("a")
	require.False(t, ok)
}

func TestGetDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Log("the race detector allocates; checked without -race")
		return
	}
	s := openStore(t, Options{MemoryBytes: 1 << 20})
	require.NoError(t, put(s, "hot", "m", make([]byte, 1000)))
	allocs := testing.AllocsPerRun(1000, func() {
		_, b, ok := s.Get("hot")
		if !ok {
			t.Fatal("miss")
		}
		b.Close()
	})
	require.Zero(t, allocs)
}

// TestTouchCountsMisses: requests counted by Touch (misses) make a new
// object win admission over the main area's colder objects; without them
// the same object is refused.
func TestTouchCountsMisses(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 100 << 10, MaxMemoryObject: 8 << 10})
	body := make([]byte, 1000)
	for i := range 200 { // fill main with objects seen once or twice
		id := fmt.Sprint("filler-", i)
		s.Touch(id)
		s.Touch(id)
		if err := put(s, id, "", body); err != nil {
			require.ErrorIs(t, err, httpcache.ErrNotAdmitted) // a tie with main's victim
		}
	}
	big := make([]byte, 4000) // larger than the window: admission at once
	err := put(s, "cold", "", big)
	require.ErrorIs(t, err, httpcache.ErrNotAdmitted)
	for range 6 {
		s.Touch("wanted")
	}
	require.NoError(t, put(s, "wanted", "", big))
	_, _, tier := get(t, s, "wanted")
	require.Equal(t, TierMemory, tier)
	require.GreaterOrEqual(t, s.Usage().Rejected, int64(1))
}
