package cachestore

import (
	"fmt"
	"testing"
)

// BenchmarkGet is a hit on a hot memory object: no allocation.
func BenchmarkGet(b *testing.B) {
	s := openStore(b, Options{MemoryBytes: 64 << 20})
	if err := put(s, "https://cdn.example.test/assets/app.js", "meta", make([]byte, 4096)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, body, ok := s.Get("https://cdn.example.test/assets/app.js")
		if !ok {
			b.Fatal("miss")
		}
		body.Close()
	}
}

// BenchmarkGetParallel is Get of 1024 hot memory objects from GOMAXPROCS
// goroutines.
func BenchmarkGetParallel(b *testing.B) {
	s := openStore(b, Options{MemoryBytes: 64 << 20})
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("https://cdn.example.test/assets/%d", i)
		if err := put(s, ids[i], "meta", make([]byte, 4096)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, body, ok := s.Get(ids[i&1023])
			if !ok {
				b.Fatal("miss")
			}
			body.Close()
			i++
		}
	})
}

// BenchmarkGetDisk is a hit on a disk object (an open and a close).
func BenchmarkGetDisk(b *testing.B) {
	s := openStore(b, Options{MemoryBytes: 1 << 20, MaxMemoryObject: 4096, DiskBytes: 64 << 20, Dir: b.TempDir()})
	if err := put(s, "big", "meta", make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, body, ok := s.Get("big")
		if !ok {
			b.Fatal("miss")
		}
		body.Close()
	}
}

// BenchmarkMiss is a miss followed by storing a 4 KiB object, over a key
// space larger than the memory tier (admission and eviction at work).
func BenchmarkMiss(b *testing.B) {
	s := openStore(b, Options{MemoryBytes: 4 << 20})
	body := make([]byte, 4096)
	ids := make([]string, 1<<14)
	for i := range ids {
		ids[i] = fmt.Sprint("k", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := ids[i&(1<<14-1)]
		i++
		if _, bd, ok := s.Get(id); ok {
			bd.Close()
			continue
		}
		put(s, id, "", body)
	}
}
