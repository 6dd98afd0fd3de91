package cachestore

// hashString is a seeded 64-bit hash of s (8 bytes per round, a
// multiply-xorshift finaliser). It is for the sketch and the doorkeeper,
// not for security: the seed only varies which ids collide.
func hashString(seed uint64, s string) uint64 {
	h := seed ^ 0x9e3779b97f4a7c15 ^ uint64(len(s))*0xff51afd7ed558ccd
	for len(s) >= 8 {
		k := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ mix64(k)) * 0x9fb21c651e98df25
		s = s[8:]
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		k |= uint64(s[i]) << (8 * i)
	}
	return mix64(h ^ mix64(k^0x2545f4914f6cdd1d))
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
