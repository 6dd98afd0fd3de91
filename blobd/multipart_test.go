package blobd_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func uploadPart(t *testing.T, s *blobd.Server, bucket, key, id string, n int32, data []byte) *blobdraftv1.PartRecord {
	t.Helper()
	p, err := s.UploadPart(t.Context(), id, n, blobd.PutInput{Bucket: bucket, Key: key, Body: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatalf("upload part %d (%d bytes): %v", n, len(data), err)
	}
	if p.GetNumber() != n || p.GetSize() != int64(len(data)) || p.GetEtag() != md5Hex(data) {
		t.Fatalf("part %d: %v", n, p)
	}
	return p
}

func TestMultipart(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 3))
	c, leader, follower := objectCluster(t)
	ctx := t.Context()
	const bkt = "objects"

	t.Run("Complete", func(t *testing.T) {
		h := &blobdraftv1.ObjectHeaders{ContentType: "video/mp4"}
		u, err := follower.CreateMultipartUpload(ctx, bkt, "video", h, blobdraftv1.Tier_TIER_UNSPECIFIED)
		if err != nil {
			t.Fatal(err)
		}
		p1 := randBytes(rng, meta.MinPartSize)
		p2 := randBytes(rng, chunk+3)
		first := uploadPart(t, leader, bkt, "video", u.GetUploadId(), 1, randBytes(rng, 1000))
		// Part 1 again replaces the first one and frees its needles.
		e1 := uploadPart(t, follower, bkt, "video", u.GetUploadId(), 1, p1)
		waitFreed(t, c, "replaced part", chunkNeedles(first.GetChunks()))
		e2 := uploadPart(t, leader, bkt, "video", u.GetUploadId(), 2, p2)
		unused := uploadPart(t, leader, bkt, "video", u.GetUploadId(), 3, randBytes(rng, 10))

		parts, truncated, err := follower.ListParts(ctx, bkt, "video", u.GetUploadId(), 0, 0)
		if err != nil || truncated || len(parts) != 3 || parts[0].GetEtag() != e1.GetEtag() {
			t.Fatalf("list parts: %d %v %v", len(parts), truncated, err)
		}
		if parts, truncated, err := leader.ListParts(ctx, bkt, "video", u.GetUploadId(), 1, 1); err != nil || !truncated || len(parts) != 1 || parts[0].GetNumber() != 2 {
			t.Fatalf("list parts after 1, limit 1: %v %v %v", parts, truncated, err)
		}
		ups, _, err := leader.ListUploads(ctx, bkt, meta.UploadListOptions{})
		if err != nil || len(ups) != 1 || ups[0].GetUploadId() != u.GetUploadId() {
			t.Fatalf("list uploads: %v %v", ups, err)
		}

		cp := func(p *blobdraftv1.PartRecord) *blobdraftv1.CompletedPart {
			return &blobdraftv1.CompletedPart{Number: p.GetNumber(), Etag: `"` + p.GetEtag() + `"`}
		}
		_, err = leader.CompleteMultipartUpload(ctx, bkt, "video", u.GetUploadId(), []*blobdraftv1.CompletedPart{cp(e2), cp(e1)}, "", "")
		wantReason(t, "parts out of order", err, rpcerr.InvalidPartOrder)
		_, err = leader.CompleteMultipartUpload(ctx, bkt, "video", u.GetUploadId(),
			[]*blobdraftv1.CompletedPart{cp(e1), {Number: 2, Etag: md5Hex([]byte("nope"))}}, "", "")
		wantReason(t, "part of another etag", err, rpcerr.InvalidPart)
		_, err = leader.CompleteMultipartUpload(ctx, bkt, "video", u.GetUploadId(), []*blobdraftv1.CompletedPart{cp(e2), cp(unused)}, "", "")
		wantReason(t, "small part before the last", err, rpcerr.EntityTooSmall)

		o, err := follower.CompleteMultipartUpload(ctx, bkt, "video", u.GetUploadId(), []*blobdraftv1.CompletedPart{cp(e1), cp(e2)}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		etag, _ := meta.MultipartETag([]string{e1.GetEtag(), e2.GetEtag()})
		whole := append(append([]byte(nil), p1...), p2...)
		if o.GetEtag() != etag || o.GetSize() != int64(len(whole)) || o.GetHeaders().GetContentType() != "video/mp4" {
			t.Fatalf("completed object: etag %s size %d headers %v, want etag %s", o.GetEtag(), o.GetSize(), o.GetHeaders(), etag)
		}
		sameBytes(t, "completed object", get(t, leader, bkt, "video", blobd.FullRange), whole)
		sameBytes(t, "range across the parts", get(t, follower, bkt, "video", blobd.Range{Offset: int64(len(p1)) - 7, Length: 20}), whole[len(p1)-7:len(p1)+13])
		waitFreed(t, c, "unused part", chunkNeedles(unused.GetChunks()))
		if ups, _, err := follower.ListUploads(ctx, bkt, meta.UploadListOptions{}); err != nil || len(ups) != 0 {
			t.Fatalf("uploads after complete: %v %v", ups, err)
		}
		_, err = leader.UploadPart(ctx, u.GetUploadId(), 4, blobd.PutInput{Bucket: bkt, Key: "video", Body: bytes.NewReader([]byte("x")), Size: 1})
		wantReason(t, "part of a completed upload", err, rpcerr.UploadNotFound)
	})

	t.Run("Abort", func(t *testing.T) {
		u, err := leader.CreateMultipartUpload(ctx, bkt, "aborted", nil, blobdraftv1.Tier_TIER_UNSPECIFIED)
		if err != nil {
			t.Fatal(err)
		}
		p := uploadPart(t, follower, bkt, "aborted", u.GetUploadId(), 7, randBytes(rng, 2*chunk+5))
		if err := follower.AbortMultipartUpload(ctx, bkt, "aborted", u.GetUploadId()); err != nil {
			t.Fatal(err)
		}
		waitFreed(t, c, "aborted upload's part", chunkNeedles(p.GetChunks()))
		err = leader.AbortMultipartUpload(ctx, bkt, "aborted", u.GetUploadId())
		wantReason(t, "abort again", err, rpcerr.UploadNotFound)
		before := liveNeedles(t, c)
		_, err = leader.UploadPart(ctx, u.GetUploadId(), 1, blobd.PutInput{Bucket: bkt, Key: "aborted", Body: bytes.NewReader([]byte("x")), Size: 1})
		wantReason(t, "part of an aborted upload", err, rpcerr.UploadNotFound)
		waitNoNewNeedles(t, c, before)
		_, _, err = leader.ListParts(ctx, bkt, "aborted", u.GetUploadId(), 0, 0)
		wantReason(t, "parts of an aborted upload", err, rpcerr.UploadNotFound)
	})

	t.Run("BadParts", func(t *testing.T) {
		u, err := leader.CreateMultipartUpload(ctx, bkt, "bad", nil, blobdraftv1.Tier_TIER_UNSPECIFIED)
		if err != nil {
			t.Fatal(err)
		}
		in := blobd.PutInput{Bucket: bkt, Key: "bad", Body: bytes.NewReader([]byte("abc")), Size: 3}
		for _, n := range []int32{0, meta.MaxParts + 1} {
			_, err = leader.UploadPart(ctx, u.GetUploadId(), n, in)
			wantReason(t, "part number out of range", err, rpcerr.InvalidArgument)
		}
		in.Size = meta.MaxPartBytes + 1
		_, err = leader.UploadPart(ctx, u.GetUploadId(), 1, in)
		wantReason(t, "part too large", err, rpcerr.LimitExceeded)
		in.Size, in.ContentMD5 = 3, make([]byte, 16)
		in.Body = bytes.NewReader([]byte("abc"))
		_, err = leader.UploadPart(ctx, u.GetUploadId(), 1, in)
		wantReason(t, "part with a bad digest", err, rpcerr.BadDigest)
		_, err = leader.UploadPart(ctx, u.GetUploadId(), 1, blobd.PutInput{Bucket: bkt, Key: "other-key", Body: bytes.NewReader([]byte("abc")), Size: 3})
		wantReason(t, "part for another key", err, rpcerr.UploadNotFound)
		_, err = leader.CompleteMultipartUpload(ctx, bkt, "bad", u.GetUploadId(), nil, "", "")
		wantReason(t, "complete without parts", err, rpcerr.InvalidArgument)
		_, err = leader.CreateMultipartUpload(ctx, "no-such-bucket", "k", nil, blobdraftv1.Tier_TIER_UNSPECIFIED)
		wantReason(t, "upload to a missing bucket", err, rpcerr.BucketNotFound)
	})
}
