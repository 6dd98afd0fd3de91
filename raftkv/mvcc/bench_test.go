package mvcc

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// BenchmarkApplyBatch applies batches of 64 puts of 256-byte values with fsync
// on; one op is one batch.
func BenchmarkApplyBatch(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Logger: testLogger(b)})
	require.NoError(b, err)
	defer s.Close()
	value := make([]byte, 256)
	var idx uint64
	const batch = 64
	entries := make([]Entry, batch)
	b.SetBytes(batch * 256)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range entries {
			idx++
			entries[j] = Entry{Index: idx, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{
				Key: fmt.Appendf(nil, "key/%08d", (i*batch+j)%100000), Value: value}}}}
		}
		if _, _, err := s.ApplyBatch(entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkApplyBatchRandom applies batches of puts of 256-byte values to
// random 8-byte keys over a 10,000-key space with fsync on, the profile of a
// put-only cluster load; one op is one batch. The store is first filled with
// every key so that each put overwrites one. commit=each commits every batch
// (as before batched commits); commit=batched uses the defaults.
func BenchmarkApplyBatchRandom(b *testing.B) {
	for _, mode := range []struct {
		name     string
		interval time.Duration
	}{{"each", -1}, {"batched", 0}} {
		for _, batch := range []int{64, 256} {
			b.Run(fmt.Sprintf("commit=%s/batch=%d", mode.name, batch), func(b *testing.B) {
				benchApplyRandom(b, batch, mode.interval)
			})
		}
	}
}

func benchApplyRandom(b *testing.B, batch int, interval time.Duration) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Logger: testLogger(b), CommitInterval: interval})
	require.NoError(b, err)
	defer s.Close()
	value := make([]byte, 256)
	const keySpace = 10000
	key := func(i int) []byte { return fmt.Appendf(nil, "k%07d", i) }
	var idx uint64
	fill := make([]Entry, 0, 1000)
	for i := range keySpace {
		idx++
		fill = append(fill, Entry{Index: idx, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{
			Key: key(i), Value: value}}}})
		if len(fill) == cap(fill) {
			_, _, err := s.ApplyBatch(fill)
			require.NoError(b, err)
			fill = fill[:0]
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	entries := make([]Entry, batch)
	b.SetBytes(int64(batch) * 256)
	b.ReportAllocs()
	for b.Loop() {
		for j := range entries {
			idx++
			entries[j] = Entry{Index: idx, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{
				Key: key(r.IntN(keySpace)), Value: value}}}}
		}
		if _, _, err := s.ApplyBatch(entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkRange reads pages of 100 keys out of 10,000, at the current revision
// and at a past one.
func BenchmarkRange(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{NoSync: true, Logger: testLogger(b)})
	require.NoError(b, err)
	defer s.Close()
	value := make([]byte, 256)
	var idx uint64
	for round := range 2 {
		entries := make([]Entry, 0, 1000)
		for i := range 10000 {
			idx++
			entries = append(entries, Entry{Index: idx, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{
				Key: fmt.Appendf(nil, "key/%05d", i), Value: value}}}})
			if len(entries) == cap(entries) {
				_, _, err := s.ApplyBatch(entries)
				require.NoError(b, err)
				entries = entries[:0]
			}
		}
		_ = round
	}
	past := s.Revision() - 10000 // after the first round
	for _, bc := range []struct {
		name string
		rev  int64
	}{{"current", 0}, {"past", past}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				start := fmt.Appendf(nil, "key/%05d", (i*100)%9900)
				resp, err := s.Range(&raftkvv1.RangeRequest{Key: start, RangeEnd: []byte("key0"), Limit: 100, Revision: bc.rev})
				if err != nil || len(resp.Kvs) != 100 {
					b.Fatalf("range: %v, %d kvs", err, len(resp.GetKvs()))
				}
			}
		})
		b.Run(bc.name+"/single", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				resp, err := s.Range(&raftkvv1.RangeRequest{Key: fmt.Appendf(nil, "key/%05d", i%10000), Revision: bc.rev})
				if err != nil || len(resp.Kvs) != 1 {
					b.Fatalf("range: %v, %d kvs", err, len(resp.GetKvs()))
				}
			}
		})
	}
}
