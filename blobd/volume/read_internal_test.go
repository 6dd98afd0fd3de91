package volume

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestReadSummed(t *testing.T) {
	src := make([]byte, 3*copyBufLen+headerLen+17)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	for _, n := range []int{0, 1, headerLen, headerLen + 5, copyBufLen, copyBufLen + headerLen + 1, len(src) - 3} {
		for _, skip := range []int{0, headerLen} {
			if skip > n {
				continue
			}
			b := make([]byte, n)
			sum, err := readSummed(bytes.NewReader(src), b, 3, skip)
			if err != nil {
				t.Fatalf("n %d skip %d: %v", n, skip, err)
			}
			if !bytes.Equal(b, src[3:3+n]) || sum != crc(src[3+skip:3+n]) {
				t.Fatalf("n %d skip %d: bytes equal %v, sum %08x want %08x", n, skip, bytes.Equal(b, src[3:3+n]), sum, crc(src[3+skip:3+n]))
			}
		}
	}
	if _, err := readSummed(bytes.NewReader(src), make([]byte, len(src)), 1, 0); err == nil {
		t.Fatal("a read past the end succeeded")
	}
}
