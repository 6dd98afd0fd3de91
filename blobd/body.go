package blobd

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// cleanupTimeout bounds one best-effort deletion of needles (freed ones
// after a commit, written ones after a failure).
const cleanupTimeout = 10 * time.Second

// storedBody is what storeBody wrote: the chunks in order (offsets set),
// the size and the MD5 of the data.
type storedBody struct {
	chunks []*blobdraftv1.Chunk
	size   int64
	md5    []byte
}

// etag is the hex MD5 of the data, S3's etag of a single PUT.
func (b *storedBody) etag() string { return hex.EncodeToString(b.md5) }

// checkCommit runs the checks between storing a body and proposing its
// manifest: the Content-MD5 (want) and checkFresh. On failure the chunks
// are discarded.
func (s *Server) checkCommit(ctx context.Context, b *storedBody, want []byte) error {
	err := b.checkDigest(want)
	if err == nil {
		err = s.checkFresh(b.chunks)
	}
	if err != nil {
		s.discardChunks(ctx, b.chunks)
	}
	return err
}

// checkDigest compares the data's MD5 with want (none: nothing to check).
func (b *storedBody) checkDigest(want []byte) error {
	if len(want) == 0 || bytes.Equal(want, b.md5) {
		return nil
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w: Content-MD5 %x, the data's MD5 is %x", ErrBadDigest, want, b.md5),
		rpcerr.KeyField, "content_md5")
}

// checkPutInput validates what PutObject and UploadPart take before any
// data is read: names, headers, size against limit (sizeField names it in
// errors), the tier and the Content-MD5's length.
func checkPutInput(in PutInput, limit int64, sizeField string) error {
	if err := meta.ValidateBucketName(in.Bucket); err != nil {
		return err
	}
	if err := meta.ValidateKey(in.Key); err != nil {
		return err
	}
	if err := meta.ValidateHeaders(in.Headers); err != nil {
		return err
	}
	switch {
	case in.Size < -1:
		return rpcerr.WithMetadata(fmt.Errorf("%w: size %d (want -1 or more)", ErrInvalidArgument, in.Size), rpcerr.KeyField, sizeField)
	case in.Size > limit:
		return tooLarge(sizeField, in.Size, limit)
	case in.Body == nil && in.Size != 0:
		return rpcerr.WithMetadata(fmt.Errorf("%w: no body for %d bytes", ErrInvalidArgument, in.Size), rpcerr.KeyField, "body")
	case len(in.ContentMD5) != 0 && len(in.ContentMD5) != md5.Size:
		return rpcerr.WithMetadata(fmt.Errorf("%w: Content-MD5 is %d bytes, not %d", ErrInvalidArgument, len(in.ContentMD5), md5.Size),
			rpcerr.KeyField, "content_md5")
	}
	return checkTier(in.Tier)
}

// checkTier accepts TIER_UNSPECIFIED (the bucket's default) and the three
// tiers.
func checkTier(t blobdraftv1.Tier) error {
	if t < blobdraftv1.Tier_TIER_UNSPECIFIED || t > blobdraftv1.Tier_TIER_ARCHIVE {
		return rpcerr.WithMetadata(fmt.Errorf("%w: unknown tier %d", ErrInvalidArgument, t), rpcerr.KeyField, "tier")
	}
	return nil
}

// tooLarge is ErrTooLarge about field, of size bytes over limit.
func tooLarge(field string, size, limit int64) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s %d bytes, the limit is %d", ErrTooLarge, field, size, limit),
		rpcerr.KeyField, field, rpcerr.KeySize, strconv.FormatInt(size, 10), rpcerr.KeyLimit, strconv.FormatInt(limit, 10))
}

// chunkWritesInFlight is how many chunks of one body storeBody writes at
// once: while one chunk's needles are fsynced the next one's are already
// travelling, so a large body keeps the disks busy.
const chunkWritesInFlight = 2

// storeBody streams body (size bytes, or to EOF with size -1, at most
// limit) into chunks of Config.ChunkBytes of tier, each written and
// fsynced by writeChunk, and returns them with the data's size and MD5. A
// 0-byte body has no chunks.
//
// The calling goroutine reads the body while up to chunkWritesInFlight
// writer goroutines write the chunks before it: at most
// chunkWritesInFlight+1 chunk buffers exist per call, taken from and
// returned to s.chunkBufs. On any failure the chunks already written are
// deleted (best effort) and nothing is returned; every writer goroutine
// has finished when storeBody returns.
func (s *Server) storeBody(ctx context.Context, tier blobdraftv1.Tier, body io.Reader, size, limit int64, sizeField string) (*storedBody, error) {
	sum := md5.New()
	if size == 0 {
		return &storedBody{md5: sum.Sum(nil)}, nil
	}
	chunk := int64(s.cfg.ChunkBytes)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *[]byte, chunkWritesInFlight+1)
	slots := make(chan struct{}, chunkWritesInFlight)
	var (
		wg sync.WaitGroup
		mu sync.Mutex // protects chunks and werr, written by the writers
		// chunks[i] is the i-th chunk once written, nil before or when its
		// write failed.
		chunks []*blobdraftv1.Chunk
		werr   error
	)
	write := func(i int, data []byte, off int64, buf *[]byte) {
		defer func() {
			<-slots
			free <- buf
		}()
		c, err := s.writeChunk(wctx, tier, data)
		if err == nil && c == nil {
			err = fmt.Errorf("%w: writeChunk returned no chunk", ErrDataUnavailable)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if werr == nil {
				werr = err
			}
			cancel()
			return
		}
		c.Offset = off
		chunks[i] = c
	}

	// Buffers: exactly sized for a body shorter than a chunk, else pooled
	// chunk-sized ones, at most chunkWritesInFlight+1.
	var owned []*[]byte
	getBuf := func() *[]byte {
		if len(owned) == cap(free) {
			return <-free
		}
		var b *[]byte
		if size >= 0 && size < chunk {
			buf := make([]byte, size)
			b = &buf
		} else if p, ok := s.chunkBufs.Get().(*[]byte); ok && int64(cap(*p)) >= chunk {
			b = p
		} else {
			buf := make([]byte, chunk)
			b = &buf
		}
		owned = append(owned, b)
		return b
	}

	var (
		off int64
		err error
	)
	for err == nil {
		want := chunk
		if size >= 0 {
			want = min(chunk, size-off)
			if want == 0 {
				break
			}
		}
		if err = wctx.Err(); err != nil {
			break
		}
		b := getBuf()
		n, rerr := io.ReadFull(body, (*b)[:want])
		sum.Write((*b)[:n])
		eof := false
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			if size >= 0 {
				err = rpcerr.WithMetadata(fmt.Errorf("%w: got %d of %d bytes", ErrIncompleteBody, off+int64(n), size),
					rpcerr.KeyField, "body", rpcerr.KeySize, strconv.FormatInt(off+int64(n), 10))
			}
			eof = true
		default:
			err = fmt.Errorf("blobd: read body: %w", rerr)
		}
		if err == nil && off+int64(n) > limit {
			err = tooLarge(sizeField, off+int64(n), limit)
		}
		if err != nil || n == 0 {
			free <- b
			break
		}
		select {
		case slots <- struct{}{}:
			mu.Lock()
			i := len(chunks)
			chunks = append(chunks, nil)
			mu.Unlock()
			data, at := (*b)[:n], off
			wg.Go(func() { write(i, data, at, b) })
			off += int64(n)
		case <-wctx.Done():
			free <- b
			err = wctx.Err()
		}
		if eof {
			break
		}
	}
	wg.Wait()
	for _, b := range owned {
		if int64(cap(*b)) >= chunk {
			s.chunkBufs.Put(b)
		}
	}
	if werr != nil && (err == nil || errors.Is(err, context.Canceled) && ctx.Err() == nil) {
		err = werr
	}
	if err != nil {
		var written []*blobdraftv1.Chunk
		for _, c := range chunks {
			if c != nil {
				written = append(written, c)
			}
		}
		s.discardChunks(ctx, written)
		return nil, err
	}
	return &storedBody{chunks: chunks, size: off, md5: sum.Sum(nil)}, nil
}

// checkFresh refuses to commit a manifest whose needles garbage
// collection may have deleted already. GC deletes a needle nothing
// references once its id was allocated more than Config.GCGrace ago, and
// the data path never writes an id allocated more than GCGrace/2 ago; but
// a long body commits long after its first chunk was written. So the
// oldest needle (the lowest id: ids are allocated in order) must have
// been allocated less than 3/4 of GCGrace ago when the commit is
// proposed, which leaves a quarter of the grace for the commit to apply
// and for clock skew (ErrUploadTooSlow otherwise): a body has at least a
// quarter of GCGrace to stream. GCGrace 0 disables the check.
func (s *Server) checkFresh(chunks []*blobdraftv1.Chunk) error {
	if s.cfg.GCGrace <= 0 {
		return nil
	}
	refs := chunkNeedles(chunks)
	if len(refs) == 0 {
		return nil
	}
	oldest := refs[0].GetNid()
	for _, r := range refs[1:] {
		oldest = min(oldest, r.GetNid())
	}
	at, ok, err := s.meta.NeedleAllocatedAt(oldest)
	if err != nil || !ok {
		// Not applied here yet: allocated moments ago.
		return err
	}
	if age := s.now().Sub(at); age > s.cfg.GCGrace*3/4 {
		return rpcerr.WithMetadata(fmt.Errorf("%w: its first chunk's needle was allocated %v ago, over 3/4 of gc_grace (%v)",
			ErrUploadTooSlow, age.Round(time.Millisecond), s.cfg.GCGrace), rpcerr.KeyLimitName, "gc_grace")
	}
	return nil
}

// chunkNeedles lists the needles of chunks: the replica needle or every
// shard of each.
func chunkNeedles(chunks []*blobdraftv1.Chunk) []*blobdraftv1.NeedleRef {
	var refs []*blobdraftv1.NeedleRef
	for _, c := range chunks {
		if r := c.GetReplicated(); r != nil {
			refs = append(refs, r)
		}
		for _, r := range c.GetEc().GetShards() {
			if r != nil {
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// discardChunks deletes the needles of chunks that no commit references
// (a failed write), best effort: garbage collection removes what is left.
// Call it only when the commit certainly did not happen.
func (s *Server) discardChunks(ctx context.Context, chunks []*blobdraftv1.Chunk) {
	s.freeNeedles(ctx, chunkNeedles(chunks))
}

// freedQueue is how many batches of needles to delete may wait for the
// deleter loop; when it is full, freeNeedles deletes in the caller.
const freedQueue = 256

// registerObjects starts the loop that deletes the needles commits free,
// with the server. Called once from New.
func (s *Server) registerObjects() {
	s.freed = make(chan []*blobdraftv1.NeedleRef, freedQueue)
	s.d.RunWhileServing(s.deleteLoop)
}

// deleteLoop deletes the queued needles until ctx ends; what is still
// queued then is left to garbage collection.
func (s *Server) deleteLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case refs := <-s.freed:
			cctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
			s.deleteNeedles(cctx, refs)
			cancel()
		}
	}
}

// freeNeedles deletes needles a commit left unreferenced (or that no
// commit referenced), best effort and in the background: the request does
// not wait for the volume servers (a server about to be declared DOWN
// would cost it seconds). When the queue is full the caller deletes them
// itself, with a bounded context detached from ctx, so deletions keep up
// with commits.
func (s *Server) freeNeedles(ctx context.Context, refs []*blobdraftv1.NeedleRef) {
	if len(refs) == 0 {
		return
	}
	select {
	case s.freed <- refs:
		return
	default:
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	s.deleteNeedles(cctx, refs)
}

// afterCommit cleans up after a proposal that carried the needles of
// written chunks: on success it deletes the result's freed needles; on a
// failure the state machine recorded (res not nil: nothing changed) it
// deletes the written chunks. Any other failure may have committed, so
// the chunks are left to garbage collection.
func (s *Server) afterCommit(ctx context.Context, res *blobdraftv1.CommandResult, err error, written []*blobdraftv1.Chunk) {
	switch {
	case err == nil:
		s.freeNeedles(ctx, res.GetFreed())
	case res != nil:
		s.discardChunks(ctx, written)
	}
}
