//go:build unix

package blobd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/nodetest"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// benchCluster starts a 5-node cluster with production chunks (8 MiB) and
// a bucket that takes writes; it returns the nodes.
func benchCluster(b *testing.B) []*blobd.Server {
	b.Helper()
	c := blobdtest.New(b, 5, func(cfg *blobd.Config) {
		cfg.ChunkBytes = blobd.DefaultConfig().ChunkBytes
		cfg.MaxVolumeBytes = 1 << 30
	})
	var all []*blobd.Server
	for _, m := range c.All() {
		all = append(all, m.Server)
	}
	s := all[0]
	nodetest.WaitFor(b, writableTimeout, "the bucket to be created", func() bool {
		_, err := s.CreateBucket(b.Context(), "bench", "bencher", 0)
		return err == nil || errors.Is(err, meta.ErrBucketExists)
	})
	nodetest.WaitFor(b, writableTimeout, "the cluster to take writes", func() bool {
		_, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: "warmup", Body: strings.NewReader("w"), Size: 1})
		return err == nil
	})
	return all
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClients is how many requests the benchmarks keep in flight, as
// blob-compare.sh's clients do.
const benchClients = 4

// runClients runs op b.N times over benchClients goroutines and reports
// the whole cluster's CPU time per op besides the wall time.
func runClients(b *testing.B, op func(i int) error) {
	b.Helper()
	var next atomic.Int64
	cpu := cpuTime()
	b.ResetTimer()
	b.SetParallelism((benchClients + 1) / 2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func benchPut(b *testing.B, size int) {
	s := benchCluster(b)[0]
	data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
	b.SetBytes(int64(size))
	runClients(b, func(i int) error {
		_, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: fmt.Sprint("k", i%8), Body: bytes.NewReader(data), Size: int64(size)})
		return err
	})
}

// benchGet reads objects through every node in turn: chunks whose copies
// are elsewhere come from peers, the others from the node's own volumes.
func benchGet(b *testing.B, size int) {
	all := benchCluster(b)
	s := all[0]
	data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
	const keys = 4
	for i := range keys {
		if _, err := s.PutObject(b.Context(), blobd.PutInput{Bucket: "bench", Key: fmt.Sprint("k", i), Body: bytes.NewReader(data), Size: int64(size)}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
	runClients(b, func(i int) error {
		_, rc, err := all[i%len(all)].GetObject(b.Context(), "bench", fmt.Sprint("k", i%keys), blobd.FullRange)
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err := io.Copy(io.Discard, rc)
		if err == nil && n != int64(size) {
			err = fmt.Errorf("read %d of %d bytes", n, size)
		}
		return err
	})
}

func BenchmarkPutObject4KiB(b *testing.B)  { benchPut(b, 4<<10) }
func BenchmarkPutObject64MiB(b *testing.B) { benchPut(b, 64<<20) }
func BenchmarkGetObject1MiB(b *testing.B)  { benchGet(b, 1<<20) }
func BenchmarkGetObject64MiB(b *testing.B) { benchGet(b, 64<<20) }

// BenchmarkReadChunkRemote reads an 8 MiB chunk, by benchClients readers
// at once, through a node that holds no copy of it: the path of every chunk
// an S3 GET fetches from a peer (the peer reads and checks the needle and
// streams it in ReadNeedle messages; the reader receives them into one
// buffer and checks the chunk's CRC32C again). cpu-ms/op is the whole
// cluster's, both sides of the transfer.
func BenchmarkReadChunkRemote(b *testing.B) {
	all := benchCluster(b)
	size := blobd.DefaultConfig().ChunkBytes
	data := randBytes(rand.New(rand.NewPCG(3, 4)), size)
	c, err := all[0].DataWriteChunk(b.Context(), blobdraftv1.Tier_TIER_HOT, data)
	if err != nil {
		b.Fatal(err)
	}
	v, err := all[0].Meta().Volume(c.GetReplicated().GetVid())
	if err != nil {
		b.Fatal(err)
	}
	var reader *blobd.Server
	for _, s := range all {
		if !slices.Contains(v.GetServers(), s.Config().ID) {
			reader = s
			break
		}
	}
	if reader == nil {
		b.Fatalf("volume %d is on every node (%v)", v.GetId(), v.GetServers())
	}
	b.SetBytes(int64(size))
	runClients(b, func(int) error {
		got, err := reader.DataReadChunk(b.Context(), c)
		if err == nil && len(got) != size {
			err = fmt.Errorf("read %d of %d bytes", len(got), size)
		}
		return err
	})
}
