package blobd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// errReaderClosed is what Read returns after Close.
var errReaderClosed = errors.New("blobd: object reader closed")

// objectReader reads the bytes [off, end) of an object, chunk by chunk
// through readChunk, fetching only the chunks the range overlaps. While
// the caller consumes one chunk the next is fetched by a goroutine of the
// reader, so at most two chunks are in memory. Read is not safe for
// concurrent use (io.Reader's rule); Close may be called once reading is
// done or abandoned, and waits for the fetch in flight.
type objectReader struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	name   string // bucket/key, for errors

	chunks  []*blobdraftv1.Chunk // the chunks overlapping [off, end), in order
	next    int                  // index in chunks of the next chunk to take
	off     int64                // object offset of buf[0]
	end     int64
	buf     []byte         // the current chunk's bytes from off, within the range
	pending chan fetched   // the fetch of chunks[next], nil when none started
	err     error          // sticky
	wg      sync.WaitGroup // fetch goroutines
}

// fetched is a chunk's data or the error reading it.
type fetched struct {
	data []byte
	err  error
}

// newObjectReader returns a reader of the bytes [from, to) of o; it
// fetches nothing until the first Read, then keeps one chunk ahead.
func (s *Server) newObjectReader(ctx context.Context, o *blobdraftv1.ObjectRecord, from, to int64) *objectReader {
	ctx, cancel := context.WithCancel(ctx)
	chunks := o.GetChunks()
	first := sort.Search(len(chunks), func(i int) bool { return chunks[i].GetOffset()+chunks[i].GetSize() > from })
	last := first
	for last < len(chunks) && chunks[last].GetOffset() < to {
		last++
	}
	return &objectReader{s: s, ctx: ctx, cancel: cancel, name: o.GetBucket() + "/" + o.GetKey(),
		chunks: chunks[first:last], off: from, end: to}
}

// Read implements io.Reader.
func (r *objectReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.off >= r.end {
			return 0, io.EOF
		}
		r.advance()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.off += int64(n)
	return n, nil
}

// advance makes the next chunk current (waiting for its fetch) and starts
// fetching the one after it; a failure becomes the sticky error.
func (r *objectReader) advance() {
	if r.next >= len(r.chunks) {
		r.err = fmt.Errorf("%w: %s: no chunk holds offset %d", ErrDataUnavailable, r.name, r.off)
		return
	}
	c := r.chunks[r.next]
	if r.pending == nil {
		r.pending = r.fetch(c)
	}
	f := <-r.pending
	r.pending = nil
	r.next++
	if f.err != nil {
		r.err = fmt.Errorf("blobd: %s: chunk at offset %d: %w", r.name, c.GetOffset(), f.err)
		return
	}
	lo, hi := r.off-c.GetOffset(), min(r.end, c.GetOffset()+c.GetSize())-c.GetOffset()
	if lo < 0 || hi <= lo || int64(len(f.data)) != c.GetSize() {
		r.err = fmt.Errorf("%w: %s: chunk at offset %d of %d bytes does not hold offset %d (read %d bytes)",
			ErrDataUnavailable, r.name, c.GetOffset(), c.GetSize(), r.off, len(f.data))
		return
	}
	r.buf = f.data[lo:hi]
	if r.next < len(r.chunks) {
		r.pending = r.fetch(r.chunks[r.next])
	}
}

// fetch reads c in a goroutine of the reader; the result arrives on the
// returned channel.
func (r *objectReader) fetch(c *blobdraftv1.Chunk) chan fetched {
	ch := make(chan fetched, 1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		data, err := r.s.readChunk(r.ctx, c)
		ch <- fetched{data: data, err: err}
	}()
	return ch
}

// Close stops the fetch in flight and waits for it; later Reads fail.
// Idempotent.
func (r *objectReader) Close() error {
	r.cancel()
	r.wg.Wait()
	r.buf, r.pending = nil, nil
	if r.err == nil {
		r.err = errReaderClosed
	}
	return nil
}
