package balance

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPick measures one Pick per algorithm over 10 and 100 backends with
// some work in flight, serially and from parallel goroutines.
func BenchmarkPick(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, alg := range allAlgorithms {
			bs := make([]*Backend, n)
			for i := range bs {
				bs[i] = NewBackend(fmt.Sprintf("b%d", i), "127.0.0.1:1", 1+i%5)
				bs[i].End(time.Duration(1+i) * time.Millisecond)
				for range i % 3 {
					bs[i].Begin()
				}
			}
			p := mustNew(b, alg, bs, Options{Seed: 1})
			b.Run(fmt.Sprintf("%s/n=%d", alg, n), func(b *testing.B) {
				b.ReportAllocs()
				key := uint64(0)
				for b.Loop() {
					key += golden
					p.Pick(key, nil)
				}
			})
			b.Run(fmt.Sprintf("%s/n=%d/parallel", alg, n), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					key := uint64(0)
					for pb.Next() {
						key += golden
						p.Pick(key, nil)
					}
				})
			})
		}
	}
}

func BenchmarkHashKey(b *testing.B) {
	for _, size := range []int{4, 16, 32} {
		in := make([]byte, size)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				in[0]++
				HashKey(in)
			}
		})
	}
}

// BenchmarkNew measures building the hashing algorithms' ring and table, which
// pools do on every change of their set.
func BenchmarkNew(b *testing.B) {
	for _, alg := range hashingAlgorithms {
		for _, n := range []int{10, 100} {
			bs := equalBackends(n)
			b.Run(fmt.Sprintf("%s/n=%d", alg, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := New(alg, bs, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
