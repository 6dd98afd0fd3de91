package blobd_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// chunk is blobdtest.FastConfig's chunk size.
const chunk = 1 << 20

// writableTimeout bounds the wait for a new cluster (or one that lost a
// server) to take writes: heartbeats register the servers, the leader
// opens volumes.
const writableTimeout = 20 * time.Second

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func put(t *testing.T, s *blobd.Server, bucket, key string, data []byte) *blobdraftv1.ObjectRecord {
	t.Helper()
	o, err := s.PutObject(t.Context(), blobd.PutInput{Bucket: bucket, Key: key, Body: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatalf("put %s/%s (%d bytes): %v", bucket, key, len(data), err)
	}
	return o
}

func get(t *testing.T, s *blobd.Server, bucket, key string, r blobd.Range) []byte {
	t.Helper()
	_, rc, err := s.GetObject(t.Context(), bucket, key, r)
	if err != nil {
		t.Fatalf("get %s/%s %+v: %v", bucket, key, r, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s %+v: %v", bucket, key, r, err)
	}
	return b
}

func wantReason(t *testing.T, what string, err error, want rpcerr.Reason) {
	t.Helper()
	if got := blobd.ReasonOf(err); got != want {
		t.Fatalf("%s: err %v (reason %q), want %s", what, err, got, want)
	}
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: got %d bytes, want %d; first difference at %d", what, len(got), len(want), i)
	}
}

// waitWritable waits until s stores objects in bucket.
func waitWritable(t *testing.T, s *blobd.Server, bucket string) {
	t.Helper()
	var last error
	nodetest.WaitFor(t, writableTimeout, "the cluster to take writes", func() bool {
		_, last = s.PutObject(t.Context(), blobd.PutInput{Bucket: bucket, Key: "warmup", Body: strings.NewReader("w"), Size: 1})
		if last != nil {
			t.Logf("warmup put: %v", last)
		}
		return last == nil
	})
}

// needle names a needle of a volume.
type needle struct {
	vid uint32
	nid uint64
}

// liveNeedles returns the live needles of every running member's volumes.
func liveNeedles(t *testing.T, c *blobdtest.Cluster) map[needle]bool {
	t.Helper()
	out := map[needle]bool{}
	for _, m := range c.Live() {
		vols := m.Server.Volumes()
		for _, vi := range vols.Volumes() {
			if vi.Damaged != nil {
				continue
			}
			err := vols.Needles(vi.ID, func(n volume.NeedleInfo) bool {
				if !n.Deleted && n.Size > 0 {
					out[needle{vi.ID, n.ID}] = true
				}
				return true
			})
			if err != nil {
				t.Fatalf("needles of volume %d on %s: %v", vi.ID, m.ID, err)
			}
		}
	}
	return out
}

// waitNoNewNeedles waits until every live needle was live in before: what
// a failed write stored is gone.
func waitNoNewNeedles(t *testing.T, c *blobdtest.Cluster, before map[needle]bool) {
	t.Helper()
	nodetest.WaitFor(t, 10*time.Second, "the failed write's needles to be deleted", func() bool {
		for n := range liveNeedles(t, c) {
			if !before[n] {
				return false
			}
		}
		return true
	})
}

// chunkNeedles lists the needles of a manifest.
func chunkNeedles(chunks []*blobdraftv1.Chunk) []*blobdraftv1.NeedleRef {
	var refs []*blobdraftv1.NeedleRef
	for _, c := range chunks {
		if r := c.GetReplicated(); r != nil {
			refs = append(refs, r)
		}
		refs = append(refs, c.GetEc().GetShards()...)
	}
	return refs
}

// waitFreed waits until no running member holds any of refs.
func waitFreed(t *testing.T, c *blobdtest.Cluster, what string, refs []*blobdraftv1.NeedleRef) {
	t.Helper()
	if len(refs) == 0 {
		t.Fatalf("%s: no needles to check", what)
	}
	nodetest.WaitFor(t, 10*time.Second, what+": needles deleted", func() bool {
		for _, m := range c.Live() {
			for _, r := range refs {
				if _, _, err := m.Server.Volumes().Stat(r.Vid, r.Nid, r.Cookie); err == nil {
					return false
				}
			}
		}
		return true
	})
}

// mustBucket creates a bucket through s.
func mustBucket(t *testing.T, s *blobd.Server, name string, tier blobdraftv1.Tier) {
	t.Helper()
	if _, err := s.CreateBucket(t.Context(), name, "tester", tier); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// objectCluster is a 3-node cluster with a bucket "objects" that takes
// writes; a and b are two different nodes (the leader and a follower).
func objectCluster(t *testing.T) (c *blobdtest.Cluster, a, b *blobd.Server) {
	c = blobdtest.New(t, 3, nil)
	a, b = c.Leader().Server, c.Follower().Server
	mustBucket(t, b, "objects", blobdraftv1.Tier_TIER_UNSPECIFIED)
	waitWritable(t, b, "objects")
	return c, a, b
}

func TestObjects(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 1))
	c, leader, follower := objectCluster(t)
	ctx := t.Context()
	const bkt = "objects"

	t.Run("RoundTrip", func(t *testing.T) {
		for i, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 12345} {
			data := randBytes(rng, n)
			w, r := leader, follower
			if i%2 == 1 {
				w, r = follower, leader
			}
			key := fmt.Sprintf("round/%d", n)
			o := put(t, w, bkt, key, data)
			if o.GetSize() != int64(n) || o.GetEtag() != md5Hex(data) || o.GetVersion() == 0 {
				t.Fatalf("size %d: record size %d etag %s version %d, want etag %s", n, o.GetSize(), o.GetEtag(), o.GetVersion(), md5Hex(data))
			}
			if want := (n + chunk - 1) / chunk; len(o.GetChunks()) != want {
				t.Fatalf("size %d: %d chunks, want %d", n, len(o.GetChunks()), want)
			}
			if o.GetTier() != blobdraftv1.Tier_TIER_HOT {
				t.Fatalf("size %d: tier %v, want the bucket's default (hot)", n, o.GetTier())
			}
			sameBytes(t, fmt.Sprintf("get of %d bytes", n), get(t, r, bkt, key, blobd.FullRange), data)
			h, err := r.HeadObject(ctx, bkt, key)
			if err != nil || h.GetEtag() != o.GetEtag() || h.GetSize() != int64(n) {
				t.Fatalf("head of %d bytes: %v %v", n, h, err)
			}
		}
	})

	t.Run("UnknownSize", func(t *testing.T) {
		for _, n := range []int{0, 7, 2*chunk + 1} {
			data := randBytes(rng, n)
			key := fmt.Sprintf("stream/%d", n)
			o, err := follower.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: key, Body: io.MultiReader(bytes.NewReader(data)), Size: -1})
			if err != nil {
				t.Fatalf("put of %d bytes to EOF: %v", n, err)
			}
			if o.GetSize() != int64(n) || o.GetEtag() != md5Hex(data) {
				t.Fatalf("put of %d bytes to EOF: size %d etag %s", n, o.GetSize(), o.GetEtag())
			}
			sameBytes(t, "get", get(t, leader, bkt, key, blobd.FullRange), data)
		}
	})

	t.Run("Ranges", func(t *testing.T) {
		data := randBytes(rng, 3*chunk+100)
		size := int64(len(data))
		put(t, leader, bkt, "ranges", data)
		for _, r := range []blobd.Range{
			{Offset: 0, Length: 1},
			{Offset: size - 1, Length: 1},
			{Offset: size - 1, Length: -1},
			{Offset: chunk - 10, Length: 20},
			{Offset: chunk - 10, Length: chunk + 20},
			{Offset: chunk, Length: chunk},
			{Offset: 2*chunk + 5, Length: -1},
			{Offset: 100, Length: size},
			{Offset: -150, Length: -1},
			{Offset: 5, Length: 0},
		} {
			from, to := r.Offset, size
			if r.Offset < 0 {
				from = size + r.Offset
			} else if r.Length >= 0 {
				to = min(size, r.Offset+r.Length)
			}
			sameBytes(t, fmt.Sprintf("range %+v", r), get(t, follower, bkt, "ranges", r), data[from:to])
		}
		// Small reads across chunk boundaries.
		_, rc, err := follower.GetObject(ctx, bkt, "ranges", blobd.FullRange)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := io.CopyBuffer(&got, struct{ io.Reader }{rc}, make([]byte, 4097)); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		sameBytes(t, "small reads", got.Bytes(), data)
		for _, r := range []blobd.Range{{Offset: size, Length: -1}, {Offset: size + 10, Length: 1}} {
			_, _, err := follower.GetObject(ctx, bkt, "ranges", r)
			wantReason(t, fmt.Sprintf("range %+v", r), err, rpcerr.InvalidRange)
		}
		// A reader closed early stops; later reads fail.
		_, rc, err = leader.GetObject(ctx, bkt, "ranges", blobd.FullRange)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if _, err := io.ReadFull(rc, buf); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if _, err := rc.Read(buf); err == nil {
			t.Fatal("read after Close succeeded")
		}
		_, _, err = leader.GetObject(ctx, bkt, "no-such-key", blobd.FullRange)
		wantReason(t, "get of a missing key", err, rpcerr.ObjectNotFound)
	})

	t.Run("Conditions", func(t *testing.T) {
		o := put(t, leader, bkt, "cond", []byte("one"))
		in := func(data, ifMatch, ifNoneMatch string) blobd.PutInput {
			return blobd.PutInput{Bucket: bkt, Key: "cond", Body: strings.NewReader(data), Size: int64(len(data)), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch}
		}
		_, err := follower.PutObject(ctx, in("two", "", "*"))
		wantReason(t, "If-None-Match * on an existing object", err, rpcerr.PreconditionFailed)
		_, err = follower.PutObject(ctx, in("two", md5Hex([]byte("other")), ""))
		wantReason(t, "If-Match of another etag", err, rpcerr.PreconditionFailed)
		o2, err := follower.PutObject(ctx, in("two", `"`+o.GetEtag()+`"`, ""))
		if err != nil || o2.GetEtag() != md5Hex([]byte("two")) {
			t.Fatalf("If-Match of the current etag: %v %v", o2, err)
		}
		_, err = leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "cond-missing", Body: strings.NewReader("x"), Size: 1, IfMatch: "*"})
		wantReason(t, "If-Match on a missing key", err, rpcerr.ObjectNotFound)
		if _, err := leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "cond-new", Body: strings.NewReader("x"), Size: 1, IfNoneMatch: "*"}); err != nil {
			t.Fatalf("If-None-Match * on a missing key: %v", err)
		}
		sameBytes(t, "conditional object", get(t, leader, bkt, "cond", blobd.FullRange), []byte("two"))
	})

	t.Run("BadDigestStoresNothing", func(t *testing.T) {
		before := liveNeedles(t, c)
		data := randBytes(rng, 2*chunk+3)
		wrong := md5.Sum([]byte("something else"))
		_, err := follower.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "digest", Body: bytes.NewReader(data), Size: int64(len(data)), ContentMD5: wrong[:]})
		wantReason(t, "put with a wrong Content-MD5", err, rpcerr.BadDigest)
		_, err = leader.HeadObject(ctx, bkt, "digest")
		wantReason(t, "head after a bad digest", err, rpcerr.ObjectNotFound)
		waitNoNewNeedles(t, c, before)
		right := md5.Sum(data)
		o, err := follower.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "digest", Body: bytes.NewReader(data), Size: int64(len(data)), ContentMD5: right[:]})
		if err != nil || o.GetEtag() != md5Hex(data) {
			t.Fatalf("put with the right Content-MD5: %v %v", o, err)
		}
	})

	t.Run("ShortBodyStoresNothing", func(t *testing.T) {
		before := liveNeedles(t, c)
		data := randBytes(rng, chunk+100)
		_, err := leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "short", Body: bytes.NewReader(data), Size: int64(len(data)) + 1})
		wantReason(t, "put of a short body", err, rpcerr.IncompleteBody)
		boom := errors.New("client went away")
		_, err = leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "short", Body: io.MultiReader(bytes.NewReader(data), iotestErrReader{boom}), Size: 3 * chunk})
		if !errors.Is(err, boom) {
			t.Fatalf("put of a failing body: %v, want %v", err, boom)
		}
		_, err = follower.HeadObject(ctx, bkt, "short")
		wantReason(t, "head after a short body", err, rpcerr.ObjectNotFound)
		waitNoNewNeedles(t, c, before)
	})

	t.Run("ReplaceFreesOldNeedles", func(t *testing.T) {
		old := put(t, leader, bkt, "replace", randBytes(rng, 2*chunk+1))
		data := randBytes(rng, 100)
		put(t, follower, bkt, "replace", data)
		waitFreed(t, c, "replaced object", chunkNeedles(old.GetChunks()))
		sameBytes(t, "replacement", get(t, leader, bkt, "replace", blobd.FullRange), data)
	})

	t.Run("DeleteIdempotent", func(t *testing.T) {
		o := put(t, leader, bkt, "del", randBytes(rng, chunk+1))
		if deleted, err := follower.DeleteObject(ctx, bkt, "del"); err != nil || !deleted {
			t.Fatalf("delete: %v %v", deleted, err)
		}
		if deleted, err := leader.DeleteObject(ctx, bkt, "del"); err != nil || deleted {
			t.Fatalf("delete again: %v %v", deleted, err)
		}
		_, err := leader.HeadObject(ctx, bkt, "del")
		wantReason(t, "head after delete", err, rpcerr.ObjectNotFound)
		waitFreed(t, c, "deleted object", chunkNeedles(o.GetChunks()))
		_, err = leader.DeleteObject(ctx, "no-such-bucket", "del")
		wantReason(t, "delete in a missing bucket", err, rpcerr.BucketNotFound)
	})

	t.Run("ListingsConsistent", func(t *testing.T) {
		keys := []string{"list/a", "list/b/1", "list/b/2", "list/c"}
		for i, k := range keys {
			s := []*blobd.Server{leader, follower}[i%2]
			put(t, s, bkt, k, []byte(k))
			// Read right away from another node.
			res, err := []*blobd.Server{follower, leader}[i%2].ListObjects(ctx, bkt, meta.ListOptions{Prefix: "list/"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Objects) != i+1 || res.Objects[i].GetKey() != k {
				t.Fatalf("listing after put of %s: %d objects", k, len(res.Objects))
			}
		}
		res, err := follower.ListObjects(ctx, bkt, meta.ListOptions{Prefix: "list/", Delimiter: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Objects) != 2 || len(res.CommonPrefixes) != 1 || res.CommonPrefixes[0] != "list/b/" {
			t.Fatalf("delimited listing: %d objects, prefixes %v", len(res.Objects), res.CommonPrefixes)
		}
		if _, err := leader.DeleteObject(ctx, bkt, "list/a"); err != nil {
			t.Fatal(err)
		}
		res, err = follower.ListObjects(ctx, bkt, meta.ListOptions{Prefix: "list/"})
		if err != nil || len(res.Objects) != 3 || res.Objects[0].GetKey() != "list/b/1" {
			t.Fatalf("listing after delete: %v %v", res, err)
		}
		_, err = follower.ListObjects(ctx, "no-such-bucket", meta.ListOptions{})
		wantReason(t, "listing of a missing bucket", err, rpcerr.BucketNotFound)
	})

	t.Run("Copy", func(t *testing.T) {
		data := randBytes(rng, 2*chunk+7)
		h := &blobdraftv1.ObjectHeaders{ContentType: "text/plain", UserMetadata: map[string]string{"color": "blue"}}
		if _, err := leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "copy/src", Body: bytes.NewReader(data), Size: int64(len(data)), Headers: h}); err != nil {
			t.Fatal(err)
		}
		mustBucket(t, follower, "copies", blobdraftv1.Tier_TIER_UNSPECIFIED)
		o, err := follower.CopyObject(ctx, bkt, "copy/src", blobd.PutInput{Bucket: "copies", Key: "kept"})
		if err != nil {
			t.Fatal(err)
		}
		if o.GetEtag() != md5Hex(data) || o.GetHeaders().GetContentType() != "text/plain" || o.GetHeaders().GetUserMetadata()["color"] != "blue" {
			t.Fatalf("copy keeping headers: %v", o)
		}
		sameBytes(t, "copy", get(t, leader, "copies", "kept", blobd.FullRange), data)
		o, err = leader.CopyObject(ctx, bkt, "copy/src", blobd.PutInput{Bucket: "copies", Key: "replaced",
			Headers: &blobdraftv1.ObjectHeaders{ContentType: "image/png"}})
		if err != nil || o.GetHeaders().GetContentType() != "image/png" || len(o.GetHeaders().GetUserMetadata()) != 0 {
			t.Fatalf("copy replacing headers: %v %v", o, err)
		}
		_, err = leader.CopyObject(ctx, bkt, "copy/src", blobd.PutInput{Bucket: bkt, Key: "copy/src"})
		wantReason(t, "copy onto itself unchanged", err, rpcerr.InvalidArgument)
		if _, err := leader.CopyObject(ctx, bkt, "copy/src", blobd.PutInput{Bucket: bkt, Key: "copy/src", Headers: &blobdraftv1.ObjectHeaders{ContentType: "a/b"}}); err != nil {
			t.Fatalf("copy onto itself with new headers: %v", err)
		}
		sameBytes(t, "copied onto itself", get(t, follower, bkt, "copy/src", blobd.FullRange), data)
		_, err = leader.CopyObject(ctx, bkt, "copy/missing", blobd.PutInput{Bucket: "copies", Key: "x"})
		wantReason(t, "copy of a missing object", err, rpcerr.ObjectNotFound)
		_, err = leader.CopyObject(ctx, bkt, "copy/src", blobd.PutInput{Bucket: "no-such-bucket", Key: "x"})
		wantReason(t, "copy into a missing bucket", err, rpcerr.BucketNotFound)
	})

	t.Run("Buckets", func(t *testing.T) {
		_, err := leader.CreateBucket(ctx, bkt, "someone", blobdraftv1.Tier_TIER_UNSPECIFIED)
		wantReason(t, "create of an existing bucket", err, rpcerr.BucketExists)
		if owner := rpcerr.MetadataOf(err)[meta.KeyBucketOwner]; owner != "tester" {
			t.Fatalf("bucket exists: owner %q, want tester", owner)
		}
		_, err = leader.CreateBucket(ctx, "Not_Valid", "tester", blobdraftv1.Tier_TIER_UNSPECIFIED)
		wantReason(t, "create of an invalid name", err, rpcerr.InvalidArgument)
		mustBucket(t, leader, "scratch", blobdraftv1.Tier_TIER_COOL)
		bs, err := follower.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, b := range bs {
			names = append(names, b.GetName())
		}
		if !strings.Contains(strings.Join(names, ","), "scratch") {
			t.Fatalf("buckets after create: %v", names)
		}
		b, err := follower.Bucket(ctx, "scratch")
		if err != nil || b.GetDefaultTier() != blobdraftv1.Tier_TIER_COOL || b.GetOwner() != "tester" {
			t.Fatalf("bucket: %v %v", b, err)
		}
		err = follower.PutLifecycle(ctx, "scratch", []*blobdraftv1.LifecycleRule{{Id: "x"}})
		wantReason(t, "lifecycle rule without an action", err, rpcerr.InvalidArgument)
		rules := []*blobdraftv1.LifecycleRule{{Id: "old", Prefix: "logs/", ExpirationDays: 30}}
		if err := follower.PutLifecycle(ctx, "scratch", rules); err != nil {
			t.Fatal(err)
		}
		if b, err := leader.Bucket(ctx, "scratch"); err != nil || len(b.GetRules()) != 1 || b.GetRules()[0].GetExpirationDays() != 30 {
			t.Fatalf("bucket after lifecycle: %v %v", b, err)
		}
		err = leader.DeleteBucket(ctx, bkt)
		wantReason(t, "delete of a bucket with objects", err, rpcerr.BucketNotEmpty)
		if err := leader.DeleteBucket(ctx, "scratch"); err != nil {
			t.Fatal(err)
		}
		_, err = follower.Bucket(ctx, "scratch")
		wantReason(t, "bucket after delete", err, rpcerr.BucketNotFound)
		_, err = follower.PutObject(ctx, blobd.PutInput{Bucket: "scratch", Key: "k", Body: strings.NewReader("x"), Size: 1})
		wantReason(t, "put into a deleted bucket", err, rpcerr.BucketNotFound)
	})

	t.Run("Tiers", func(t *testing.T) {
		mustBucket(t, leader, "cool", blobdraftv1.Tier_TIER_COOL)
		data := randBytes(rng, 2*chunk+999)
		o := put(t, follower, "cool", "k", data)
		if o.GetTier() != blobdraftv1.Tier_TIER_COOL || o.GetChunks()[0].GetEc() == nil {
			t.Fatalf("object in a cool bucket: tier %v, first chunk %v", o.GetTier(), o.GetChunks()[0])
		}
		sameBytes(t, "cool object", get(t, leader, "cool", "k", blobd.Range{Offset: chunk - 5, Length: -1}), data[chunk-5:])
		o, err := leader.PutObject(ctx, blobd.PutInput{Bucket: bkt, Key: "archived", Body: bytes.NewReader(data), Size: int64(len(data)), Tier: blobdraftv1.Tier_TIER_ARCHIVE})
		if err != nil || o.GetTier() != blobdraftv1.Tier_TIER_ARCHIVE {
			t.Fatalf("archive put: %v %v", o, err)
		}
		_, _, err = follower.GetObject(ctx, bkt, "archived", blobd.FullRange)
		wantReason(t, "get of an archived object", err, rpcerr.InvalidObjectState)
		if h, err := follower.HeadObject(ctx, bkt, "archived"); err != nil || h.GetSize() != int64(len(data)) {
			t.Fatalf("head of an archived object: %v %v", h, err)
		}
	})

	t.Run("AccessKeys", func(t *testing.T) {
		k, err := follower.CreateAccessKey(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.GetId(), blobd.AccessKeyIDPrefix) || len(k.GetId()) != 20 || len(k.GetSecret()) != 40 || !k.GetEnabled() || k.GetPrincipal() != "alice" {
			t.Fatalf("new access key: %v", k)
		}
		// Known on every node as soon as it is created.
		for _, s := range []*blobd.Server{leader, follower} {
			got, err := s.AccessKey(ctx, k.GetId())
			if err != nil || got.GetSecret() != k.GetSecret() {
				t.Fatalf("access key lookup: %v %v", got, err)
			}
		}
		k2, err := leader.CreateAccessKey(ctx, "bob")
		if err != nil || k2.GetId() == k.GetId() {
			t.Fatalf("second key: %v %v", k2, err)
		}
		keys, err := follower.AccessKeys(ctx)
		if err != nil || len(keys) != 2 {
			t.Fatalf("access keys: %d %v", len(keys), err)
		}
		if err := leader.DeleteAccessKey(ctx, k.GetId()); err != nil {
			t.Fatal(err)
		}
		_, err = leader.AccessKey(ctx, k.GetId())
		wantReason(t, "lookup of a deleted key on the leader", err, rpcerr.AccessKeyNotFound)
		err = leader.DeleteAccessKey(ctx, k.GetId())
		wantReason(t, "delete of a deleted key", err, rpcerr.AccessKeyNotFound)
		_, err = leader.AccessKey(ctx, "AKCBNOSUCHKEY0000000")
		wantReason(t, "lookup of an unknown key", err, rpcerr.AccessKeyNotFound)
		_, err = leader.CreateAccessKey(ctx, "")
		wantReason(t, "key without a principal", err, rpcerr.InvalidArgument)
	})
}

// iotestErrReader fails every read with err.
type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// TestObjectsSurviveAVolumeServerStop stops one of five nodes (a follower
// of the metadata group, so the group keeps its leader): every object
// written before reads back byte-identical from the others at once, and
// writes go on once placement has moved past the stopped server.
func TestObjectsSurviveAVolumeServerStop(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 2))
	c := blobdtest.New(t, 5, nil)
	leader := c.Leader().Server
	mustBucket(t, leader, "survive", blobdraftv1.Tier_TIER_UNSPECIFIED)
	waitWritable(t, leader, "survive")
	objs := map[string][]byte{}
	for i := range 4 {
		key := fmt.Sprintf("before/%d", i)
		objs[key] = randBytes(rng, 2*chunk+i*1000)
		put(t, c.All()[i%5].Server, "survive", key, objs[key])
	}
	victim := c.Follower()
	c.Stop(victim.ID)
	var live []*blobd.Server
	for _, m := range c.Live() {
		live = append(live, m.Server)
	}
	for i, s := range live {
		for key, data := range objs {
			sameBytes(t, fmt.Sprintf("%s from node %d with %s stopped", key, i, victim.ID), get(t, s, "survive", key, blobd.FullRange), data)
		}
	}
	data := randBytes(rng, 3*chunk+1)
	var last error
	nodetest.WaitFor(t, writableTimeout, "writes to go on without "+victim.ID, func() bool {
		_, last = live[0].PutObject(t.Context(), blobd.PutInput{Bucket: "survive", Key: "after", Body: bytes.NewReader(data), Size: int64(len(data))})
		if last != nil {
			t.Logf("put with %s stopped: %v", victim.ID, last)
		}
		return last == nil
	})
	for i, s := range live {
		sameBytes(t, fmt.Sprintf("object written with %s stopped, from node %d", victim.ID, i), get(t, s, "survive", "after", blobd.FullRange), data)
	}
	for i := range 3 {
		key := fmt.Sprintf("after/%d", i)
		objs[key] = randBytes(rng, chunk+i)
		put(t, live[(i+1)%len(live)], "survive", key, objs[key])
		sameBytes(t, key, get(t, live[i%len(live)], "survive", key, blobd.FullRange), objs[key])
	}
}
