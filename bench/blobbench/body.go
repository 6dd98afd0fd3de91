package blobbench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
)

// castagnoli is CRC-32C, which the processor computes in hardware: checking
// a 64 MiB GET costs the client a few milliseconds.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// headerBytes is the part of an object naming it: the run's seed and the
// object's number, so that no two objects of a run are equal.
const headerBytes = 16

// poolSlack is how far object contents are shifted in the pool.
const poolSlack = 4096

// pool holds the random bytes object contents of one size are cut from:
// object j is its header followed by data[off(j) : off(j)+size-headerBytes].
// It is read-only once made and shared by all clients.
type pool struct {
	size int64
	seed uint64
	data []byte
}

func newPool(size int64, seed uint64) *pool {
	n := max(0, size-headerBytes) + poolSlack
	data := make([]byte, n)
	r := rand.NewChaCha8(seedBytes(seed, uint64(size)))
	_, _ = r.Read(data) // ChaCha8.Read never fails
	return &pool{size: size, seed: seed, data: data}
}

func seedBytes(a, b uint64) [32]byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], a)
	binary.LittleEndian.PutUint64(s[8:], b)
	copy(s[16:], "cairn-blobbench!")
	return s
}

// object returns the body of object j: a fresh reader positioned at its
// start, and the CRC-32C of its content.
func (p *pool) object(j uint64) (*body, uint32) {
	b := &body{}
	binary.BigEndian.PutUint64(b.hdr[:], p.seed)
	binary.BigEndian.PutUint64(b.hdr[8:], j)
	hdrLen := min(p.size, headerBytes)
	b.head = b.hdr[:hdrLen]
	off := int64(j*61) % poolSlack
	b.tail = p.data[off : off+p.size-hdrLen]
	crc := crc32.Update(0, castagnoli, b.head)
	crc = crc32.Update(crc, castagnoli, b.tail)
	return b, crc
}

// body is an object's content as an io.ReadSeeker (which the S3 client
// needs to sign, retry and know the length), without copying the pool.
type body struct {
	hdr  [headerBytes]byte
	head []byte // hdr, cut to the object's size
	tail []byte // the rest, in the shared pool
	off  int64
}

// Len is the object's size.
func (b *body) Len() int64 { return int64(len(b.head) + len(b.tail)) }

func (b *body) Read(p []byte) (int, error) {
	if b.off >= b.Len() {
		return 0, io.EOF
	}
	n := 0
	if b.off < int64(len(b.head)) {
		n = copy(p, b.head[b.off:])
	}
	if n < len(p) && b.off+int64(n) >= int64(len(b.head)) {
		n += copy(p[n:], b.tail[b.off+int64(n)-int64(len(b.head)):])
	}
	b.off += int64(n)
	return n, nil
}

func (b *body) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.Len()
	default:
		return 0, fmt.Errorf("blobbench: seek whence %d", whence)
	}
	if offset < 0 {
		return 0, errors.New("blobbench: seek before the start")
	}
	b.off = offset
	return offset, nil
}

// errCorrupt marks a GET whose body differs from what was written.
var errCorrupt = errors.New("blobbench: object content differs from what was written")

// verify reads r to its end with buf and checks that it holds size bytes
// whose CRC-32C is crc. It returns errCorrupt (wrapped) for different
// content, and the read error when the body could not be read to its end.
func verify(r io.Reader, buf []byte, size int64, crc uint32) error {
	var got uint32
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			got = crc32.Update(got, castagnoli, buf[:k])
			n += int64(k)
			if n > size {
				return fmt.Errorf("%w: more than %d bytes", errCorrupt, size)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	switch {
	case n != size:
		return fmt.Errorf("%w: %d bytes, want %d", errCorrupt, n, size)
	case got != crc:
		return fmt.Errorf("%w: CRC-32C %08x, want %08x", errCorrupt, got, crc)
	}
	return nil
}
