package apikey

import (
	"testing"
	"time"
)

// BenchmarkLookup is the per-request cost of an API key: parse, map lookup,
// SHA-256 and a constant-time compare, from every CPU at once.
func BenchmarkLookup(b *testing.B) {
	s := NewStore(nil, "", nil)
	var full string
	keys := map[string]Key{}
	for i := range 10000 {
		k, f, err := Generate(nil, "c", time.Now(), 0)
		if err != nil {
			b.Fatal(err)
		}
		keys[k.ID] = k
		if i == 0 {
			full = f
		}
	}
	s.keys.Store(&keys)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Lookup(full); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
