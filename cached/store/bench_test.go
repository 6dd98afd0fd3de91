package store

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
)

const benchKeys = 100000

func benchStore(b *testing.B, cfg Config) (*Store, []string) {
	s := newStore(b, cfg)
	keys := make([]string, benchKeys)
	val := make([]byte, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%06d", i)
		// Store a copy, as the server does: a lookup then compares key
		// bytes (equal pointers would let the comparison skip them).
		if _, err := s.Set(strings.Clone(keys[i]), val, SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys
}

// BenchmarkGet reads 100-byte values of 100k keys from parallel goroutines,
// with uniform and Zipf (s=1.1) key popularity.
func BenchmarkGet(b *testing.B) {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, benchKeys-1)
	order := map[string][]int{"uniform": make([]int, 1<<20), "zipf": make([]int, 1<<20)}
	for i := range 1 << 20 {
		order["uniform"][i] = (i * 7919) % benchKeys
		order["zipf"][i] = int(zipf.Uint64())
	}
	for _, dist := range []string{"uniform", "zipf"} {
		for _, policy := range []Policy{PolicyLRU, PolicyLFU} {
			b.Run(dist+"/"+policy.String(), func(b *testing.B) {
				s, keys := benchStore(b, Config{Policy: policy})
				idx := order[dist]
				var gid atomic.Uint64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := int(gid.Add(1) * 104729)
					for pb.Next() {
						if _, ok, _ := s.Get(keys[idx[i&(1<<20-1)]]); !ok {
							b.Fatal("missing")
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkSet overwrites 100-byte values of 100k keys from parallel
// goroutines, with and without a memory limit that forces eviction. With the
// limits every Set writes a key evicted earlier: an insert plus an eviction.
// The 4 MiB limit is the cached profile's (redis-benchmark -t set -r 100000).
func BenchmarkSet(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"unlimited", Config{}},
		{"lru-evicting", Config{MaxBytes: benchKeys / 2 * (100 + 10 + ItemOverhead)}},
		{"lru-evicting-4MiB", Config{MaxBytes: 4 << 20}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, keys := benchStore(b, bc.cfg)
			val := make([]byte, 100)
			var gid atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(gid.Add(1) * 7919)
				for pb.Next() {
					if _, err := s.Set(keys[i%benchKeys], val, SetOptions{}); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkHash sets and reads one field of 10-field hashes of 10k keys
// (HSET and HGET), from parallel goroutines.
func BenchmarkHash(b *testing.B) {
	s := newStore(b, Config{})
	keys := make([]string, 10000)
	fields := make([][]byte, 10)
	for i := range fields {
		fields[i] = []byte(fmt.Sprintf("field:%d", i))
	}
	val := make([]byte, 32)
	for i := range keys {
		keys[i] = fmt.Sprintf("hash:%05d", i)
		for _, f := range fields {
			if _, err := s.HSet(keys[i], [][]byte{f, val}, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("hset", func(b *testing.B) {
		var gid atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(gid.Add(1) * 7919)
			for pb.Next() {
				if _, err := s.HSet(keys[i%len(keys)], [][]byte{fields[i%len(fields)], val}, false); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
	b.Run("hget", func(b *testing.B) {
		var gid atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(gid.Add(1) * 7919)
			for pb.Next() {
				f := string(fields[i%len(fields)])
				if err := s.HRead(keys[i%len(keys)], func(h Hash) {
					if _, ok := h.Get(f); !ok {
						b.Fatal("missing")
					}
				}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}
