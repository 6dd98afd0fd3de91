package meta

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func TestServersAndVolumes(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	r := ts.must(RegisterServer("s1", "new:1", "new:2", 5, 4)).GetServer()
	require.Equal(t, "new:1", r.Addr)
	require.Equal(t, uint64(1), r.RegisteredIndex, "registered index kept")
	ts.must(SetServerState("s2", blobdraftv1.ServerState_SERVER_STATE_DRAINING))
	require.Equal(t, blobdraftv1.ServerState_SERVER_STATE_DRAINING, ts.must(RegisterServer("s2", "a", "", 1, 1)).GetServer().State, "draining survives a registration")
	ts.must(SetServerState("s3", blobdraftv1.ServerState_SERVER_STATE_DOWN))
	require.Equal(t, blobdraftv1.ServerState_SERVER_STATE_UP, ts.must(RegisterServer("s3", "a", "", 1, 1)).GetServer().State, "a down server that registers is up")
	ts.refuse(SetServerState("nope", blobdraftv1.ServerState_SERVER_STATE_DOWN), ErrServerNotFound)
	ts.refuse(SetServerState("s1", 9), ErrInvalidArgument)
	ts.refuse(RegisterServer("", "a", "", 0, 0), ErrInvalidArgument)

	// s2 is draining: no new volume there.
	ts.refuse(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{"s1", "s2"}, 0), ErrPreconditionFailed)
	ts.refuse(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{"s1", "s1"}, 0), ErrInvalidArgument)
	ts.refuse(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE, []string{"s1", "s3"}, 0), ErrInvalidArgument)
	ts.refuse(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{"s9"}, 0), ErrServerNotFound)
	ts.refuse(CreateVolume(0, []string{"s1"}, 0), ErrInvalidArgument)
	v := ts.must(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{"s1", "s3"}, 7)).GetVolume()
	require.Equal(t, uint32(5), v.Id)
	require.Equal(t, blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE, v.State)
	require.Equal(t, t0.UnixNano(), v.CreatedUnixNanos)

	// Compare-and-set of the replicas.
	ts.refuse(SetVolumeReplicas(5, []string{"s3", "s1"}, []string{"s1", "s4"}), ErrPreconditionFailed)
	ts.refuse(SetVolumeReplicas(5, []string{"s1", "s3"}, []string{"s1", "s2"}), ErrPreconditionFailed) // s2 draining
	ts.refuse(SetVolumeReplicas(99, nil, []string{"s1"}), ErrVolumeNotFound)
	ts.must(RegisterServer("s4", "s4:1", "", 1, 1))
	require.Equal(t, []string{"s1", "s4"}, ts.must(SetVolumeReplicas(5, []string{"s1", "s3"}, []string{"s1", "s4"})).GetVolume().Servers)
	ts.must(SetVolumeState(5, blobdraftv1.VolumeState_VOLUME_STATE_FULL))
	ts.refuse(SetVolumeState(5, 0), ErrInvalidArgument)

	on, err := ts.s.VolumesOn("s4")
	require.NoError(t, err)
	require.Len(t, on, 1)
	require.Equal(t, blobdraftv1.VolumeState_VOLUME_STATE_FULL, on[0].State)
	on, err = ts.s.VolumesOn("s1")
	require.NoError(t, err)
	require.Len(t, on, 3) // 1, 2, 5

	// A referenced volume cannot be dropped.
	ts.must(PutObject("bkt", "k", obj(10, "e", repl(10, 5)), "", ""))
	ts.refuse(DropVolume(1), ErrPreconditionFailed)
	ts.must(DropVolume(5))
	_, err = ts.s.Volume(5)
	require.ErrorIs(t, err, ErrVolumeNotFound)
	ts.refuse(DropVolume(5), ErrVolumeNotFound)
	// The id is never reused.
	require.Equal(t, uint32(6), ts.must(CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE, []string{"s1"}, 0)).GetVolume().Id)
}

func TestAllocateNeedles(t *testing.T) {
	ts := openTestStore(t)
	r := ts.must(AllocateNeedles(10)).GetNeedles()
	require.Equal(t, &blobdraftv1.NeedleRange{First: 1, Count: 10}, r)
	ts.now = t0.Add(time.Hour)
	r = ts.must(AllocateNeedles(5)).GetNeedles()
	require.Equal(t, uint64(11), r.First)
	ts.refuse(AllocateNeedles(0), ErrInvalidArgument)
	ts.refuse(AllocateNeedles(MaxNeedleBlock+1), ErrInvalidArgument)
	next, err := ts.s.NextNeedle()
	require.NoError(t, err)
	require.Equal(t, uint64(16), next)
	for nid, want := range map[uint64]time.Time{1: t0, 10: t0, 11: t0.Add(time.Hour), 15: t0.Add(time.Hour)} {
		at, ok, err := ts.s.NeedleAllocatedAt(nid)
		require.NoError(t, err)
		require.True(t, ok, nid)
		require.True(t, want.Equal(at), "nid %d at %v, want %v", nid, at, want)
	}
	for _, nid := range []uint64{0, 16, 1 << 40} {
		_, ok, err := ts.s.NeedleAllocatedAt(nid)
		require.NoError(t, err)
		require.False(t, ok, nid)
	}
}

func TestBuckets(t *testing.T) {
	ts := openTestStore(t)
	b := ts.must(CreateBucket("photos", "alice", 0, nil)).GetBucket()
	require.Equal(t, blobdraftv1.Tier_TIER_HOT, b.DefaultTier)
	err := ts.refuse(CreateBucket("photos", "bob", 0, nil), ErrBucketExists)
	require.Equal(t, "alice", rpcerr.MetadataOf(err)[KeyBucketOwner])
	ts.refuse(CreateBucket("Photos", "bob", 0, nil), ErrInvalidArgument)
	ts.refuse(CreateBucket("ok-name", "", 0, nil), ErrInvalidArgument)
	ts.refuse(CreateBucket("ok-name", "a", 9, nil), ErrInvalidArgument)
	ts.refuse(CreateBucket("ok-name", "a", 0, []*blobdraftv1.LifecycleRule{{Id: "x"}}), ErrInvalidArgument)
	ts.must(CreateBucket("cold", "bob", blobdraftv1.Tier_TIER_COOL, nil))
	bs, err := ts.s.Buckets()
	require.NoError(t, err)
	require.Len(t, bs, 2)
	require.Equal(t, "cold", bs[0].Name)

	rules := []*blobdraftv1.LifecycleRule{{Id: "r", Prefix: "logs/", ExpirationDays: 30}}
	require.Len(t, ts.must(PutLifecycle("photos", rules)).GetBucket().Rules, 1)
	ts.refuse(PutLifecycle("nope", rules), ErrBucketNotFound)

	ts.refuse(DeleteBucket("nope"), ErrBucketNotFound)
	ts.must(DeleteBucket("cold"))
	_, err = ts.s.Bucket("cold")
	require.ErrorIs(t, err, ErrBucketNotFound)
}

func TestDeleteBucketNotEmpty(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	ts.must(PutObject("bkt", "k", obj(0, "e", nil), "", ""))
	ts.refuse(DeleteBucket("bkt"), ErrBucketNotEmpty)
	ts.must(DeleteObject("bkt", "k"))
	u := ts.must(CreateMultipartUpload("bkt", "k", nil, 0)).GetUpload()
	ts.refuse(DeleteBucket("bkt"), ErrBucketNotEmpty)
	ts.must(AbortMultipartUpload("bkt", "k", u.UploadId))
	ts.must(DeleteBucket("bkt"))
}

func TestValidateBucketName(t *testing.T) {
	for _, ok := range []string{"abc", "my.bucket-1", "a1b", strings.Repeat("a", 63), "1.2.3.x", "xn-a"} {
		require.NoError(t, ValidateBucketName(ok), ok)
	}
	for _, bad := range []string{"ab", strings.Repeat("a", 64), "ABC", "a_b", "-ab", "ab-", ".ab", "a..b", "192.168.5.4",
		"xn--abc", "sthree-x", "amzn-s3-demo-x", "x-s3alias", "x--ol-s3", "x.mrap", "x--x-s3", "x--table-s3", "a b", "ümlaut"} {
		err := ValidateBucketName(bad)
		require.ErrorIs(t, err, ErrInvalidArgument, bad)
		require.Equal(t, "bucket", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	}
}

func TestValidateKey(t *testing.T) {
	require.NoError(t, ValidateKey("a/b/c ü 🙂"))
	require.NoError(t, ValidateKey(strings.Repeat("k", MaxKeyBytes)))
	require.ErrorIs(t, ValidateKey(""), ErrInvalidArgument)
	require.ErrorIs(t, ValidateKey(strings.Repeat("k", MaxKeyBytes+1)), ErrLimitExceeded)
	require.ErrorIs(t, ValidateKey("a\xffb"), ErrInvalidArgument)
	require.ErrorIs(t, ValidateKey("a\x00b"), ErrInvalidArgument)
}

func TestPutObjectRules(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	ts.refuse(PutObject("nope", "k", obj(1, "e", repl(1, 1)), "", ""), ErrBucketNotFound)
	ts.refuse(PutObject("bkt", "", obj(1, "e", repl(1, 1)), "", ""), ErrInvalidArgument)
	ts.refuse(PutObject("bkt", strings.Repeat("k", 1025), obj(1, "e", repl(1, 1)), "", ""), ErrLimitExceeded)
	ts.refuse(PutObject("bkt", "k", obj(2, "e", repl(1, 1)), "", ""), ErrInvalidArgument)    // size mismatch
	ts.refuse(PutObject("bkt", "k", obj(1, "", repl(1, 1)), "", ""), ErrInvalidArgument)     // no etag
	ts.refuse(PutObject("bkt", "k", obj(1, "e", repl(1, 5000)), "", ""), ErrInvalidArgument) // never allocated
	ts.refuse(PutObject("bkt", "k", obj(1, "e", repl(1, 0)), "", ""), ErrInvalidArgument)    // id 0
	twice := ecChunk(5, [3]uint64{1, 2, 2})
	twice[0].GetEc().Shards[2].Vid = 3
	ts.refuse(PutObject("bkt", "k", obj(5, "e", twice), "", ""), ErrInvalidArgument) // shard twice
	bad := repl(1, 1)
	bad[0].GetReplicated().Vid = 2 // a SINGLE volume
	ts.refuse(PutObject("bkt", "k", obj(1, "e", bad), "", ""), ErrInvalidArgument)
	bad[0].GetReplicated().Vid = 99
	ts.refuse(PutObject("bkt", "k", obj(1, "e", bad), "", ""), ErrVolumeNotFound)
	gap := repl(2*MaxChunkBytes, 1, 2)
	gap[1].Offset++
	ts.refuse(PutObject("bkt", "k", obj(2*MaxChunkBytes, "e", gap), "", ""), ErrInvalidArgument)
	big := obj(1, "e", repl(1, 1))
	big.Headers.UserMetadata = map[string]string{"x": strings.Repeat("v", MaxUserMetadataBytes)}
	ts.refuse(PutObject("bkt", "k", big, "", ""), ErrLimitExceeded)
	ts.refuse(PutObject("bkt", "k", &blobdraftv1.ObjectRecord{Size: 1, Etag: "e", Chunks: []*blobdraftv1.Chunk{{Size: 1}}}, "", ""), ErrInvalidArgument)

	// A multi-chunk replicated object and an erasure-coded one.
	size := int64(2*MaxChunkBytes + 3)
	o := ts.must(PutObject("bkt", "a", obj(size, "e1", repl(size, 1, 2, 3)), "", "")).GetObject()
	require.Equal(t, blobdraftv1.Tier_TIER_HOT, o.Tier)
	require.Equal(t, ts.idx, o.Version)
	require.Equal(t, t0.UnixNano(), o.CreatedUnixNanos)
	e := obj(100, "e2", ecChunk(100, [3]uint64{4, 5, 6}))
	e.Tier = blobdraftv1.Tier_TIER_COOL
	ts.must(PutObject("bkt", "b", e, "", ""))
	got, err := ts.s.Object("bkt", "b")
	require.NoError(t, err)
	require.Equal(t, blobdraftv1.Tier_TIER_COOL, got.Tier)
	require.Len(t, got.Chunks[0].GetEc().Shards, 3)
	require.Equal(t, "text/plain", got.Headers.ContentType)
	_, err = ts.s.Object("bkt", "zz")
	require.ErrorIs(t, err, ErrObjectNotFound)
	_, err = ts.s.Object("nope", "a")
	require.ErrorIs(t, err, ErrBucketNotFound)
}

func TestPutObjectConditions(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	ts.refuse(PutObject("bkt", "k", obj(0, "e1", nil), `"e1"`, ""), ErrObjectNotFound)
	ts.must(PutObject("bkt", "k", obj(0, "e1", nil), "", "*"))
	ts.refuse(PutObject("bkt", "k", obj(0, "e2", nil), "", "*"), ErrPreconditionFailed)
	ts.refuse(PutObject("bkt", "k", obj(0, "e2", nil), "", "e1"), ErrInvalidArgument)
	ts.refuse(PutObject("bkt", "k", obj(0, "e2", nil), `"other"`, ""), ErrPreconditionFailed)
	ts.must(PutObject("bkt", "k", obj(0, "e2", nil), `"e1"`, ""))
	ts.must(PutObject("bkt", "k", obj(0, "e3", nil), "*", ""))
}

func TestRefcountsAndFreed(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	ts.must(PutObject("bkt", "a", obj(10, "e", repl(10, 1)), "", ""))
	// A copy shares the needle.
	ts.must(PutObject("bkt", "b", obj(10, "e", repl(10, 1)), "", ""))
	require.Equal(t, 2, ts.refCount(1, 1))
	// Replacing a frees nothing: b still holds needle 1.
	res := ts.must(PutObject("bkt", "a", obj(10, "e", repl(10, 2)), "", ""))
	require.Empty(t, res.GetFreed())
	// Deleting b frees needle 1, once.
	res = ts.must(DeleteObject("bkt", "b"))
	require.True(t, res.GetDeleted())
	require.Equal(t, []uint64{1}, freedNids(res))
	require.Equal(t, uint32(7), res.GetFreed()[0].GetCookie())
	res = ts.must(DeleteObject("bkt", "b"))
	require.False(t, res.GetDeleted())
	require.Empty(t, res.GetFreed())
	// Replacing a with itself keeps its needle.
	res = ts.must(PutObject("bkt", "a", obj(10, "e", repl(10, 2)), "", ""))
	require.Empty(t, res.GetFreed())
	require.Equal(t, 1, ts.refCount(1, 2))
	// Erasure-coded shards are freed each.
	ts.must(PutObject("bkt", "c", obj(9, "e", ecChunk(9, [3]uint64{3, 4, 5})), "", ""))
	res = ts.must(PutObject("bkt", "c", obj(10, "e", repl(10, 6)), "", ""))
	require.Equal(t, []*blobdraftv1.NeedleRef{{Vid: 2, Nid: 3, Cookie: 1}, {Vid: 3, Nid: 4, Cookie: 1}, {Vid: 4, Nid: 5, Cookie: 1}}, res.GetFreed())
	ts.refuse(DeleteObject("nope", "k"), ErrBucketNotFound)

	var owners []string
	for r, err := range ts.s.NeedleRefs(1) {
		require.NoError(t, err)
		owners = append(owners, r.Owner.Key)
	}
	require.Equal(t, []string{"a", "c"}, owners)
}

func TestSetObjectTierAndRestore(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	o := ts.must(PutObject("bkt", "k", obj(10, "e", repl(10, 1)), "", "")).GetObject()
	ts.refuse(SetRestore("bkt", "k", blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS, t0), ErrInvalidObjectState)
	ts.refuse(SetObjectTier("bkt", "k", "other", 0, blobdraftv1.Tier_TIER_COOL, ecChunk(10, [3]uint64{2, 3, 4})), ErrPreconditionFailed)
	ts.refuse(SetObjectTier("bkt", "k", "e", o.Version+1, blobdraftv1.Tier_TIER_COOL, ecChunk(10, [3]uint64{2, 3, 4})), ErrPreconditionFailed)
	ts.refuse(SetObjectTier("bkt", "k", "e", 0, blobdraftv1.Tier_TIER_COOL, ecChunk(9, [3]uint64{2, 3, 4})), ErrInvalidArgument)
	ts.refuse(SetObjectTier("bkt", "x", "e", 0, blobdraftv1.Tier_TIER_COOL, ecChunk(10, [3]uint64{2, 3, 4})), ErrObjectNotFound)
	ts.refuse(SetObjectTier("bkt", "k", "e", 0, 0, ecChunk(10, [3]uint64{2, 3, 4})), ErrInvalidArgument)
	res := ts.must(SetObjectTier("bkt", "k", `"e"`, o.Version, blobdraftv1.Tier_TIER_ARCHIVE, ecChunk(10, [3]uint64{2, 3, 4})))
	require.Equal(t, []uint64{1}, freedNids(res))
	require.Equal(t, o.Version, res.GetObject().Version)
	require.Equal(t, o.CreatedUnixNanos, res.GetObject().CreatedUnixNanos)
	until := t0.Add(48 * time.Hour)
	r := ts.must(SetRestore("bkt", "k", blobdraftv1.RestoreState_RESTORE_STATE_RESTORED, until)).GetObject()
	require.Equal(t, until.UnixNano(), r.RestoreUntilUnixNanos)
	r = ts.must(SetRestore("bkt", "k", 0, until)).GetObject()
	require.Zero(t, r.RestoreUntilUnixNanos)
	ts.refuse(SetRestore("bkt", "k", 7, until), ErrInvalidArgument)
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func TestMultipartETag(t *testing.T) {
	// Computed by hand: md5(md5("a") ‖ md5("b")) + "-2".
	a, b := md5.Sum([]byte("a")), md5.Sum([]byte("b"))
	want := md5.Sum(append(a[:], b[:]...))
	got, err := MultipartETag([]string{md5hex("a"), `"` + md5hex("b") + `"`})
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(want[:])+"-2", got)
	_, err = MultipartETag([]string{"zz"})
	require.ErrorIs(t, err, ErrInvalidArgument)
}

func TestMultipart(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	ts.refuse(CreateMultipartUpload("nope", "k", nil, 0), ErrBucketNotFound)
	u := ts.must(CreateMultipartUpload("bkt", "big", &blobdraftv1.ObjectHeaders{ContentType: "video/mp4"}, 0)).GetUpload()
	require.Len(t, u.UploadId, UploadIDLen)
	require.Equal(t, blobdraftv1.Tier_TIER_HOT, u.Tier)
	part := func(n int32, size int64, etag string, nids ...uint64) *blobdraftv1.Command {
		return PutPart("bkt", "big", u.UploadId, &blobdraftv1.PartRecord{Number: n, Size: size, Etag: etag, Chunks: repl(size, nids...)})
	}
	ts.refuse(PutPart("bkt", "other", u.UploadId, &blobdraftv1.PartRecord{Number: 1, Size: 0, Etag: md5hex("")}), ErrUploadNotFound)
	ts.refuse(PutPart("bkt", "big", "nope", &blobdraftv1.PartRecord{Number: 1, Size: 0, Etag: md5hex("")}), ErrUploadNotFound)
	ts.refuse(part(0, 1, md5hex("x"), 1), ErrInvalidArgument)
	ts.refuse(part(MaxParts+1, 1, md5hex("x"), 1), ErrInvalidArgument)
	ts.refuse(part(1, 1, "E", 1), ErrInvalidArgument)

	p1 := int64(MinPartSize)
	ts.must(part(1, p1, md5hex("1"), 1))
	// Replacing part 1 frees the old one's needle.
	require.Equal(t, []uint64{1}, freedNids(ts.must(part(1, p1, md5hex("1b"), 2))))
	ts.must(part(2, 100, md5hex("2"), 3))
	ts.must(part(3, 7, md5hex("3"), 4))
	ts.must(part(5, 7, md5hex("5"), 5))

	parts, trunc, err := ts.s.ListParts("bkt", "big", u.UploadId, 1, 2)
	require.NoError(t, err)
	require.True(t, trunc)
	require.Equal(t, int32(2), parts[0].Number)
	require.Equal(t, int32(3), parts[1].Number)

	cp := func(nums ...int32) []*blobdraftv1.CompletedPart {
		etags := map[int32]string{1: md5hex("1b"), 2: md5hex("2"), 3: md5hex("3"), 5: md5hex("5")}
		var out []*blobdraftv1.CompletedPart
		for _, n := range nums {
			out = append(out, &blobdraftv1.CompletedPart{Number: n, Etag: `"` + etags[n] + `"`})
		}
		return out
	}
	complete := func(parts []*blobdraftv1.CompletedPart) *blobdraftv1.Command {
		return CompleteMultipartUpload("bkt", "big", u.UploadId, parts, "", "")
	}
	ts.refuse(complete(nil), ErrInvalidArgument)
	err = ts.refuse(complete(cp(2, 1)), ErrInvalidPartOrder)
	require.Equal(t, "1", rpcerr.MetadataOf(err)[KeyPart])
	ts.refuse(complete(cp(1, 1)), ErrInvalidPartOrder)
	err = ts.refuse(complete(cp(1, 4)), ErrInvalidPart)
	require.Equal(t, "parts[1]", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	wrong := cp(1, 2)
	wrong[1].Etag = md5hex("x")
	ts.refuse(complete(wrong), ErrInvalidPart)
	err = ts.refuse(complete(cp(1, 2, 5)), ErrEntityTooSmall) // part 2 is 100 bytes and not last
	require.Equal(t, "2", rpcerr.MetadataOf(err)[KeyPart])
	ts.refuse(CompleteMultipartUpload("bkt", "other", u.UploadId, cp(1, 2), "", ""), ErrUploadNotFound)
	ts.must(PutObject("bkt", "big", obj(0, "old", nil), "", ""))
	ts.refuse(CompleteMultipartUpload("bkt", "big", u.UploadId, cp(1, 2), "", "*"), ErrPreconditionFailed)

	res := ts.must(complete(cp(1, 2)))
	o := res.GetObject()
	wantETag, err := MultipartETag([]string{md5hex("1b"), md5hex("2")})
	require.NoError(t, err)
	require.Equal(t, wantETag, o.Etag)
	require.True(t, strings.HasSuffix(o.Etag, "-2"))
	require.Equal(t, p1+100, o.Size)
	require.Equal(t, []int64{p1, 100}, o.PartSizes)
	require.Equal(t, "video/mp4", o.Headers.ContentType)
	require.Len(t, o.Chunks, 2)
	require.Equal(t, p1, o.Chunks[1].Offset)
	// Unused parts 3 and 5 are freed; used needles 2, 3 now belong to the object.
	require.Equal(t, []uint64{4, 5}, freedNids(res))
	require.Equal(t, 1, ts.refCount(1, 2))
	require.Equal(t, 1, ts.refCount(1, 3))
	_, err = ts.s.Upload("bkt", "big", u.UploadId)
	require.ErrorIs(t, err, ErrUploadNotFound)
	ts.refuse(complete(cp(1, 2)), ErrUploadNotFound)
	got, err := ts.s.Object("bkt", "big")
	require.NoError(t, err)
	require.Equal(t, o.Etag, got.Etag)

	// Abort frees every part.
	u2 := ts.must(CreateMultipartUpload("bkt", "k2", nil, 0)).GetUpload()
	ts.must(PutPart("bkt", "k2", u2.UploadId, &blobdraftv1.PartRecord{Number: 1, Size: 5, Etag: md5hex("x"), Chunks: repl(5, 10)}))
	require.Equal(t, []uint64{10}, freedNids(ts.must(AbortMultipartUpload("bkt", "k2", u2.UploadId))))
	ts.refuse(AbortMultipartUpload("bkt", "k2", u2.UploadId), ErrUploadNotFound)
}

func TestListUploads(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	var ids []string
	for _, k := range []string{"b", "a", "b", "c/x", "a"} {
		ids = append(ids, ts.must(CreateMultipartUpload("bkt", k, nil, 0)).GetUpload().UploadId)
	}
	keys := func(us []*blobdraftv1.UploadRecord) (out []string) {
		for _, u := range us {
			out = append(out, u.Key+"/"+u.UploadId[:16])
		}
		return out
	}
	us, trunc, err := ts.s.ListUploads("bkt", UploadListOptions{})
	require.NoError(t, err)
	require.False(t, trunc)
	require.Equal(t, []string{"a/" + ids[1][:16], "a/" + ids[4][:16], "b/" + ids[0][:16], "b/" + ids[2][:16], "c/x/" + ids[3][:16]}, keys(us))
	us, trunc, err = ts.s.ListUploads("bkt", UploadListOptions{KeyMarker: "a", UploadIDMarker: ids[1], MaxUploads: 2})
	require.NoError(t, err)
	require.True(t, trunc)
	require.Equal(t, []string{"a/" + ids[4][:16], "b/" + ids[0][:16]}, keys(us))
	us, _, err = ts.s.ListUploads("bkt", UploadListOptions{KeyMarker: "a"})
	require.NoError(t, err)
	require.Len(t, us, 3)
	us, _, err = ts.s.ListUploads("bkt", UploadListOptions{Prefix: "c/"})
	require.NoError(t, err)
	require.Len(t, us, 1)
	_, _, err = ts.s.ListUploads("nope", UploadListOptions{})
	require.ErrorIs(t, err, ErrBucketNotFound)
}

func TestAccessKeys(t *testing.T) {
	ts := openTestStore(t)
	id, secret := "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	k := ts.must(PutAccessKey(id, secret, "alice", true)).GetAccessKey()
	require.Equal(t, t0.UnixNano(), k.CreatedUnixNanos)
	ts.now = t0.Add(time.Hour)
	k = ts.must(PutAccessKey(id, secret, "alice", false)).GetAccessKey()
	require.False(t, k.Enabled)
	require.Equal(t, t0.UnixNano(), k.CreatedUnixNanos, "created kept")
	got, err := ts.s.AccessKey(id)
	require.NoError(t, err)
	require.Equal(t, secret, got.Secret)
	ts.refuse(PutAccessKey("akia-lower-case-xx", secret, "a", true), ErrInvalidArgument)
	ts.refuse(PutAccessKey(id, "short", "a", true), ErrInvalidArgument)
	ts.refuse(PutAccessKey(id, secret, "", true), ErrInvalidArgument)
	ts.must(DeleteAccessKey(id))
	ts.refuse(DeleteAccessKey(id), ErrAccessKeyNotFound)
	_, err = ts.s.AccessKey(id)
	require.ErrorIs(t, err, ErrAccessKeyNotFound)
}

func TestLifecycle(t *testing.T) {
	require.Equal(t, time.Date(2030, 1, 4, 0, 0, 0, 0, time.UTC), LifecycleDue(t0, 1), "rounded up to midnight UTC")
	require.Equal(t, time.Date(2030, 1, 3, 0, 0, 0, 0, time.UTC), LifecycleDue(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), 1))

	ts := openTestStore(t)
	ts.cluster()
	ts.must(PutLifecycle("bkt", []*blobdraftv1.LifecycleRule{
		{Id: "logs", Prefix: "logs/", TransitionCoolDays: 1, TransitionArchiveDays: 3, ExpirationDays: 10},
		{Id: "mpu", AbortIncompleteMultipartDays: 2},
		{Id: "off", Prefix: "x", ExpirationDays: 1, Disabled: true},
	}))
	ts.must(CreateBucket("other", "bob", 0, nil))
	ts.must(PutObject("bkt", "logs/1", obj(0, "e1", nil), "", ""))
	ts.must(PutObject("bkt", "x", obj(0, "e2", nil), "", ""))
	ts.must(PutObject("other", "logs/1", obj(0, "e3", nil), "", ""))
	u := ts.must(CreateMultipartUpload("bkt", "m", nil, 0)).GetUpload()

	due := func(at time.Time) (out []LifecycleAction) {
		for a, err := range ts.s.LifecycleActions(at) {
			require.NoError(t, err)
			out = append(out, a)
		}
		return out
	}
	require.Empty(t, due(t0))
	require.Empty(t, due(t0.Add(36*time.Hour)), "due at the next midnight UTC")
	acts := due(t0.Add(48 * time.Hour))
	require.Len(t, acts, 1)
	require.Equal(t, LifecycleAction{Kind: Transition, Bucket: "bkt", Key: "logs/1", Etag: "e1", Version: 12, Tier: blobdraftv1.Tier_TIER_COOL, Rule: "logs"}, acts[0])
	acts = due(t0.Add(4 * 24 * time.Hour))
	require.Len(t, acts, 2)
	require.Equal(t, blobdraftv1.Tier_TIER_ARCHIVE, acts[0].Tier)
	require.Equal(t, LifecycleAction{Kind: AbortUpload, Bucket: "bkt", Key: "m", UploadID: u.UploadId, Rule: "mpu"}, acts[1])
	acts = due(t0.Add(11 * 24 * time.Hour))
	require.Equal(t, Expire, acts[0].Kind)
}

func TestListObjectsBasic(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	for _, k := range []string{"a", "b/1", "b/2", "b/c/3", "c", "é", "z"} {
		ts.must(PutObject("bkt", k, obj(1, "e", repl(1, 1)), "", ""))
	}
	r, err := ts.s.ListObjects("bkt", ListOptions{Delimiter: "/"})
	require.NoError(t, err)
	require.Equal(t, []string{"b/"}, r.CommonPrefixes)
	require.Equal(t, []string{"a", "c", "z", "é"}, keysOf(r), "UTF-8 binary order")
	require.Nil(t, r.Objects[0].Chunks)
	r, err = ts.s.ListObjects("bkt", ListOptions{Prefix: "b/", Delimiter: "/"})
	require.NoError(t, err)
	require.Equal(t, []string{"b/c/"}, r.CommonPrefixes)
	require.Equal(t, []string{"b/1", "b/2"}, keysOf(r))
	r, err = ts.s.ListObjects("bkt", ListOptions{MaxKeys: 2, Delimiter: "/"})
	require.NoError(t, err)
	require.True(t, r.IsTruncated)
	require.Equal(t, 2, r.KeyCount())
	r, err = ts.s.ListObjects("bkt", ListOptions{ContinuationToken: r.NextContinuationToken, Delimiter: "/"})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "z", "é"}, keysOf(r))
	require.Empty(t, r.CommonPrefixes, "b/ is not listed twice")
	_, err = ts.s.ListObjects("bkt", ListOptions{ContinuationToken: "!!"})
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = ts.s.ListObjects("nope", ListOptions{})
	require.ErrorIs(t, err, ErrBucketNotFound)
}

func keysOf(r *ListResult) (out []string) {
	for _, o := range r.Objects {
		out = append(out, o.Key)
	}
	return out
}

func TestAppliedIndexIdempotence(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	e := ts.entry(PutObject("bkt", "k", obj(1, "e", repl(1, 1)), "", ""))
	out, err := ts.s.ApplyBatch([]raftnode.Entry{e})
	require.NoError(t, err)
	require.NotEmpty(t, out[0])
	require.Equal(t, e.Index, ts.s.AppliedIndex())
	// Replayed after a restart: skipped.
	ts.reopen()
	require.Equal(t, e.Index, ts.s.AppliedIndex())
	out, err = ts.s.ApplyBatch([]raftnode.Entry{e})
	require.NoError(t, err)
	require.Empty(t, out[0])
	require.Equal(t, 1, ts.refCount(1, 1))
	// A batch that straddles the applied index applies only the new ones.
	e2 := ts.entry(DeleteObject("bkt", "k"))
	out, err = ts.s.ApplyBatch([]raftnode.Entry{e, e2})
	require.NoError(t, err)
	require.Empty(t, out[0])
	require.NotEmpty(t, out[1])
	require.Equal(t, 0, ts.refCount(1, 1))
	// A malformed command is a failed result, not a storage error.
	ts.idx++
	out, err = ts.s.ApplyBatch([]raftnode.Entry{{Index: ts.idx, Data: []byte{0xff, 0xff}}})
	require.NoError(t, err)
	require.NotEmpty(t, out[0])
}

func TestChanged(t *testing.T) {
	ts := openTestStore(t)
	ch := ts.s.Changed()
	ts.refuse(DeleteBucket("nope"), ErrBucketNotFound)
	select {
	case <-ch:
		t.Fatal("a failed command woke Changed")
	default:
	}
	ts.must(CreateBucket("abc", "a", 0, nil))
	select {
	case <-ch:
	default:
		t.Fatal("Changed not woken")
	}
}

func TestSnapshotRestore(t *testing.T) {
	a := openTestStore(t)
	a.cluster()
	a.must(PutObject("bkt", "k", obj(1, "e", repl(1, 1)), "", ""))
	u := a.must(CreateMultipartUpload("bkt", "m", nil, 0)).GetUpload()
	snap, err := a.s.Snapshot()
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = snap.WriteTo(&buf)
	require.NoError(t, err)
	snap.Release()

	b := openTestStore(t)
	ch := b.s.Changed()
	require.NoError(t, b.s.Restore(bytes.NewReader(buf.Bytes())))
	<-ch
	require.Equal(t, a.s.AppliedIndex(), b.s.AppliedIndex())
	o, err := b.s.Object("bkt", "k")
	require.NoError(t, err)
	require.Equal(t, "e", o.Etag)
	_, err = b.s.Upload("bkt", "m", u.UploadId)
	require.NoError(t, err)
	require.Equal(t, 1, b.refCount(1, 1))
	// The restored store goes on from the snapshot's index.
	b.idx = a.idx
	require.Equal(t, []uint64{1}, freedNids(b.must(DeleteObject("bkt", "k"))))

	// A snapshot that is not ours is refused and the state kept.
	require.ErrorIs(t, b.s.Restore(strings.NewReader("not a database")), ErrCorrupt)
	_, err = b.s.Upload("bkt", "m", u.UploadId)
	require.NoError(t, err)
}
