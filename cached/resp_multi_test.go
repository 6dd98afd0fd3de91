package cached

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A transaction survives encodeTx and decodeTx unchanged.
func TestTxEncoding(t *testing.T) {
	tbl := newCommandTable()
	watches := []watchedKey{{key: "a", version: 7, expires: -1}, {key: "", version: 0, expires: 1 << 62}}
	cmds := [][][]byte{{[]byte("SET"), []byte("a"), []byte("")}, {[]byte("ping")}, {[]byte("MSET"), []byte("k"), []byte("v")}}
	w, c, ok := decodeTx(tbl, encodeTx(watches, cmds))
	require.True(t, ok)
	require.Equal(t, watches, w)
	require.Equal(t, cmds, c)
	for _, bad := range [][][]byte{
		{[]byte("cairn.exec")},
		{[]byte("cairn.exec"), []byte("1"), []byte("k"), []byte("1")},
		{[]byte("cairn.exec"), []byte("0"), []byte("2"), []byte("get")},
		{[]byte("cairn.exec"), []byte("0"), []byte("1"), []byte("get")},
		{[]byte("cairn.exec"), []byte("0"), []byte("1"), []byte("exec")},
		{[]byte("cairn.exec"), []byte("0"), []byte("2"), []byte("cairn.stamp"), []byte("k")},
		{[]byte("cairn.exec"), []byte("-1")},
	} {
		_, _, ok := decodeTx(tbl, bad)
		require.False(t, ok, "%q", bad)
	}
}

// decodeTx never panics, and what it accepts encodes back to its input.
func FuzzDecodeTx(f *testing.F) {
	tbl := newCommandTable()
	f.Add([]byte("0"), []byte("1"), []byte("ping"), []byte("x"))
	f.Add([]byte("1"), []byte("k"), []byte("3"), []byte("-1"))
	f.Fuzz(func(t *testing.T, a, b, c, d []byte) {
		args := [][]byte{[]byte("cairn.exec"), a, b, c, d}
		w, cmds, ok := decodeTx(tbl, args)
		if ok {
			again, cmds2, ok2 := decodeTx(tbl, encodeTx(w, cmds))
			if !ok2 || len(again) != len(w) || len(cmds2) != len(cmds) {
				t.Fatalf("%q decoded, re-encoded and failed", args)
			}
		}
	})
}

// parseLongDouble takes what strtold takes and nothing else, and never
// panics.
func FuzzParseLongDouble(f *testing.F) {
	for _, s := range []string{"1", "-0", "0x1p3", "1e4932", "inf", "nan", "1_0", " 1", ".5", "1."} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, inf, ok := parseLongDouble(b)
		if ok && (v == nil || inf || v.IsInf()) {
			t.Fatalf("%q: ok with %v, inf %v", b, v, inf)
		}
		if ok {
			formatLongDouble(v)
		}
	})
}
