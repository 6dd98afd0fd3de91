package record

// KeyPartition is the partition of n that records with key go to: the
// 32-bit FNV-1a hash of the key, modulo n. Every producer (the server for
// requests that name no partition, the Go client) uses it, so one key always
// lands in one partition while the partition count stays the same. n must
// be positive.
func KeyPartition(key []byte, n int32) int32 {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for _, c := range key {
		h ^= uint32(c)
		h *= prime32
	}
	return int32(h % uint32(n))
}
