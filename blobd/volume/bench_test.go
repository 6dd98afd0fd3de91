package volume

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
)

func benchStore(b *testing.B) *Store {
	opts := testOptions(b, b.TempDir())
	opts.MaxVolumeBytes = MaxVolumeBytesLimit
	s := openStore(b, opts)
	mustCreate(b, s, 1)
	return s
}

func benchWriteSync(b *testing.B, size int) {
	s := benchStore(b)
	data := payload(1, size)
	b.SetBytes(int64(size))
	nid := uint64(0)
	for b.Loop() {
		nid++
		if _, err := s.Write(1, nid, 1, bytes.NewReader(data), int64(size)); err != nil {
			b.Fatal(err)
		}
		if err := s.Sync(1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSync4K: one 4 KiB needle then Sync, one caller.
func BenchmarkWriteSync4K(b *testing.B) { benchWriteSync(b, 4<<10) }

// BenchmarkWriteSync8M: one 8 MiB needle then Sync, one caller.
func BenchmarkWriteSync8M(b *testing.B) { benchWriteSync(b, 8<<20) }

// BenchmarkWriteSync4KParallel: 4 KiB Write+Sync from 16 goroutines on one
// volume, showing the group commit.
func BenchmarkWriteSync4KParallel(b *testing.B) {
	s := benchStore(b)
	data := payload(1, 4<<10)
	var next atomic.Uint64
	b.SetBytes(4 << 10)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nid := next.Add(1)
			if _, err := s.Write(1, nid, 1, bytes.NewReader(data), int64(len(data))); err != nil {
				b.Error(err)
				return
			}
			if err := s.Sync(1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	v, _ := s.volume(1)
	v.smu.Lock()
	b.ReportMetric(float64(b.N)/float64(max(v.fsyncs, 1)), "writes/fsync")
	v.smu.Unlock()
}

// BenchmarkWrite4K: 4 KiB needles without Sync.
func BenchmarkWrite4K(b *testing.B) {
	s := benchStore(b)
	data := payload(1, 4<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	nid := uint64(0)
	for b.Loop() {
		nid++
		if _, err := s.Write(1, nid, 1, bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRead(b *testing.B, size, n int) {
	s := benchStore(b)
	data := payload(1, size)
	for nid := uint64(1); nid <= uint64(n); nid++ {
		if _, err := s.Write(1, nid, 1, bytes.NewReader(data), int64(size)); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var once sync.Once
	nid := uint64(0)
	for b.Loop() {
		nid = nid%uint64(n) + 1
		if _, err := s.Read(1, nid, 1, 0, -1); err != nil {
			once.Do(func() { b.Fatal(err) })
		}
	}
}

// BenchmarkRead4K: CRC-checked reads of 4 KiB needles (page cache).
func BenchmarkRead4K(b *testing.B) { benchRead(b, 4<<10, 1000) }

// BenchmarkRead8M: CRC-checked reads of 8 MiB needles (page cache).
func BenchmarkRead8M(b *testing.B) { benchRead(b, 8<<20, 8) }

// BenchmarkOpen: recovery of a volume of 100k 4 KiB needles, cleanly
// closed (index trusted up to its sync mark).
func BenchmarkOpen(b *testing.B) {
	opts := testOptions(b, b.TempDir())
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	mustCreate(b, s, 1)
	data := payload(1, 4<<10)
	for nid := uint64(1); nid <= 100000; nid++ {
		if _, err := s.Write(1, nid, 1, bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	for b.Loop() {
		s, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
