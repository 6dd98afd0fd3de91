package mvcc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestEmptyStore(t *testing.T) {
	ts := openTestStore(t)
	require.Equal(t, int64(1), ts.s.Revision())
	require.Equal(t, int64(0), ts.s.CompactRevision())
	require.Equal(t, uint64(0), ts.s.AppliedIndex())
	resp := ts.rangeAll(0)
	require.Equal(t, int64(1), resp.Header.Revision)
	require.Empty(t, resp.Kvs)
	require.Positive(t, ts.s.Size())
}

func TestRange(t *testing.T) {
	ts := openTestStore(t)
	for _, k := range []string{"a", "b", "ba", "bb", "c", "d\x00", "d\x00\x00", "e"} {
		ts.put(k, "v-"+k)
	}
	tests := []struct {
		name      string
		req       *raftkvv1.RangeRequest
		wantKeys  []string
		wantCount int64
		wantMore  bool
		wantNext  string
	}{
		{"single", &raftkvv1.RangeRequest{Key: []byte("b")}, []string{"b"}, 1, false, ""},
		{"single missing", &raftkvv1.RangeRequest{Key: []byte("bc")}, []string{}, 0, false, ""},
		{"half open", &raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c")}, []string{"b", "ba", "bb"}, 3, false, ""},
		{"prefix", &raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c")}, []string{"b", "ba", "bb"}, 3, false, ""},
		{"from key", &raftkvv1.RangeRequest{Key: []byte("c"), RangeEnd: []byte{0}}, []string{"c", "d\x00", "d\x00\x00", "e"}, 4, false, ""},
		{"all", &raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}, []string{"a", "b", "ba", "bb", "c", "d\x00", "d\x00\x00", "e"}, 8, false, ""},
		{"zero bytes", &raftkvv1.RangeRequest{Key: []byte("d"), RangeEnd: []byte("d\x00\x01")}, []string{"d\x00", "d\x00\x00"}, 2, false, ""},
		{"end before key", &raftkvv1.RangeRequest{Key: []byte("c"), RangeEnd: []byte("b")}, []string{}, 0, false, ""},
		{"limit", &raftkvv1.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Limit: 3}, []string{"a", "b", "ba"}, 8, true, "bb"},
		{"limit exact", &raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c"), Limit: 3}, []string{"b", "ba", "bb"}, 3, false, ""},
		{"count only", &raftkvv1.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), CountOnly: true, Limit: 2}, []string{}, 8, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ts.s.Range(tt.req)
			require.NoError(t, err)
			require.Equal(t, tt.wantKeys, keysOf(resp.Kvs))
			require.Equal(t, tt.wantCount, resp.Count)
			require.Equal(t, tt.wantMore, resp.More)
			require.Equal(t, tt.wantNext, string(resp.NextKey))
			require.Equal(t, ts.s.Revision(), resp.Header.Revision)
			for _, kv := range resp.Kvs {
				require.Equal(t, "v-"+string(kv.Key), string(kv.Value))
			}
		})
	}

	t.Run("keys only", func(t *testing.T) {
		resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c"), KeysOnly: true})
		require.NoError(t, err)
		require.Equal(t, []string{"b", "ba", "bb"}, keysOf(resp.Kvs))
		for _, kv := range resp.Kvs {
			require.Empty(t, kv.Value)
			require.Equal(t, int64(1), kv.Version)
		}
	})

	t.Run("paging", func(t *testing.T) {
		for _, rev := range []int64{0, 6} {
			var got []string
			key := []byte{0}
			pinned := rev
			for {
				resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: key, RangeEnd: []byte{0}, Limit: 3, Revision: pinned})
				require.NoError(t, err)
				pinned = resp.Header.Revision
				got = append(got, keysOf(resp.Kvs)...)
				if !resp.More {
					break
				}
				key = resp.NextKey
			}
			want := keysOf(ts.rangeAll(pinned).Kvs)
			require.Equal(t, want, got, "rev %d", rev)
		}
	})
}

func TestVersionsAndRevisions(t *testing.T) {
	ts := openTestStore(t)
	r := ts.put("k", "v1")
	require.Equal(t, int64(2), r.Header.Revision)
	require.Nil(t, r.PrevKv)
	kv := ts.get("k", 0)
	require.Equal(t, int64(2), kv.CreateRevision)
	require.Equal(t, int64(2), kv.ModRevision)
	require.Equal(t, int64(1), kv.Version)

	r = ts.put("k", "v2")
	require.Equal(t, int64(3), r.Header.Revision)
	require.Equal(t, "v1", string(r.PrevKv.Value))
	kv = ts.get("k", 0)
	require.Equal(t, []int64{2, 3, 2}, []int64{kv.CreateRevision, kv.ModRevision, kv.Version})

	ts.put("other", "x") // rev 4

	// Deleting nothing does not bump the revision.
	d := ts.ok(delCmd("nope", "")).GetDeleteRange()
	require.Equal(t, int64(0), d.Deleted)
	require.Equal(t, int64(4), d.Header.Revision)
	require.Equal(t, int64(4), ts.s.Revision())

	d = ts.ok(delCmd("k", "")).GetDeleteRange()
	require.Equal(t, int64(1), d.Deleted)
	require.Equal(t, int64(5), d.Header.Revision)
	require.Len(t, d.PrevKvs, 1)
	require.Equal(t, "v2", string(d.PrevKvs[0].Value))
	require.Nil(t, ts.get("k", 0))

	ts.put("k", "v3") // rev 6: recreated
	kv = ts.get("k", 0)
	require.Equal(t, []int64{6, 6, 1}, []int64{kv.CreateRevision, kv.ModRevision, kv.Version})

	// Past revisions.
	require.Nil(t, ts.get("k", 1))
	require.Equal(t, "v1", string(ts.get("k", 2).Value))
	require.Equal(t, "v2", string(ts.get("k", 3).Value))
	require.Equal(t, "v2", string(ts.get("k", 4).Value))
	require.Nil(t, ts.get("k", 5))
	require.Equal(t, "v3", string(ts.get("k", 6).Value))
	require.Equal(t, []int64{2, 3, 2}, []int64{ts.get("k", 4).CreateRevision, ts.get("k", 4).ModRevision, ts.get("k", 4).Version})

	_, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte("k"), Revision: 7})
	require.ErrorIs(t, err, ErrFutureRevision)

	// Delete a range: one revision for all keys.
	ts.put("k2", "x")                            // 7
	d = ts.ok(delCmd("k", "l")).GetDeleteRange() // 8
	require.Equal(t, int64(2), d.Deleted)
	require.Equal(t, int64(8), ts.s.Revision())
	require.Equal(t, []string{"other"}, keysOf(ts.rangeAll(0).Kvs))
	require.Equal(t, []string{"k", "k2", "other"}, keysOf(ts.rangeAll(7).Kvs))
}

func TestEmptyKeyPut(t *testing.T) {
	ts := openTestStore(t)
	r := ts.one(putCmd("", "v", 0))
	require.ErrorIs(t, ErrorFromCode(r.Error, r.ErrorMessage), ErrEmptyKey)
	require.Equal(t, int64(1), ts.s.Revision())
}

func TestCompaction(t *testing.T) {
	ts := openTestStore(t)
	ts.put("a", "1")               // 2
	ts.put("b", "1")               // 3
	ts.put("a", "2")               // 4
	ts.ok(delCmd("b", ""))         // 5
	ts.put("c", "1")               // 6
	ts.put("a", "3")               // 7
	ts.put("b", "2")               // 8
	ts.ok(delCmd("c", ""))         // 9
	before := map[int64][]string{} // rev → "key=value" list
	all := func(rev int64) []string {
		var out []string
		for _, kv := range ts.rangeAll(rev).Kvs {
			out = append(out, fmt.Sprintf("%s=%s@%d/%d/%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version))
		}
		return out
	}
	for rev := int64(1); rev <= 9; rev++ {
		before[rev] = all(rev)
	}

	r := ts.one(compactCmd(10))
	require.Equal(t, "future_revision", r.Error)
	r = ts.ok(compactCmd(6))
	require.Equal(t, int64(9), r.GetCompact().Header.Revision)
	require.Equal(t, int64(6), ts.s.CompactRevision())
	require.Equal(t, int64(9), ts.s.Revision(), "compaction does not bump the revision")
	for _, rev := range []int64{6, 5} {
		r = ts.one(compactCmd(rev))
		require.ErrorIs(t, ErrorFromCode(r.Error, r.ErrorMessage), ErrCompacted)
	}

	for rev := int64(1); rev < 6; rev++ {
		_, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte("a"), Revision: rev})
		require.ErrorIs(t, err, ErrCompacted, "rev %d", rev)
	}
	for rev := int64(6); rev <= 9; rev++ {
		require.Equal(t, before[rev], all(rev), "rev %d", rev)
	}

	_, _, err := ts.s.Events(6, []byte{0}, []byte{0}, 0)
	require.ErrorIs(t, err, ErrCompacted)
	evs, complete, err := ts.s.Events(7, []byte{0}, []byte{0}, 0)
	require.NoError(t, err)
	require.Equal(t, int64(9), complete)
	require.Len(t, evs, 3)
	require.Equal(t, int64(7), evs[0].Kv.ModRevision)

	// Compacting everything keeps the current state readable.
	ts.ok(compactCmd(9))
	require.Equal(t, before[9], all(9))
	require.Equal(t, before[9], all(0))
	evs, complete, err = ts.s.Events(10, []byte{0}, []byte{0}, 0)
	require.NoError(t, err)
	require.Empty(t, evs)
	require.Equal(t, int64(9), complete)
}

func TestReplayIsSkipped(t *testing.T) {
	ts := openTestStore(t)
	res, evs, err := ts.s.ApplyBatch([]Entry{{Index: 1, Cmd: putCmd("a", "1", 0)}, {Index: 2, Cmd: putCmd("a", "2", 0)}})
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.Len(t, evs, 2)
	require.NoError(t, ts.s.Flush())
	require.Equal(t, uint64(2), ts.s.AppliedIndex())

	// A replay of the whole batch, and a batch that overlaps it.
	res, evs, err = ts.s.ApplyBatch([]Entry{{Index: 1, Cmd: putCmd("a", "1", 0)}, {Index: 2, Cmd: putCmd("a", "2", 0)}})
	require.NoError(t, err)
	require.Equal(t, []*raftkvraftv1.CommandResult{nil, nil}, res)
	require.Empty(t, evs)
	res, evs, err = ts.s.ApplyBatch([]Entry{{Index: 2, Cmd: putCmd("a", "2", 0)}, {Index: 3, Cmd: putCmd("a", "3", 0)}})
	require.NoError(t, err)
	require.Nil(t, res[0])
	require.NotNil(t, res[1])
	require.Len(t, evs, 1)
	require.Equal(t, int64(4), ts.s.Revision())
	require.Equal(t, int64(3), ts.get("a", 0).Version)

	// The applied index survives a reopen.
	path := ts.s.path
	require.NoError(t, ts.s.Close())
	s2, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	defer s2.Close()
	require.Equal(t, uint64(3), s2.AppliedIndex())
	require.Equal(t, int64(4), s2.Revision())
	res, _, err = s2.ApplyBatch([]Entry{{Index: 3, Cmd: putCmd("a", "3", 0)}})
	require.NoError(t, err)
	require.Nil(t, res[0])
}

func TestUnknownCommand(t *testing.T) {
	ts := openTestStore(t)
	r := ts.one(&raftkvraftv1.Command{})
	require.Equal(t, "unknown_command", r.Error)
	require.NoError(t, ts.s.Flush())
	require.Equal(t, uint64(1), ts.s.AppliedIndex())
}

func TestClosed(t *testing.T) {
	ts := openTestStore(t)
	require.NoError(t, ts.s.Close())
	_, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte("a")})
	require.ErrorIs(t, err, ErrClosed)
	_, _, err = ts.s.ApplyBatch([]Entry{{Index: 1, Cmd: putCmd("a", "1", 0)}})
	require.ErrorIs(t, err, ErrClosed)
	require.Nil(t, ts.s.Leases())
	require.Zero(t, ts.s.Size())
}

func TestErrorCodes(t *testing.T) {
	for _, c := range codes {
		require.Equal(t, c.code, ErrorCode(c.err))
		wrapped := fmt.Errorf("%w: detail", c.err)
		require.Equal(t, c.code, ErrorCode(wrapped))
		back := ErrorFromCode(ErrorCode(wrapped), wrapped.Error())
		require.ErrorIs(t, back, c.err)
		require.Equal(t, wrapped.Error(), back.Error())
		require.ErrorIs(t, ErrorFromCode(c.code, ""), c.err)
	}
	require.Equal(t, "", ErrorCode(nil))
	require.NoError(t, ErrorFromCode("", "x"))
	require.Equal(t, "unknown", ErrorCode(errors.New("boom")))
	require.EqualError(t, ErrorFromCode("weird", "mvcc: weird thing"), "mvcc: weird thing")
}
