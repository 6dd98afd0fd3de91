package balance

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestHashKeyStable pins HashKey's values: every lbd node and every release
// must map a client to the same key, so these may never change.
func TestHashKeyStable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 0xe220a8397b1dcdaf},
		{"a", 0xd54191bffc29b3ac},
		{"10.0.0.1", 0xa9fa83b621eb07e0},
		{"\n\x00\x00\x01", 0xaab7eadad9aebba2},
		{"session-cookie-value-0123456789", 0xbec3cb70d3b992ce},
		{"12345678", 0xb46cb26a92e6bf4a},
	} {
		if got := HashKey([]byte(tc.in)); got != tc.want {
			t.Errorf("HashKey(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestHashKeyDistinguishesPadding(t *testing.T) {
	seen := map[uint64]string{}
	for _, s := range []string{"", "\x00", "\x00\x00", "a", "a\x00", "\x00a", "abcdefgh", "abcdefgh\x00", "ab", "ba"} {
		h := HashKey([]byte(s))
		if prev, ok := seen[h]; ok {
			t.Errorf("HashKey(%q) == HashKey(%q)", s, prev)
		}
		seen[h] = s
	}
}

// TestHashKeyUniform: consecutive IPv4 addresses (the worst case for a weak
// hash) spread evenly over 256 buckets of the top bits and of the bottom bits.
func TestHashKeyUniform(t *testing.T) {
	const n, buckets = 1 << 18, 256
	var top, bottom [buckets]int
	ip := []byte{10, 0, 0, 0}
	for i := range n {
		ip[1], ip[2], ip[3] = byte(i>>16), byte(i>>8), byte(i)
		h := HashKey(ip)
		top[h>>56]++
		bottom[h&0xff]++
	}
	for name, b := range map[string]*[buckets]int{"top byte": &top, "bottom byte": &bottom} {
		exp := float64(n) / buckets
		chi := 0.0
		for _, c := range b {
			d := float64(c) - exp
			chi += d * d / exp
		}
		// 255 degrees of freedom: mean 255, sd 22.6; 400 is over 6 sd.
		if chi > 400 {
			t.Errorf("%s: chi-square %.1f over %d buckets, want < 400", name, chi, buckets)
		}
	}
}

// TestHashKeyAvalanche: flipping any one input bit flips about half the
// output bits.
func TestHashKeyAvalanche(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testSeed(t), 1))
	for _, size := range []int{4, 16, 24} {
		const trials = 200
		in := make([]byte, size)
		for bit := range size * 8 {
			flips := 0
			for range trials {
				for i := range in {
					in[i] = byte(rnd.Uint32())
				}
				h := HashKey(in)
				in[bit/8] ^= 1 << (bit % 8)
				flips += bits.OnesCount64(h ^ HashKey(in))
			}
			if mean := float64(flips) / trials; mean < 29 || mean > 35 {
				t.Errorf("%d-byte input, bit %d: %.1f output bits flip on average, want about 32", size, bit, mean)
			}
		}
	}
}
