package s3_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/s3"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/raftnode/rafttest"
)

// s3Cluster is a blobdtest cluster whose every node serves the S3 API
// through Attach, on a port of its own.
type s3Cluster struct {
	*blobdtest.Cluster
	mu   sync.Mutex        // protects urls
	urls map[string]string // node id → S3 endpoint
}

const (
	clusterKeyID  = "AKIDCLUSTERS3TEST"
	clusterSecret = "cluster-s3-secret-0123456789"
)

func newS3Cluster(t *testing.T, n int) *s3Cluster {
	t.Helper()
	creds := filepath.Join(t.TempDir(), "s3-credentials")
	if err := os.WriteFile(creds, []byte(clusterKeyID+" "+clusterSecret+" ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &s3Cluster{urls: map[string]string{}}
	spec := blobdtest.Spec
	spec.New = func(cfg blobd.Config, logger *slog.Logger) (*blobd.Server, error) {
		srv, err := blobd.New(cfg, logger)
		if err != nil {
			return nil, err
		}
		api, err := s3.Attach(srv)
		if err != nil {
			srv.Close()
			return nil, err
		}
		c.mu.Lock()
		c.urls[cfg.ID] = api.URL()
		c.mu.Unlock()
		return srv, nil
	}
	c.Cluster = rafttest.New(t, n, spec, func(cfg *blobd.Config) {
		cfg.S3Addr = "127.0.0.1:0"
		cfg.S3CredentialsFile = creds
		// Two replicas, so that writes go on with a node down.
		cfg.Replicas = 2
	})
	return c
}

// url is the S3 endpoint of node id.
func (c *s3Cluster) url(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.urls[id]
}

func (c *s3Cluster) minio(t *testing.T, id string) *minio.Client {
	t.Helper()
	mc, err := minio.New(strings.TrimPrefix(c.url(id), "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(clusterKeyID, clusterSecret, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// TestCluster runs minio-go against a real 3-node blobd: objects written
// through one node's S3 API read back byte for byte through another's,
// listings are consistent right after writes, a multipart upload spans
// chunks, errors keep their S3 codes, keys created in blobd's metadata
// sign requests, and writes go on through a follower after the metadata
// leader stops.
func TestCluster(t *testing.T) {
	c := newS3Cluster(t, 3)
	ctx := t.Context()
	nodes := c.All()
	a, b := c.minio(t, nodes[0].ID), c.minio(t, nodes[1].ID)
	if err := a.MakeBucket(ctx, "cluster-bucket", minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	small := []byte("written through node 1")
	var last error
	nodetest.WaitFor(t, 20*time.Second, "the cluster to take writes", func() bool {
		_, last = a.PutObject(ctx, "cluster-bucket", "small.txt", bytes.NewReader(small), int64(len(small)), minio.PutObjectOptions{ContentType: "text/plain"})
		if last != nil {
			t.Logf("put: %v", last)
		}
		return last == nil
	})
	obj, err := b.GetObject(ctx, "cluster-bucket", "small.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, small) {
		t.Fatalf("read through node 2: %q %v", got, err)
	}
	// A multipart upload whose parts span several 1 MiB chunks.
	big := make([]byte, 5<<20+3<<20+17)
	for i := range big {
		big[i] = byte(i * 7 / 5)
	}
	info, err := b.PutObject(ctx, "cluster-bucket", "videos/big.bin", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{PartSize: 5 << 20})
	if err != nil {
		t.Fatalf("multipart upload: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-2") {
		t.Fatalf("multipart etag %s", info.ETag)
	}
	var opts minio.GetObjectOptions
	opts.SetRange(5<<20-10, 5<<20+1<<20)
	obj, err = a.GetObject(ctx, "cluster-bucket", "videos/big.bin", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, big[5<<20-10:5<<20+1<<20+1]) {
		t.Fatalf("ranged read across parts and chunks: %d bytes, %v", len(got), err)
	}
	var keys []string
	for o := range c.minio(t, nodes[2].ID).ListObjects(ctx, "cluster-bucket", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "small.txt,videos/big.bin" {
		t.Fatalf("listing through node 3 right after the writes: %v", keys)
	}
	_, err = a.StatObject(ctx, "cluster-bucket", "missing", minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != s3.CodeNoSuchKey {
		t.Fatalf("missing key: %v", err)
	}
	if err := a.RemoveBucket(ctx, "cluster-bucket"); minio.ToErrorResponse(err).Code != s3.CodeBucketNotEmpty {
		t.Fatalf("RemoveBucket of a full bucket: %v", err)
	}

	// A key kept in blobd's metadata signs requests; a disabled one does not.
	srv := nodes[0].Server
	k, err := srv.CreateAccessKey(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := minio.New(strings.TrimPrefix(c.url(nodes[1].ID), "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(k.GetId(), k.GetSecret(), ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mk.StatObject(ctx, "cluster-bucket", "small.txt", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("a metadata key: %v", err)
	}
	if err := srv.DeleteAccessKey(ctx, k.GetId()); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 5*time.Second, "the deleted key to be refused", func() bool {
		var err error
		for o := range mk.ListObjects(ctx, "cluster-bucket", minio.ListObjectsOptions{}) {
			err = o.Err
			break
		}
		return minio.ToErrorResponse(err).Code == s3.CodeInvalidAccessKeyID
	})

	// A presigned URL needs no keys.
	u, err := a.PresignedGetObject(ctx, "cluster-bucket", "small.txt", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, small) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	// Stop the metadata leader: writes through the others go on.
	leader := c.WaitLeader()
	c.Stop(leader)
	var live []string
	for _, m := range nodes {
		if m.ID != leader {
			live = append(live, m.ID)
		}
	}
	after := []byte("written after the leader stopped")
	mc := c.minio(t, live[0])
	nodetest.WaitFor(t, 20*time.Second, "writes without the old leader", func() bool {
		_, last = mc.PutObject(ctx, "cluster-bucket", "after.txt", bytes.NewReader(after), int64(len(after)), minio.PutObjectOptions{})
		if last != nil {
			t.Logf("put without %s: %v (%s)", leader, last, minio.ToErrorResponse(last).Code)
		}
		return last == nil
	})
	obj, err = c.minio(t, live[1]).GetObject(ctx, "cluster-bucket", "after.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(obj); err != nil || !bytes.Equal(got, after) {
		t.Fatalf("read after failover: %q %v", got, err)
	}
}
