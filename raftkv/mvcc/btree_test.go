package mvcc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBTree checks the tree against a sorted slice on random insertions,
// lookups and iterations.
func TestBTree(t *testing.T) {
	seed := seedFor(t)
	r := rand.New(rand.NewPCG(seed, 3))
	var tree btree
	var want [][]byte
	key := func() []byte { return fmt.Appendf(nil, "%x", r.IntN(5000)) }
	for i := range 6000 {
		k := key()
		j, found := slices.BinarySearchFunc(want, k, bytes.Compare)
		require.Equal(t, found, tree.get(k) != nil, "get %q", k)
		if !found {
			tree.insert(&keyIndex{key: k})
			want = slices.Insert(want, j, k)
		}
		require.Equal(t, len(want), tree.len())
		if i%500 != 0 {
			continue
		}
		for _, start := range [][]byte{nil, {}, key(), key(), []byte("zz")} {
			from, _ := slices.BinarySearchFunc(want, start, bytes.Compare)
			got := [][]byte{}
			tree.ascend(start, func(ki *keyIndex) bool {
				got = append(got, ki.key)
				return true
			})
			require.Equal(t, want[from:], got, "ascend from %q", start)
			// Stopping early.
			n := 0
			tree.ascend(start, func(*keyIndex) bool {
				n++
				return n < 7
			})
			require.Equal(t, min(7, len(want)-from), n)
		}
	}
	for _, k := range want {
		require.Equal(t, k, tree.get(k).key)
	}
}

func TestKeyIndex(t *testing.T) {
	ki := &keyIndex{key: []byte("k"), revs: []revision{
		{rev: 2}, {rev: 4, sub: 1}, {rev: 5, tomb: true}, {rev: 7}, {rev: 9, tomb: true}, {rev: 12},
	}}
	for _, tt := range []struct {
		rev     int64
		want    int64 // 0: absent
		compact int
	}{{1, 0, 0}, {2, 2, 0}, {3, 2, 0}, {4, 4, 1}, {5, 0, 3}, {6, 0, 3}, {7, 7, 3}, {8, 7, 3}, {9, 0, 5}, {11, 0, 5}, {12, 12, 5}, {99, 12, 5}} {
		r, ok := ki.at(tt.rev)
		require.Equal(t, tt.want != 0, ok, "at %d", tt.rev)
		require.Equal(t, tt.want, r.rev, "at %d", tt.rev)
		require.Equal(t, tt.compact, ki.compactable(tt.rev), "compactable %d", tt.rev)
	}
	r, ok := ki.current()
	require.True(t, ok)
	require.Equal(t, int64(12), r.rev)
	var nilKI *keyIndex
	_, ok = nilKI.current()
	require.False(t, ok)
}
