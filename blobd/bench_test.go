package blobd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/nodetest"
)

// benchCluster starts a 5-node cluster with production chunks (8 MiB) and
// a bucket that takes writes; it returns the first node.
func benchCluster(b *testing.B) *blobd.Server {
	b.Helper()
	c := blobdtest.New(b, 5, func(cfg *blobd.Config) {
		cfg.ChunkBytes = blobd.DefaultConfig().ChunkBytes
		cfg.MaxVolumeBytes = 1 << 30
	})
	s := c.All()[0].Server
	nodetest.WaitFor(b, writableTimeout, "the bucket to be created", func() bool {
		_, err := s.CreateBucket(b.Context(), "bench", "bencher", 0)
		return err == nil || errors.Is(err, meta.ErrBucketExists)
	})
	nodetest.WaitFor(b, writableTimeout, "the cluster to take writes", func() bool {
		_, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: "warmup", Body: strings.NewReader("w"), Size: 1})
		return err == nil
	})
	return s
}

func benchPut(b *testing.B, size int) {
	s := benchCluster(b)
	data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: fmt.Sprint("k", i%8), Body: bytes.NewReader(data), Size: int64(size)}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, size int) {
	s := benchCluster(b)
	data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
	const keys = 4
	for i := range keys {
		if _, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: fmt.Sprint("k", i), Body: bytes.NewReader(data), Size: int64(size)}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, rc, err := s.GetObject(b.Context(), "bench", fmt.Sprint("k", i%keys), blobd.FullRange)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(size) {
			b.Fatalf("read %d of %d bytes: %v", n, size, err)
		}
	}
}

func BenchmarkPutObject4KiB(b *testing.B)  { benchPut(b, 4<<10) }
func BenchmarkPutObject64MiB(b *testing.B) { benchPut(b, 64<<20) }
func BenchmarkGetObject1MiB(b *testing.B)  { benchGet(b, 1<<20) }
func BenchmarkGetObject64MiB(b *testing.B) { benchGet(b, 64<<20) }
