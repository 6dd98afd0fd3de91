package client_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/node/nodetest"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

func newClient(t *testing.T, c *blobdtest.Cluster) *client.Client {
	t.Helper()
	cl, err := client.New(client.Config{Endpoints: c.Endpoints(), RequestTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	return cl
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func randomBytes(t *testing.T, n int) []byte {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func getAll(t *testing.T, ctx context.Context, cl *client.Client, bucket, key string, opts ...client.GetOption) (*blobdv1.Object, []byte) {
	t.Helper()
	r, err := cl.Get(ctx, bucket, key, opts...)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return r.Object(), b
}

func hexMD5(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestClient walks the Go client through buckets, objects, listings,
// copies, multipart uploads, access keys and the admin reports against an
// in-process 3-node cluster.
func TestClient(t *testing.T) {
	c := blobdtest.New(t, 3, nil)
	cl := newClient(t, c)
	ctx := testCtx(t)

	st, err := cl.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st.GetLeaderId())

	// Buckets.
	b, err := cl.CreateBucket(ctx, "photos")
	require.NoError(t, err)
	require.Equal(t, "cluster", b.GetOwner())
	_, err = cl.CreateBucket(ctx, "photos")
	require.ErrorIs(t, err, client.ErrBucketExists)
	_, err = cl.CreateBucket(ctx, "Bad_Name")
	require.ErrorIs(t, err, client.ErrInvalidArgument)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "name", ce.Metadata()["field"])
	_, err = cl.CreateBucket(ctx, "archive-bucket", client.WithDefaultTier(blobdv1.Tier_TIER_COOL))
	require.NoError(t, err)
	bs, err := cl.Buckets(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 2)
	require.Equal(t, "archive-bucket", bs[0].GetName())
	require.Equal(t, blobdv1.Tier_TIER_COOL, bs[0].GetDefaultTier())

	// A small object with headers, read whole and by range.
	data := randomBytes(t, 2<<20+123) // three chunks of 1 MiB
	o, err := cl.Put(ctx, "photos", "cats/1.jpg", bytes.NewReader(data), int64(len(data)),
		client.WithContentType("image/jpeg"), client.WithMetadata(map[string]string{"owner": "ada"}))
	require.NoError(t, err)
	require.Equal(t, hexMD5(data), o.GetEtag())
	require.Equal(t, int64(len(data)), o.GetSize())
	got, body := getAll(t, ctx, cl, "photos", "cats/1.jpg")
	require.Equal(t, data, body)
	require.Equal(t, "image/jpeg", got.GetHeaders().GetContentType())
	require.Equal(t, "ada", got.GetHeaders().GetUserMetadata()["owner"])
	_, part := getAll(t, ctx, cl, "photos", "cats/1.jpg", client.WithRange(1<<20-10, 30))
	require.Equal(t, data[1<<20-10:1<<20+20], part)
	_, tail := getAll(t, ctx, cl, "photos", "cats/1.jpg", client.WithRange(int64(len(data)-5), 0))
	require.Equal(t, data[len(data)-5:], tail)
	_, err = cl.Get(ctx, "photos", "cats/1.jpg", client.WithRange(int64(len(data)), 0))
	require.ErrorIs(t, err, client.ErrInvalidRange)
	stat, err := cl.Stat(ctx, "photos", "cats/1.jpg")
	require.NoError(t, err)
	require.Equal(t, int32(3), stat.GetChunks())

	// Unknown size, from a reader that hands out a byte at a time.
	small := []byte("hello, blobd")
	o, err = cl.Put(ctx, "photos", "notes/hello.txt", iotest.OneByteReader(bytes.NewReader(small)), -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(small)), o.GetSize())
	_, err = cl.Put(ctx, "photos", "empty", strings.NewReader(""), 0)
	require.NoError(t, err)
	_, body = getAll(t, ctx, cl, "photos", "empty")
	require.Empty(t, body)

	// Refusals: nothing is stored.
	_, err = cl.Put(ctx, "photos", "cats/1.jpg", bytes.NewReader(small), int64(len(small)), client.WithIfNoneMatch("*"))
	require.ErrorIs(t, err, client.ErrPreconditionFailed)
	_, err = cl.Put(ctx, "photos", "short", bytes.NewReader(small), 100)
	require.ErrorIs(t, err, client.ErrIncompleteBody)
	require.False(t, client.IsUnknownOutcome(err))
	_, err = cl.Put(ctx, "photos", "digest", bytes.NewReader(small), int64(len(small)), client.WithContentMD5(make([]byte, 16)))
	require.ErrorIs(t, err, client.ErrBadDigest)
	_, err = cl.Put(ctx, "nope", "k", bytes.NewReader(small), int64(len(small)))
	require.ErrorIs(t, err, client.ErrBucketNotFound)
	for _, k := range []string{"short", "digest"} {
		_, err = cl.Stat(ctx, "photos", k)
		require.ErrorIs(t, err, client.ErrObjectNotFound, k)
	}

	// Copy, listings.
	_, err = cl.Copy(ctx, "photos", "cats/1.jpg", "photos", "cats/2.jpg", client.WithTier(blobdv1.Tier_TIER_HOT))
	require.NoError(t, err)
	_, body = getAll(t, ctx, cl, "photos", "cats/2.jpg")
	require.Equal(t, data, body)
	var names []string
	for e, err := range cl.List(ctx, "photos", client.WithDelimiter("/"), client.WithPageSize(2)) {
		require.NoError(t, err)
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"cats/", "empty", "notes/"}, names)
	names = nil
	for e, err := range cl.List(ctx, "photos", client.WithPrefix("cats/"), client.WithPageSize(1)) {
		require.NoError(t, err)
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"cats/1.jpg", "cats/2.jpg"}, names)

	// Multipart, from a stream (buffered parts) and from a ReaderAt.
	big := randomBytes(t, 11<<20+7)
	var sent int64
	o, err = cl.PutMultipart(ctx, "photos", "big/stream.bin", io.MultiReader(bytes.NewReader(big)), -1,
		client.WithPartSize(client.MinPartSize), client.WithConcurrency(2), client.WithProgress(func(n int64) { sent += n }))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(o.GetEtag(), "-3"), o.GetEtag())
	require.Equal(t, int64(len(big)), sent)
	_, body = getAll(t, ctx, cl, "photos", "big/stream.bin")
	require.Equal(t, big, body)
	o, err = cl.PutMultipart(ctx, "photos", "big/file.bin", bytes.NewReader(big), int64(len(big)), client.WithPartSize(client.MinPartSize))
	require.NoError(t, err)
	require.Equal(t, int32(3), o.GetParts())
	_, body = getAll(t, ctx, cl, "photos", "big/file.bin", client.WithRange(5<<20-3, 6))
	require.Equal(t, big[5<<20-3:5<<20+3], body)
	ups, err := cl.ListUploads(ctx, &blobdv1.ListMultipartUploadsRequest{Bucket: "photos"})
	require.NoError(t, err)
	require.Empty(t, ups.GetUploads(), "completed uploads are gone")

	// A multipart upload by hand, aborted.
	up, err := cl.CreateMultipartUpload(ctx, "photos", "big/aborted")
	require.NoError(t, err)
	p, err := cl.UploadPart(ctx, "photos", "big/aborted", up.GetUploadId(), 1, bytes.NewReader(small), int64(len(small)))
	require.NoError(t, err)
	require.Equal(t, hexMD5(small), p.GetEtag())
	parts, err := cl.ListParts(ctx, "photos", "big/aborted", up.GetUploadId(), 0, 0)
	require.NoError(t, err)
	require.Len(t, parts.GetParts(), 1)
	require.NoError(t, cl.AbortMultipartUpload(ctx, "photos", "big/aborted", up.GetUploadId()))
	_, err = cl.UploadPart(ctx, "photos", "big/aborted", up.GetUploadId(), 2, bytes.NewReader(small), int64(len(small)))
	require.ErrorIs(t, err, client.ErrUploadNotFound)

	// Deletes.
	deleted, err := cl.Delete(ctx, "photos", "cats/2.jpg")
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = cl.Delete(ctx, "photos", "cats/2.jpg")
	require.NoError(t, err)
	require.False(t, deleted)
	_, err = cl.Get(ctx, "photos", "cats/2.jpg")
	require.ErrorIs(t, err, client.ErrObjectNotFound)
	require.ErrorIs(t, cl.DeleteBucket(ctx, "photos"), client.ErrBucketNotEmpty)
	require.NoError(t, cl.DeleteBucket(ctx, "archive-bucket"))

	// Access keys and the admin reports.
	k, err := cl.CreateAccessKey(ctx, "app")
	require.NoError(t, err)
	require.NotEmpty(t, k.GetSecret())
	ks, err := cl.AccessKeys(ctx)
	require.NoError(t, err)
	require.Len(t, ks, 1)
	require.NoError(t, cl.DeleteAccessKey(ctx, k.GetId()))
	require.ErrorIs(t, cl.DeleteAccessKey(ctx, k.GetId()), client.ErrAccessKeyNotFound)
	servers, err := cl.Servers(ctx)
	require.NoError(t, err)
	require.Len(t, servers, 3)
	vols, err := cl.Volumes(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, vols)
	rs, err := cl.RepairStatus(ctx)
	require.NoError(t, err)
	require.Len(t, rs.GetServers(), 3)
}

// TestClientErrorsAfterClose: a closed client fails every call locally.
func TestClientErrorsAfterClose(t *testing.T) {
	cl, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:1"}})
	require.NoError(t, err)
	require.NoError(t, cl.Close())
	_, err = cl.Stat(context.Background(), "b", "k")
	require.ErrorIs(t, err, client.ErrClosed)
	_, err = cl.Put(context.Background(), "b", "k", strings.NewReader("x"), 1)
	require.ErrorIs(t, err, client.ErrClosed)
	_, err = cl.Get(context.Background(), "b", "k")
	require.ErrorIs(t, err, client.ErrClosed)
	_, err = client.New(client.Config{})
	require.True(t, errors.Is(err, client.ErrNoEndpoints))
}
