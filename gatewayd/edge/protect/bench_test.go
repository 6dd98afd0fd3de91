package protect

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkLimiterAllow takes tokens for 1024 clients from parallel
// goroutines (a generous rate, so most calls allow).
func BenchmarkLimiterAllow(b *testing.B) {
	l, err := NewLimiter(LimiterConfig{Rate: 1e9, Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8 & 3), byte(i)}))
			i++
		}
	})
}

// BenchmarkDetectorRecord records outcomes from parallel goroutines.
func BenchmarkDetectorRecord(b *testing.B) {
	d, err := NewAttackDetector(DetectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d.Record(i%10 == 0, time.Duration(i%1000)*time.Millisecond)
			i++
		}
	})
}
