package blobd

import (
	"sync"

	"cairn.dev/cairn/blobd/volume"
)

// readBufPool recycles the chunk-sized buffers of the read path: a volume
// server's buffer for a needle it sends to a peer (ReadNeedle), and an object
// reader's buffer for a chunk received from a peer (getNeedle), both given
// back once their bytes are sent on. A new 8 MiB buffer costs the runtime
// zeroing it and the collector a cycle sooner; large reads took one or two
// per chunk on every node they touched. The pool is a sync.Pool: buffers
// not reused are collected. Safe for concurrent use.
type readBufPool struct {
	size int // capacity of every pooled buffer
	pool sync.Pool
}

// newReadBufPool returns a pool of buffers of maxNeedle (the largest needle,
// Server.maxNeedleBytes) plus room for a volume's needle header
// (volume.Store.ReadBuf).
func newReadBufPool(maxNeedle int64) *readBufPool {
	return &readBufPool{size: int(maxNeedle) + volume.NeedleHeaderBytes}
}

// get returns an empty buffer with room for n bytes: a pooled one when n is
// more than half of the pool's size (a smaller read would hold a whole
// buffer for little), else a new one of capacity n.
func (p *readBufPool) get(n int) []byte {
	if n <= p.size/2 || n > p.size {
		return make([]byte, 0, n)
	}
	if b, ok := p.pool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, p.size)
}

// put gives b back for reuse; the caller must hold no other reference to
// b's array. Buffers get did not take from the pool (another capacity) are
// left to the collector.
func (p *readBufPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	b = b[:0]
	p.pool.Put(&b)
}
