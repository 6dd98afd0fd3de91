package cachestore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSketchCountsAndSaturates(t *testing.T) {
	sk := newSketch(1024)
	h := hashString(1, "hot")
	require.Equal(t, 0, sk.estimate(h))
	sk.increment(h)
	require.Equal(t, 1, sk.estimate(h), "the doorkeeper absorbs the first access")
	for range 5 {
		sk.increment(h)
	}
	require.Equal(t, 6, sk.estimate(h))
	for range 100 {
		sk.increment(h)
	}
	require.Equal(t, 16, sk.estimate(h), "15 in the counters, 1 in the doorkeeper")
	require.Equal(t, 0, sk.estimate(hashString(1, "cold")))
}

func TestSketchHalves(t *testing.T) {
	sk := newSketch(64) // sampleSize 640
	hot := hashString(7, "hot")
	for range 12 {
		sk.increment(hot)
	}
	require.Equal(t, 12, sk.estimate(hot))
	for i := 0; sk.resets == 0; i++ {
		sk.increment(hashString(7, fmt.Sprint("noise", i)))
	}
	// 11 in the counters halved to 5; the doorkeeper was cleared.
	require.Equal(t, 5, sk.estimate(hot))
}

func TestSketchGrowsKeepingCounts(t *testing.T) {
	sk := newSketch(64)
	want := map[uint64]int{}
	for i := range 50 {
		h := hashString(9, fmt.Sprint("k", i))
		for range i % 7 {
			sk.increment(h)
		}
		want[h] = sk.estimate(h)
	}
	sk.ensureCapacity(64)
	require.Equal(t, 64, sk.capacity)
	sk.ensureCapacity(1000)
	for h, n := range want {
		require.Equal(t, n, sk.estimate(h))
	}
	require.Equal(t, 2000, sk.capacity)
	require.Len(t, sk.table, 2048)
	require.Equal(t, 20000, sk.sampleSize)
}

func TestSketchFewCollisions(t *testing.T) {
	sk := newSketch(1 << 14)
	for i := range 1 << 14 {
		h := hashString(3, fmt.Sprint("k", i))
		sk.increment(h)
		sk.increment(h)
	}
	over := 0
	for i := range 1 << 14 {
		if sk.estimate(hashString(3, fmt.Sprint("k", i))) > 3 {
			over++
		}
	}
	t.Logf("%d of %d estimates over-count by more than 1", over, 1<<14)
	require.Less(t, over, (1<<14)/20)
}

func TestHashSeeded(t *testing.T) {
	require.Equal(t, hashString(1, "abc"), hashString(1, "abc"))
	require.NotEqual(t, hashString(1, "abc"), hashString(2, "abc"))
	require.NotEqual(t, hashString(1, "abcdefgh1"), hashString(1, "abcdefgh2"))
	require.NotEqual(t, hashString(1, ""), hashString(1, "\x00"))
}

// newTestEntry returns an entry of size bytes with hash from id.
func newTestEntry(id string, size int64) *entry {
	return &entry{id: id, hash: hashString(0, id), size: size}
}

func TestPolicyAdmission(t *testing.T) {
	sk := newSketch(1024)
	p := newPolicy(10000, sk) // window 100, main 9900
	var out []*entry
	main := make([]*entry, 0, 100)
	for i := range 100 {
		e := newTestEntry(fmt.Sprint("m", i), 100)
		for range 3 {
			sk.increment(e.hash)
		}
		var ok bool
		out, ok = p.add(e, out)
		require.True(t, ok)
		main = append(main, e)
	}
	require.Empty(t, out, "main fills without a contest")
	// main is full (the last entry is still in the window). A cold
	// candidate pushes the window's entry into main's contest: it has the
	// same frequency as the victim, so it is refused.
	cold := newTestEntry("cold", 100)
	out, ok := p.add(cold, nil)
	require.True(t, ok, "a new entry enters the window")
	require.Equal(t, ids(main[99]), ids(out...))
	require.EqualValues(t, 1, p.rejections)

	// A hot candidate larger than the window goes straight to the contest
	// and displaces the LRU entries of probation.
	hot := newTestEntry("hot", 250)
	for range 10 {
		sk.increment(hot.hash)
	}
	out, ok = p.add(hot, nil)
	require.True(t, ok)
	require.Equal(t, ids(main[0], main[1], main[2]), ids(out...))
	require.Equal(t, segProbation, hot.seg)
	require.LessOrEqual(t, p.bytes(), int64(10000))

	// A hit promotes probation to protected; protected is kept to 80 %.
	p.onAccess(hot)
	require.Equal(t, segProtected, hot.seg)
	for _, e := range main[3:99] {
		p.onAccess(e)
	}
	require.LessOrEqual(t, p.protected.bytes, p.protectedCap)
	require.Greater(t, p.probation.n, 0)

	// Too large for main: refused.
	huge := newTestEntry("huge", 9901)
	out, ok = p.add(huge, nil)
	require.False(t, ok)
	require.Equal(t, ids(huge), ids(out...))
}

func TestPolicyResize(t *testing.T) {
	p := newPolicy(1000, newSketch(64))
	a, b := newTestEntry("a", 400), newTestEntry("b", 400)
	p.addMain(a, nil)
	p.addMain(b, nil)
	out := p.resize(b, 700, nil)
	require.Equal(t, ids(a), ids(out...))
	require.EqualValues(t, 700, p.bytes())
}

func ids(es ...*entry) []string {
	var s []string
	for _, e := range es {
		s = append(s, e.id)
	}
	return s
}
