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

// readAheadBytes bounds the chunk data one object reader fetches ahead of
// its caller: with 8 MiB chunks, three chunks are in flight (on different
// servers, as placement spreads volumes) while the caller consumes a
// fourth, so a large read is not one chunk's round trip after another.
const readAheadBytes = 24 << 20

// maxReadAhead bounds the fetches in flight of one reader whatever the
// chunk size.
const maxReadAhead = 8

// readAheadSlots bounds the chunks all of a node's readers fetch beyond
// the next one each needs (core.readAhead): 32 chunks of 8 MiB, so many
// concurrent reads cost at most 256 MiB more than one chunk ahead each.
const readAheadSlots = 32

// maxManifestReloads bounds how many times one reader re-reads the
// object's manifest after a chunk was unavailable (see advance).
const maxManifestReloads = 3

// objectReader reads the bytes [from, end) of an object, chunk by chunk
// through readChunkRange, fetching only the chunks the range overlaps and
// only the bytes of them it selects. While the caller consumes one chunk
// the next ones are fetched by goroutines of the reader, up to
// readAheadBytes (at least one chunk, at most maxReadAhead) ahead, so at
// most that and one chunk are in memory; chunks beyond the next one take
// a slot of the node's read-ahead (readAheadSlots) or wait for a later
// Read to start them. Read is not safe for concurrent
// use (io.Reader's rule); Close may be called once reading is done or
// abandoned, and waits for the fetches in flight.
//
// A chunk unavailable everywhere may be one whose needles repair or a tier
// change replaced after the reader took the manifest (the old needles are
// deleted once the new manifest commits): the reader then re-reads the
// object's record (after a read barrier) and, when it is still the same
// object (etag and version), goes on from the same offset with the new
// manifest, up to maxManifestReloads times.
type objectReader struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	bucket string
	key    string
	// etag, version and size identify the object the reader reads: a
	// manifest reloaded must be of the same object.
	etag    string
	version uint64
	size    int64

	chunks  []*blobdraftv1.Chunk // the chunks overlapping [from, end), in order
	next    int                  // index in chunks of the next chunk to take
	from    int64                // fetches start here: the range's start, or where a reload resumed
	off     int64                // object offset of buf[0]
	end     int64                // the range's end
	depth   int                  // fetches to keep in flight
	buf     []byte               // the current chunk's bytes from off, within the range
	whole   []byte               // the current chunk's bytes, given back to Server.readBufs when done
	pending []*chunkFetch        // the fetches of chunks[next], chunks[next+1], ..., in order
	reloads int                  // manifests re-read
	err     error                // sticky
	wg      sync.WaitGroup       // fetch goroutines
}

// chunkFetch is one chunk's fetch in flight: its result arrives on done.
type chunkFetch struct {
	done   chan fetched
	cancel context.CancelFunc
	// slot says whether the fetch holds one of core.readAhead's slots.
	slot bool
}

// release stops the fetch (if it still runs) and gives its slot back.
func (f *chunkFetch) release(s *Server) {
	f.cancel()
	if f.slot {
		f.slot = false
		<-s.core.readAhead
	}
}

// fetched is a chunk's data or the error reading it.
type fetched struct {
	data []byte
	err  error
}

// newObjectReader returns a reader of the bytes [from, to) of o; it
// fetches nothing until the first Read, then keeps up to readAheadBytes of
// chunks ahead.
func (s *Server) newObjectReader(ctx context.Context, o *blobdraftv1.ObjectRecord, from, to int64) *objectReader {
	ctx, cancel := context.WithCancel(ctx)
	depth := 1
	if s.cfg.ChunkBytes > 0 {
		depth = min(maxReadAhead, max(1, readAheadBytes/s.cfg.ChunkBytes))
	}
	return &objectReader{s: s, ctx: ctx, cancel: cancel, bucket: o.GetBucket(), key: o.GetKey(),
		etag: o.GetEtag(), version: o.GetVersion(), size: o.GetSize(),
		chunks: overlapping(o.GetChunks(), from, to), from: from, off: from, end: to, depth: depth}
}

// overlapping returns the chunks of a manifest that overlap [from, to).
func overlapping(chunks []*blobdraftv1.Chunk, from, to int64) []*blobdraftv1.Chunk {
	first := sort.Search(len(chunks), func(i int) bool { return chunks[i].GetOffset()+chunks[i].GetSize() > from })
	last := first
	for last < len(chunks) && chunks[last].GetOffset() < to {
		last++
	}
	return chunks[first:last]
}

func (r *objectReader) name() string { return r.bucket + "/" + r.key }

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

// WriteTo implements io.WriterTo: io.Copy hands w each chunk's bytes in
// one Write instead of copying them through a small buffer.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		for len(r.buf) == 0 {
			if r.err != nil {
				return total, r.err
			}
			if r.off >= r.end {
				return total, nil
			}
			r.advance()
		}
		n, err := w.Write(r.buf)
		r.buf = r.buf[n:]
		r.off += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

// advance makes the next chunk current (waiting for its fetch) and keeps
// the read-ahead full; a failure becomes the sticky error.
func (r *objectReader) advance() {
	for {
		if r.next >= len(r.chunks) {
			r.err = fmt.Errorf("%w: %s: no chunk holds offset %d", ErrDataUnavailable, r.name(), r.off)
			return
		}
		r.fill()
		c := r.chunks[r.next]
		f := r.pending[0]
		res := <-f.done
		f.release(r.s)
		r.pending = r.pending[1:]
		if res.err != nil {
			if errors.Is(res.err, ErrDataUnavailable) && r.reload() {
				continue
			}
			r.err = fmt.Errorf("blobd: %s: chunk at offset %d: %w", r.name(), c.GetOffset(), res.err)
			return
		}
		r.next++
		r.recycle()
		lo, hi := r.span(c)
		if c.GetOffset()+lo != r.off || int64(len(res.data)) != hi-lo || hi <= lo {
			r.err = fmt.Errorf("%w: %s: chunk at offset %d gave %d bytes for [%d, %d) at object offset %d",
				ErrDataUnavailable, r.name(), c.GetOffset(), len(res.data), lo, hi, r.off)
			return
		}
		r.buf, r.whole = res.data, res.data
		r.fill()
		return
	}
}

// recycle gives the current chunk's buffer back to the node's pool: the
// reader's alone (readChunkRange's result is the caller's), and Read and
// WriteTo hold no part of it once they return (an io.Writer keeps no
// part of what it is given).
func (r *objectReader) recycle() {
	r.s.readBufs.put(r.whole)
	r.buf, r.whole = nil, nil
}

// fill starts fetching the chunks after the ones in flight until depth
// fetches are: the next chunk always, the ones after it while the node has
// read-ahead slots free.
func (r *objectReader) fill() {
	for len(r.pending) < r.depth && r.next+len(r.pending) < len(r.chunks) {
		slot := false
		if len(r.pending) > 0 {
			select {
			case r.s.core.readAhead <- struct{}{}:
				slot = true
			default:
				return
			}
		}
		f := r.fetch(r.chunks[r.next+len(r.pending)])
		f.slot = slot
		r.pending = append(r.pending, f)
	}
}

// reload re-reads the object's record after a read barrier and, when it
// is the same object (etag, version and size unchanged: its manifest was
// swapped by repair or a tier change, not the object replaced), takes the
// new manifest's chunks from the current offset on and drops the fetches
// in flight. It reports whether reading may go on; it refuses after
// maxManifestReloads reloads.
func (r *objectReader) reload() bool {
	if r.reloads >= maxManifestReloads || r.ctx.Err() != nil {
		return false
	}
	r.reloads++
	if err := r.s.barrier(r.ctx); err != nil {
		return false
	}
	o, err := r.s.meta.Object(r.bucket, r.key)
	if err != nil || o.GetEtag() != r.etag || o.GetVersion() != r.version || o.GetSize() != r.size {
		return false
	}
	chunks := overlapping(o.GetChunks(), r.off, r.end)
	if len(chunks) == 0 {
		return false
	}
	for _, f := range r.pending {
		f.release(r.s)
	}
	r.pending = nil
	r.chunks, r.next, r.from = chunks, 0, r.off
	r.s.logger.Debug("object reader: a chunk was unavailable; going on with the object's current manifest",
		"object", r.name(), "offset", r.off, "reload", r.reloads)
	return true
}

// span is the part [lo, hi) of chunk c, in chunk offsets, that the reader
// fetches.
func (r *objectReader) span(c *blobdraftv1.Chunk) (lo, hi int64) {
	return max(r.from, c.GetOffset()) - c.GetOffset(), min(r.end, c.GetOffset()+c.GetSize()) - c.GetOffset()
}

// fetch reads the selected span of c (readChunkRange: a replicated chunk
// transfers just that span, checked against the whole needle's CRC32C) in
// a goroutine of the reader.
func (r *objectReader) fetch(c *blobdraftv1.Chunk) *chunkFetch {
	lo, hi := r.span(c)
	ctx, cancel := context.WithCancel(r.ctx)
	f := &chunkFetch{done: make(chan fetched, 1), cancel: cancel}
	r.wg.Go(func() {
		data, err := r.s.readChunkRange(ctx, c, lo, hi-lo)
		f.done <- fetched{data: data, err: err}
	})
	return f
}

// Close stops the fetches in flight and waits for them; later Reads fail.
// Idempotent.
func (r *objectReader) Close() error {
	r.cancel()
	r.wg.Wait()
	for _, f := range r.pending {
		f.release(r.s)
		select {
		case res := <-f.done:
			r.s.readBufs.put(res.data)
		default:
		}
	}
	r.recycle()
	r.pending = nil
	if r.err == nil {
		r.err = errReaderClosed
	}
	return nil
}
