package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAllowLocal measures the hot path: existing local keys, from all
// Ps at once, spread over 1024 keys whose buckets are never full (a full
// bucket is dropped as idle and its next request re-creates it).
func BenchmarkAllowLocal(b *testing.B) {
	l := New(Config{})
	p := Policy{ID: "route#0", Limit: 1000, Per: time.Second, Burst: 1e9}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("consumer-%d", i)
		l.Allow(context.Background(), p, keys[i])
	}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(7919)
		ctx := context.Background()
		for pb.Next() {
			i++
			l.Allow(ctx, p, keys[i%uint64(len(keys))])
		}
	})
}

// BenchmarkAllowLocalOneKey is the worst case for the shard locks: every
// request on one key.
func BenchmarkAllowLocalOneKey(b *testing.B) {
	l := New(Config{})
	p := Policy{ID: "route#0", Limit: 1e9, Per: time.Second}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			l.Allow(ctx, p, "hot")
		}
	})
}

// BenchmarkAllowGlobalLeased measures global keys served from leases (the
// fake store is in memory: this is the lease path's own cost plus one store
// round trip per lease).
func BenchmarkAllowGlobalLeased(b *testing.B) {
	clock := newFakeClock()
	l := New(Config{Store: newFakeStore(clock), Now: clock.Now})
	p := Policy{ID: "route#0", Limit: 1e9, Per: time.Second, Burst: 1e6, Global: true}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			l.Allow(ctx, p, "consumer")
		}
	})
}
