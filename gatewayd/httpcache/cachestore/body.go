package cachestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Tier names reported by Body.Tier.
const (
	TierMemory = "memory"
	TierDisk   = "disk"
)

// errBodyClosed: ReadAt on a disk Body after Close.
var errBodyClosed = errors.New("cachestore: body closed")

// memBody is a memory object's body. One memBody is shared by every Get of
// the object (Get allocates nothing); its bytes are never modified or
// reused, so it stays readable after the object is replaced, deleted or
// evicted, and Close has nothing to release.
type memBody struct {
	data []byte
}

func (b *memBody) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("cachestore: ReadAt offset %d is negative", off)
	}
	if off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b *memBody) Close() error  { return nil }
func (b *memBody) Size() int64   { return int64(len(b.data)) }
func (b *memBody) Tier() string  { return TierMemory }
func (b *memBody) Bytes() []byte { return b.data }

// diskBody reads a disk object's body from its open file: the file stays
// readable when it is unlinked (replaced, deleted, evicted) until Close.
type diskBody struct {
	f      *os.File
	off    int64 // body offset in the file
	size   int64
	closed atomic.Bool
}

func (b *diskBody) ReadAt(p []byte, off int64) (int, error) {
	if b.closed.Load() {
		return 0, errBodyClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("cachestore: ReadAt offset %d is negative", off)
	}
	if off >= b.size {
		return 0, io.EOF
	}
	want := p
	if rest := b.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	n, err := b.f.ReadAt(want, b.off+off)
	if err == io.EOF && n == len(want) {
		err = nil
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// Close closes the file; it is safe to call more than once.
func (b *diskBody) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.f.Close()
}

func (b *diskBody) Size() int64  { return b.size }
func (b *diskBody) Tier() string { return TierDisk }
