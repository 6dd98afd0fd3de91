package meta

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// t0 is the command time tests start at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testStore wraps a Store with a Raft index and a command clock that tests
// move by hand.
type testStore struct {
	t    testing.TB
	s    *Store
	path string
	idx  uint64
	now  time.Time
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openTestStore(t testing.TB) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	ts := &testStore{t: t, s: s, path: path, now: t0}
	t.Cleanup(func() { require.NoError(t, ts.s.Close()) })
	return ts
}

func (ts *testStore) reopen() {
	ts.t.Helper()
	require.NoError(ts.t, ts.s.Close())
	s, err := Open(ts.path, Options{NoSync: true, Logger: testLogger(ts.t)})
	require.NoError(ts.t, err)
	ts.s = s
}

// entry makes the next log entry of cmd, stamped with the test clock.
func (ts *testStore) entry(cmd *blobdraftv1.Command) raftnode.Entry {
	ts.t.Helper()
	cmd.UnixNanos = ts.now.UnixNano()
	data, err := proto.Marshal(cmd)
	require.NoError(ts.t, err)
	ts.idx++
	return raftnode.Entry{Index: ts.idx, Term: 1, Data: data}
}

// apply applies cmd as one batch and returns its decoded result.
func (ts *testStore) apply(cmd *blobdraftv1.Command) *blobdraftv1.CommandResult {
	ts.t.Helper()
	out, err := ts.s.ApplyBatch([]raftnode.Entry{ts.entry(cmd)})
	require.NoError(ts.t, err)
	require.Len(ts.t, out, 1)
	res := &blobdraftv1.CommandResult{}
	require.NoError(ts.t, proto.Unmarshal(out[0], res))
	return res
}

// must applies cmd and requires it to succeed.
func (ts *testStore) must(cmd *blobdraftv1.Command) *blobdraftv1.CommandResult {
	ts.t.Helper()
	res := ts.apply(cmd)
	require.NoError(ts.t, ResultError(res), "command %v", cmd)
	return res
}

// refuse applies cmd and requires it to fail with want; it returns the
// result's error.
func (ts *testStore) refuse(cmd *blobdraftv1.Command, want error) error {
	ts.t.Helper()
	res := ts.apply(cmd)
	err := ResultError(res)
	require.ErrorIs(ts.t, err, want, "command %v", cmd)
	require.Empty(ts.t, res.GetFreed())
	return err
}

// cluster registers servers s1..s3, one replicated volume (1) on them and
// three single volumes (2..4), a bucket "bkt", and allocates needles
// 1..1000.
func (ts *testStore) cluster() {
	ts.t.Helper()
	for _, id := range []string{"s1", "s2", "s3"} {
		ts.must(RegisterServer(id, id+":1", id+":2", 1<<40, 1<<39))
	}
	ts.must(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{"s1", "s2", "s3"}, 0))
	for _, id := range []string{"s1", "s2", "s3"} {
		ts.must(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE, []string{id}, 0))
	}
	ts.must(CreateBucket("bkt", "alice", 0, nil))
	ts.must(AllocateNeedles(1000))
}

// repl is a replicated manifest of size bytes on volume 1 with needles
// from nids, in chunks of up to MaxChunkBytes.
func repl(size int64, nids ...uint64) []*blobdraftv1.Chunk {
	var out []*blobdraftv1.Chunk
	for i, off := 0, int64(0); off < size; i++ {
		n := min(size-off, MaxChunkBytes)
		out = append(out, &blobdraftv1.Chunk{Offset: off, Size: n, Layout: &blobdraftv1.Chunk_Replicated{
			Replicated: &blobdraftv1.NeedleRef{Vid: 1, Nid: nids[i], Cookie: uint32(nids[i]) * 7}}})
		off += n
	}
	return out
}

// ecChunk is one 2+1 erasure-coded chunk of size bytes on volumes 2..4.
func ecChunk(size int64, nids [3]uint64) []*blobdraftv1.Chunk {
	ec := &blobdraftv1.EcLayout{Data: 2, Parity: 1}
	for i, n := range nids {
		ec.Shards = append(ec.Shards, &blobdraftv1.NeedleRef{Vid: uint32(2 + i), Nid: n, Cookie: 1})
	}
	return []*blobdraftv1.Chunk{{Offset: 0, Size: size, Layout: &blobdraftv1.Chunk_Ec{Ec: ec}}}
}

func obj(size int64, etag string, chunks []*blobdraftv1.Chunk) *blobdraftv1.ObjectRecord {
	return &blobdraftv1.ObjectRecord{Size: size, Etag: etag, Chunks: chunks,
		Headers: &blobdraftv1.ObjectHeaders{ContentType: "text/plain", UserMetadata: map[string]string{"a": "b"}}}
}

// freedNids returns the needle ids of a result's freed list.
func freedNids(res *blobdraftv1.CommandResult) []uint64 {
	var out []uint64
	for _, n := range res.GetFreed() {
		out = append(out, n.GetNid())
	}
	return out
}

// refCount counts the references to needle vid/nid.
func (ts *testStore) refCount(vid uint32, nid uint64) int {
	ts.t.Helper()
	n := 0
	for r, err := range ts.s.NeedleRefs(vid) {
		require.NoError(ts.t, err)
		if r.Nid == nid {
			n++
		}
	}
	return n
}

func unmarshalInto(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }
