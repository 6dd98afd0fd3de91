package mvcc

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestRecordKeyOrder(t *testing.T) {
	keys := [][]byte{recordKey(1, 0), recordKey(1, 1), recordKey(1, 1<<31), recordKey(2, 0), recordKey(255, 7), recordKey(256, 0), recordKey(1<<40, 0)}
	for i := 1; i < len(keys); i++ {
		require.Negative(t, bytes.Compare(keys[i-1], keys[i]), "key %d", i)
	}
	rev, sub, err := parseRecordKey(recordKey(1<<40+3, 9))
	require.NoError(t, err)
	require.Equal(t, int64(1<<40+3), rev)
	require.Equal(t, uint32(9), sub)
	_, _, err = parseRecordKey([]byte{1, 2, 3})
	require.ErrorIs(t, err, ErrCorrupt)
}

func FuzzRecord(f *testing.F) {
	f.Add([]byte("a"), []byte("v"), int64(2), int64(3), int64(1), int64(0), int64(0), uint32(0))
	f.Add([]byte{0, 0xff}, []byte{}, int64(5), int64(9), int64(0), int64(-4), int64(7), uint32(3))
	f.Add([]byte("k"), []byte(nil), int64(1<<62), int64(1<<62), int64(1<<40), int64(1<<62), int64(1<<62), uint32(1<<31))
	f.Fuzz(func(t *testing.T, key, value []byte, create, mod, version, lease, prevRev int64, prevSub uint32) {
		if len(key) == 0 {
			return
		}
		kv := &raftkvv1.KeyValue{Key: key, CreateRevision: create, ModRevision: mod, Version: version, Value: value, Lease: lease}
		prev := revision{rev: prevRev, sub: prevSub}
		rec, err := encodeRecord(prev, kv)
		if err != nil {
			t.Fatal(err)
		}
		gotPrev, gotKV, err := decodeRecord(rec)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if gotPrev != prev || !proto.Equal(kv, gotKV) {
			t.Fatalf("round trip: got %v %v, want %v %v", gotPrev, gotKV, prev, kv)
		}
		k, v, l, err := scanRecord(rec)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		if !bytes.Equal(k, key) || v != version || l != lease {
			t.Fatalf("scan: got %q %d %d", k, v, l)
		}
		// Decoding arbitrary bytes never panics.
		_, _, _, _ = scanRecord(key)
		_, _, _ = decodeRecord(value)
	})
}
