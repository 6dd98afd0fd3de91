package mvcc

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEscapeOrder(t *testing.T) {
	keys := [][]byte{{}, {0}, {0, 0}, {0, 1}, {0, 0xff}, {1}, []byte("a"), []byte("a\x00"), []byte("a\x00\x00"), []byte("a\x00\xff"), []byte("a\x01"), []byte("ab"), {0xff}, {0xff, 0}}
	for i := range keys {
		for j := range keys {
			want := bytes.Compare(keys[i], keys[j])
			got := bytes.Compare(historyKey(keys[i], 5), historyKey(keys[j], 5))
			require.Equal(t, want, got, "%q vs %q", keys[i], keys[j])
		}
	}
	// Same key: revision order.
	require.Negative(t, bytes.Compare(historyKey([]byte("a"), 9), historyKey([]byte("a"), 10)))
	require.Negative(t, bytes.Compare(historyKey([]byte("a"), 1<<40), historyKey([]byte("a\x00"), 1)))
}

func FuzzHistoryKey(f *testing.F) {
	f.Add([]byte("a"), []byte("a\x00"), int64(1), int64(2))
	f.Add([]byte{0, 0xff}, []byte{0, 1}, int64(7), int64(7))
	f.Add([]byte{}, []byte{0}, int64(1<<62), int64(0))
	f.Fuzz(func(t *testing.T, a, b []byte, ra, rb int64) {
		if ra < 0 {
			ra = -ra
		}
		if rb < 0 {
			rb = -rb
		}
		if ra < 0 || rb < 0 { // math.MinInt64
			return
		}
		ha, hb := historyKey(a, ra), historyKey(b, rb)
		// Round trip.
		k, r, err := parseHistoryKey(ha)
		if err != nil {
			t.Fatalf("parse %x: %v", ha, err)
		}
		if !bytes.Equal(k, a) || r != ra {
			t.Fatalf("round trip of %q@%d gave %q@%d", a, ra, k, r)
		}
		if !bytes.Equal(ha[:len(ha)-revLen], historyPrefix(a)) {
			t.Fatalf("prefix mismatch for %q", a)
		}
		// Order: by key, then by revision.
		want := bytes.Compare(a, b)
		if want == 0 {
			switch {
			case ra < rb:
				want = -1
			case ra > rb:
				want = 1
			}
		}
		if got := bytes.Compare(ha, hb); got != want {
			t.Fatalf("order of %q@%d vs %q@%d: got %d want %d", a, ra, b, rb, got, want)
		}
		// Decoding arbitrary bytes never panics.
		_, _, _ = parseHistoryKey(a)
	})
}
