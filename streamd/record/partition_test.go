package record

import (
	"hash/fnv"
	"testing"
)

func TestKeyPartitionIsFNV1aModN(t *testing.T) {
	for _, key := range []string{"", "user-1", "user-2", "a much longer key with spaces"} {
		for _, n := range []int32{1, 6, 7, 1024} {
			h := fnv.New32a()
			h.Write([]byte(key))
			want := int32(h.Sum32() % uint32(n))
			if got := KeyPartition([]byte(key), n); got != want {
				t.Errorf("KeyPartition(%q, %d) = %d, want %d", key, n, got, want)
			}
		}
	}
}
