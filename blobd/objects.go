package blobd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// PutObject streams in.Body into chunks of Config.ChunkBytes, writes each
// chunk to Config.Replicas volume servers (hot) or as erasure-coded shards
// (cool, archive) and fsyncs them there, then commits the manifest through
// Raft; only then does it return the object's record (version, etag: the
// hex MD5 of the data). Memory stays bounded by a few chunks whatever the
// size. A failure leaves no visible object and no partial data: the
// needles written are deleted, or are garbage the collector removes. An
// existing object at the key is replaced atomically and its needles freed.
// Conditions (IfMatch, IfNoneMatch) are checked before the body is read
// and again, atomically, at the commit.
func (s *Server) PutObject(ctx context.Context, in PutInput) (*blobdraftv1.ObjectRecord, error) {
	if err := checkPutInput(in, meta.MaxObjectBytes, "size"); err != nil {
		return nil, err
	}
	b, err := s.bucketForWrite(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	tier := in.Tier
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = b.GetDefaultTier()
	}
	if in.IfMatch != "" || in.IfNoneMatch != "" {
		if err := s.precheckConditions(ctx, in.Bucket, in.Key, in.IfMatch, in.IfNoneMatch); err != nil {
			return nil, err
		}
	}
	body, err := s.storeBody(ctx, tier, in.Body, in.Size, meta.MaxObjectBytes, "size")
	if err != nil {
		return nil, err
	}
	if err := s.checkCommit(ctx, body, in.ContentMD5); err != nil {
		return nil, err
	}
	o := &blobdraftv1.ObjectRecord{Size: body.size, Etag: body.etag(), Headers: in.Headers, Tier: tier, Chunks: body.chunks}
	res, err := s.propose(ctx, meta.PutObject(in.Bucket, in.Key, o, in.IfMatch, in.IfNoneMatch))
	s.afterCommit(ctx, res, err, body.chunks)
	if err != nil {
		return nil, err
	}
	return res.GetObject(), nil
}

// bucketForWrite returns the bucket a write goes to: the local record when
// there is one (a bucket's default tier never changes; the commit checks
// that it still exists), else the record after a read barrier, or
// meta.ErrBucketNotFound.
func (s *Server) bucketForWrite(ctx context.Context, name string) (*blobdraftv1.BucketRecord, error) {
	b, err := s.meta.Bucket(name)
	if !errors.Is(err, meta.ErrBucketNotFound) {
		return b, err
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Bucket(name)
}

// precheckConditions applies a write's conditions to the current object
// (after a read barrier), so that a write bound to fail does not stream
// its body first. The commit checks them again: this only fails early.
func (s *Server) precheckConditions(ctx context.Context, bucket, key, ifMatch, ifNoneMatch string) error {
	if err := s.barrier(ctx); err != nil {
		return err
	}
	cur, err := s.meta.Object(bucket, key)
	if err != nil && !errors.Is(err, meta.ErrObjectNotFound) {
		return err
	}
	if strings.TrimSpace(ifNoneMatch) == "*" && cur != nil {
		return rpcerr.WithMetadata(fmt.Errorf("%w: an object exists at %q", meta.ErrPreconditionFailed, key), rpcerr.KeyField, "if_none_match")
	}
	if ifMatch != "" {
		if cur == nil {
			return rpcerr.WithMetadata(fmt.Errorf("%w: no object at %q to match", meta.ErrObjectNotFound, key), rpcerr.KeyField, "if_match")
		}
		if m := strings.Trim(strings.TrimSpace(ifMatch), `"`); m != "*" && m != cur.GetEtag() {
			return rpcerr.WithMetadata(fmt.Errorf("%w: etag is %q, not %q", meta.ErrPreconditionFailed, cur.GetEtag(), m), rpcerr.KeyField, "if_match")
		}
	}
	return nil
}

// GetObject returns the object's record and a reader of the selected bytes.
// The reader fetches chunks lazily from any healthy copy (another replica,
// or the shards a decode needs, when one fails its checksum or its server
// is down), a few chunks ahead of the caller (reader.go); a manifest
// swapped under it by repair or a tier change is followed; a chunk that
// cannot be read correctly from anywhere fails the read with
// ErrDataUnavailable, never returns wrong bytes. The caller checks conditions on the record first
// and must Close the reader. An archived object not restored is
// meta.ErrInvalidObjectState.
func (s *Server) GetObject(ctx context.Context, bucket, key string, r Range) (*blobdraftv1.ObjectRecord, io.ReadCloser, error) {
	o, err := s.HeadObject(ctx, bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if err := s.readable(o); err != nil {
		return nil, nil, err
	}
	from, to, err := r.resolve(o.GetSize())
	if err != nil {
		return nil, nil, err
	}
	return o, s.newObjectReader(ctx, o, from, to), nil
}

// readable refuses an archived object that is not restored now.
func (s *Server) readable(o *blobdraftv1.ObjectRecord) error {
	if o.GetTier() != blobdraftv1.Tier_TIER_ARCHIVE {
		return nil
	}
	if o.GetRestoreState() == blobdraftv1.RestoreState_RESTORE_STATE_RESTORED && s.now().UnixNano() < o.GetRestoreUntilUnixNanos() {
		return nil
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w: %q in bucket %q is archived and not restored", meta.ErrInvalidObjectState, o.GetKey(), o.GetBucket()),
		rpcerr.KeyField, "key")
}

// resolve turns r into the bytes [from, to) of an object of size bytes.
func (r Range) resolve(size int64) (from, to int64, err error) {
	switch {
	case r.Offset < 0:
		return max(size+r.Offset, 0), size, nil
	case r.Length < -1:
		return 0, 0, rpcerr.WithMetadata(fmt.Errorf("%w: range length %d", ErrInvalidArgument, r.Length), rpcerr.KeyField, "range.length")
	case r.Offset >= size && !(size == 0 && r.Offset == 0):
		return 0, 0, rpcerr.WithMetadata(fmt.Errorf("%w: offset %d of an object of %d bytes", ErrInvalidRange, r.Offset, size),
			rpcerr.KeyField, "range.offset", rpcerr.KeySize, fmt.Sprint(size))
	case r.Length == -1 || r.Length > size-r.Offset:
		return r.Offset, size, nil
	}
	return r.Offset, r.Offset + r.Length, nil
}

// HeadObject returns the object's record (with its manifest).
func (s *Server) HeadObject(ctx context.Context, bucket, key string) (*blobdraftv1.ObjectRecord, error) {
	if err := meta.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Object(bucket, key)
}

// DeleteObject removes the object (idempotent: deleted says whether there
// was one) and deletes its needles from their volumes.
func (s *Server) DeleteObject(ctx context.Context, bucket, key string) (deleted bool, err error) {
	if err := meta.ValidateKey(key); err != nil {
		return false, err
	}
	res, err := s.propose(ctx, meta.DeleteObject(bucket, key))
	if err != nil {
		return false, err
	}
	s.freeNeedles(ctx, res.GetFreed())
	return res.GetDeleted(), nil
}

// CopyObject copies src to dst.Bucket/dst.Key, server-side: dst.Body,
// dst.Size and dst.ContentMD5 are ignored; dst.Headers nil keeps the
// source's headers (S3's COPY directive), non-nil replaces them (REPLACE).
// dst.Tier unspecified keeps the source's tier. dst.IfMatch and
// dst.IfNoneMatch are conditions on the destination. The data streams from
// the source's chunks into new ones (bounded memory, as PutObject); the
// new object's etag is the MD5 of the data. A copy of an object onto
// itself that changes neither headers nor tier is ErrInvalidArgument, as
// in S3; an archived source must be restored.
func (s *Server) CopyObject(ctx context.Context, srcBucket, srcKey string, dst PutInput) (*blobdraftv1.ObjectRecord, error) {
	src, body, err := s.GetObject(ctx, srcBucket, srcKey, FullRange)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if srcBucket == dst.Bucket && srcKey == dst.Key && dst.Headers == nil &&
		(dst.Tier == blobdraftv1.Tier_TIER_UNSPECIFIED || dst.Tier == src.GetTier()) {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: a copy of %q onto itself must change its headers or tier", ErrInvalidArgument, srcKey),
			rpcerr.KeyField, "key")
	}
	in := dst
	in.Body, in.Size, in.ContentMD5 = body, src.GetSize(), nil
	if in.Headers == nil {
		in.Headers = src.GetHeaders()
	}
	if in.Tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		in.Tier = src.GetTier()
	}
	return s.PutObject(ctx, in)
}

// ListObjects lists a bucket (see meta.ListOptions: prefix, delimiter,
// start after, continuation, max keys).
func (s *Server) ListObjects(ctx context.Context, bucket string, opts meta.ListOptions) (*meta.ListResult, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.ListObjects(bucket, opts)
}
