package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
)

// The tests of this file drive the S3 API with two independent clients,
// minio-go and the AWS SDK for Go v2, over plain HTTP and over TLS. The
// same checks run against the in-memory backend here and against a real
// blobd cluster in cluster_test.go.

// endpoint is an S3 API under test: its URL, a transport that trusts its
// certificate, and its access key.
type endpoint struct {
	url       string
	transport http.RoundTripper
	keyID     string
	secret    string
}

func (e endpoint) minio(t *testing.T) *minio.Client {
	t.Helper()
	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds: miniocreds.NewStaticV4(e.keyID, e.secret, ""), Secure: u.Scheme == "https",
		Region: testRegion, BucketLookup: minio.BucketLookupPath, Transport: e.transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func (e endpoint) aws() *awss3.Client {
	return awss3.New(awss3.Options{
		Region: testRegion, Credentials: awscreds.NewStaticCredentialsProvider(e.keyID, e.secret, ""),
		BaseEndpoint: aws.String(e.url), UsePathStyle: true, HTTPClient: &http.Client{Transport: e.transport},
	})
}

// memEndpoints serves a memBackend over HTTP and over TLS.
func memEndpoints(t *testing.T) (plain, secure endpoint, b *memBackend) {
	s := newTestServer(t, nil)
	ts := newTLSServer(t, s.handler)
	return endpoint{url: s.URL, transport: http.DefaultTransport, keyID: testKeyID, secret: testSecret},
		endpoint{url: ts.URL, transport: ts.Client().Transport, keyID: testKeyID, secret: testSecret}, s.backend
}

func TestMinioGo(t *testing.T) {
	plain, secure, _ := memEndpoints(t)
	t.Run("http", func(t *testing.T) { exerciseMinio(t, plain, "minio-http") })
	t.Run("https", func(t *testing.T) { exerciseMinio(t, secure, "minio-https") })
}

func TestAWSSDK(t *testing.T) {
	plain, secure, _ := memEndpoints(t)
	t.Run("http", func(t *testing.T) { exerciseAWS(t, plain, "aws-http") })
	t.Run("https", func(t *testing.T) { exerciseAWS(t, secure, "aws-https") })
}

func randData(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 16))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// exerciseMinio runs minio-go through buckets, small and multipart
// uploads, ranged reads, listings, copy, compose (UploadPartCopy),
// multi-delete, presigned URLs and lifecycle rules, in bucket.
func exerciseMinio(t *testing.T, e endpoint, bucket string) {
	ctx := t.Context()
	mc := e.minio(t)
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: testRegion})
	if minio.ToErrorResponse(err).Code != CodeBucketAlreadyOwnedByYou {
		t.Fatalf("second MakeBucket: %v", err)
	}
	if ok, err := mc.BucketExists(ctx, bucket); !ok || err != nil {
		t.Fatalf("BucketExists: %v %v", ok, err)
	}
	small := []byte("a small object")
	info, err := mc.PutObject(ctx, bucket, "docs/small.txt", bytes.NewReader(small), int64(len(small)),
		minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"Origin": "minio"}, CacheControl: "no-cache"})
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != md5hex(small) {
		t.Fatalf("etag %s", info.ETag)
	}
	big := randData(1, 11<<20+123)
	info, err = mc.PutObject(ctx, bucket, "videos/big.bin", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{PartSize: 5 << 20})
	if err != nil {
		t.Fatalf("multipart PutObject: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Fatalf("multipart etag %s", info.ETag)
	}
	// A stream of unknown length is uploaded in parts too.
	unknown := randData(2, 6<<20)
	if _, err := mc.PutObject(ctx, bucket, "videos/stream.bin", bytes.NewReader(unknown), -1, minio.PutObjectOptions{PartSize: 5 << 20}); err != nil {
		t.Fatalf("PutObject of unknown size: %v", err)
	}

	obj, err := mc.GetObject(ctx, bucket, "videos/big.bin", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("GetObject: %d bytes, %v", len(got), err)
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(100, 199); err != nil {
		t.Fatal(err)
	}
	obj, err = mc.GetObject(ctx, bucket, "videos/big.bin", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, big[100:200]) {
		t.Fatalf("ranged GetObject: %d bytes, %v", len(got), err)
	}
	st, err := mc.StatObject(ctx, bucket, "docs/small.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ContentType != "text/plain" || st.UserMetadata["Origin"] != "minio" || st.Size != int64(len(small)) || st.Metadata.Get("Cache-Control") != "no-cache" {
		t.Fatalf("StatObject: %+v", st)
	}
	_, err = mc.StatObject(ctx, bucket, "missing", minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != CodeNoSuchKey {
		t.Fatalf("StatObject of a missing key: %v", err)
	}

	var keys []string
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 2}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "docs/small.txt,videos/big.bin,videos/stream.bin" {
		t.Fatalf("ListObjects: %v", keys)
	}
	keys = nil
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{UseV1: true}) {
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "docs/,videos/" {
		t.Fatalf("ListObjects v1 with delimiter: %v", keys)
	}

	if _, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "docs/copy.txt"}, minio.CopySrcOptions{Bucket: bucket, Object: "docs/small.txt"}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	// ComposeObject copies ranges of sources with UploadPartCopy.
	if _, err := mc.ComposeObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "videos/composed.bin"},
		minio.CopySrcOptions{Bucket: bucket, Object: "videos/big.bin", MatchRange: true, Start: 0, End: 5<<20 - 1},
		minio.CopySrcOptions{Bucket: bucket, Object: "docs/small.txt"}); err != nil {
		t.Fatalf("ComposeObject: %v", err)
	}
	obj, _ = mc.GetObject(ctx, bucket, "videos/composed.bin", minio.GetObjectOptions{})
	got, err = io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, append(append([]byte{}, big[:5<<20]...), small...)) {
		t.Fatalf("composed object: %d bytes, %v", len(got), err)
	}

	u, err := mc.PresignedGetObject(ctx, bucket, "docs/small.txt", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: e.transport}).Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, small) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}
	u, err = mc.PresignedPutObject(ctx, bucket, "uploads/direct.txt", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", u.String(), strings.NewReader("uploaded without keys"))
	resp, err = (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}

	lc := lifecycle.NewConfiguration()
	lc.Rules = []lifecycle.Rule{{ID: "age", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "logs/"},
		Expiration: lifecycle.Expiration{Days: 30}, Transition: lifecycle.Transition{Days: 7, StorageClass: "STANDARD_IA"}}}
	if err := mc.SetBucketLifecycle(ctx, bucket, lc); err != nil {
		t.Fatalf("SetBucketLifecycle: %v", err)
	}
	back, err := mc.GetBucketLifecycle(ctx, bucket)
	if err != nil || len(back.Rules) != 1 || back.Rules[0].Expiration.Days != 30 || back.Rules[0].Transition.StorageClass != "STANDARD_IA" {
		t.Fatalf("GetBucketLifecycle: %+v %v", back, err)
	}
	if err := mc.SetBucketLifecycle(ctx, bucket, lifecycle.NewConfiguration()); err != nil {
		t.Fatalf("removing the lifecycle: %v", err)
	}

	objs := make(chan minio.ObjectInfo)
	go func() { // ends when the listing does
		defer close(objs)
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			objs <- o
		}
	}()
	for e := range mc.RemoveObjects(ctx, bucket, objs, minio.RemoveObjectsOptions{}) {
		t.Fatalf("RemoveObjects: %v", e.Err)
	}
	if err := mc.RemoveBucket(ctx, bucket); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
}

// exerciseAWS runs the AWS SDK's S3 client (with its default checksums:
// trailing CRC32 over aws-chunked bodies) through the same ground.
func exerciseAWS(t *testing.T, e endpoint, bucket string) {
	ctx := t.Context()
	cl := e.aws()
	if _, err := cl.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var owned *types.BucketAlreadyOwnedByYou
	if _, err := cl.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); !errors.As(err, &owned) {
		t.Fatalf("second CreateBucket: %v", err)
	}
	data := randData(3, 300_000)
	put, err := cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b c.bin"), Body: bytes.NewReader(data),
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"k": "v"}, StorageClass: types.StorageClassStandardIa})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if aws.ToString(put.ETag) != quote(md5hex(data)) {
		t.Fatalf("PutObject etag %s", aws.ToString(put.ETag))
	}
	if strings.HasPrefix(e.url, "https:") {
		// A body it cannot seek (the SDK sends it UNSIGNED-PAYLOAD with
		// its CRC32 in a header, which the server verifies).
		stream := randData(6, 200_000)
		if _, err := cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("streamed"),
			Body: struct{ io.Reader }{bytes.NewReader(stream)}, ContentLength: aws.Int64(int64(len(stream)))}); err != nil {
			t.Fatalf("PutObject of a stream: %v", err)
		}
		got, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("streamed")})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(b, stream) || aws.ToString(got.ContentEncoding) != "" {
			t.Fatalf("streamed object: %d bytes, Content-Encoding %q", len(b), aws.ToString(got.ContentEncoding))
		}
		if _, err := cl.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("streamed")}); err != nil {
			t.Fatal(err)
		}
	}
	get, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b c.bin"), Range: aws.String("bytes=-1000")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(got, data[len(data)-1000:]) || aws.ToString(get.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", len(data)-1000, len(data)-1, len(data)) {
		t.Fatalf("suffix range: %d bytes, %s", len(got), aws.ToString(get.ContentRange))
	}
	head, err := cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b c.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "application/x-test" || head.Metadata["k"] != "v" || head.StorageClass != types.StorageClassStandardIa {
		t.Fatalf("HeadObject: %+v", head)
	}
	_, err = cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b c.bin"), IfNoneMatch: head.ETag})
	if err == nil || !strings.Contains(err.Error(), "304") {
		t.Fatalf("If-None-Match: %v", err)
	}
	var nsk *types.NoSuchKey
	if _, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")}); !errors.As(err, &nsk) {
		t.Fatalf("GetObject of a missing key: %v", err)
	}
	var nsb *types.NoSuchBucket
	if _, err := cl.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket-here")}); !errors.As(err, &nsb) {
		t.Fatalf("ListObjectsV2 of a missing bucket: %v", err)
	}

	// Multipart with the SDK's own calls.
	mp, err := cl.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin")})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{randData(4, 5<<20), randData(5, 1234)}
	var done []types.CompletedPart
	for i, p := range parts {
		up, err := cl.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	lp, err := cl.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: mp.UploadId})
	if err != nil || len(lp.Parts) != 2 {
		t.Fatalf("ListParts: %v %v", lp, err)
	}
	lu, err := cl.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(lu.Uploads) != 1 {
		t.Fatalf("ListMultipartUploads: %v %v", lu, err)
	}
	_, err = cl.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[1], done[0]}}})
	if err == nil || !strings.Contains(err.Error(), CodeInvalidPartOrder) {
		t.Fatalf("Complete out of order: %v", err)
	}
	if _, err := cl.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	aborted, _ := cl.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("gone")})
	if _, err := cl.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("gone"), UploadId: aborted.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	var ae smithy.APIError
	if _, err := cl.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("gone"), UploadId: aborted.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); !errors.As(err, &ae) || ae.ErrorCode() != CodeNoSuchUpload {
		t.Fatalf("UploadPart after abort: %v", err)
	}

	if _, err := cl.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy.bin"),
		CopySource: aws.String(bucket + "/" + url.PathEscape("a/b c.bin")), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"new": "yes"}}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	var keys []string
	pg := awss3.NewListObjectsV2Paginator(cl, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if strings.Join(keys, ",") != "a/b c.bin,copy.bin,mp.bin" {
		t.Fatalf("ListObjectsV2 pages: %v", keys)
	}

	ps := awss3.NewPresignClient(cl)
	preq, err := ps.PresignPutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("presigned.txt")}, awss3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	hreq, _ := http.NewRequest(preq.Method, preq.URL, strings.NewReader("presigned body"))
	resp, err := (&http.Client{Transport: e.transport}).Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}

	if _, err := cl.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("cold"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("old/")},
			Transitions:                    []types.Transition{{Days: aws.Int32(90), StorageClass: types.TransitionStorageClassGlacier}},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)},
		}}}}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	lc, err := cl.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(lc.Rules) != 1 || lc.Rules[0].Transitions[0].StorageClass != types.TransitionStorageClassGlacier {
		t.Fatalf("GetBucketLifecycleConfiguration: %+v %v", lc, err)
	}
	if _, err := cl.DeleteBucketLifecycle(ctx, &awss3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	var ids []types.ObjectIdentifier
	for _, k := range append(keys, "presigned.txt") {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	del, err := cl.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids}})
	if err != nil || len(del.Deleted) != len(ids) || len(del.Errors) != 0 {
		t.Fatalf("DeleteObjects: %+v %v", del, err)
	}
	if _, err := cl.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
}

// newTLSServer serves h with TLS from httptest's certificate.
func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	return ts
}
