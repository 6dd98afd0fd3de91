package blobd

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// CreateMultipartUpload starts an upload of bucket/key with headers h and
// tier (unspecified: the bucket's default) and returns its record (the id).
func (s *Server) CreateMultipartUpload(ctx context.Context, bucket, key string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier) (*blobdraftv1.UploadRecord, error) {
	if err := meta.ValidateBucketName(bucket); err != nil {
		return nil, err
	}
	if err := meta.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := meta.ValidateHeaders(h); err != nil {
		return nil, err
	}
	if err := checkTier(tier); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, meta.CreateMultipartUpload(bucket, key, h, tier))
	if err != nil {
		return nil, err
	}
	return res.GetUpload(), nil
}

// UploadPart stores part number of an upload from in.Body/in.Size (and
// in.ContentMD5), as PutObject stores an object (in the upload's tier; a
// part is at most meta.MaxPartBytes), replacing an earlier part of that
// number; in.Bucket/in.Key name the upload's object. in.Headers, in.Tier
// and the conditions are not used. The part's etag is the hex MD5 of its
// data.
func (s *Server) UploadPart(ctx context.Context, uploadID string, number int32, in PutInput) (*blobdraftv1.PartRecord, error) {
	if number < 1 || number > meta.MaxParts {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: part number %d not in 1..%d", ErrInvalidArgument, number, meta.MaxParts),
			rpcerr.KeyField, "part_number", rpcerr.KeyLimit, strconv.Itoa(meta.MaxParts))
	}
	in.Headers, in.Tier = nil, blobdraftv1.Tier_TIER_UNSPECIFIED
	if err := checkPutInput(in, meta.MaxPartBytes, "part_size"); err != nil {
		return nil, err
	}
	u, err := s.uploadForWrite(ctx, in.Bucket, in.Key, uploadID)
	if err != nil {
		return nil, err
	}
	body, err := s.storeBody(ctx, u.GetTier(), in.Body, in.Size, meta.MaxPartBytes, "part_size")
	if err != nil {
		return nil, err
	}
	if err := body.checkDigest(in.ContentMD5); err != nil {
		s.discardChunks(ctx, body.chunks)
		return nil, err
	}
	p := &blobdraftv1.PartRecord{Number: number, Size: body.size, Etag: body.etag(), Chunks: body.chunks}
	res, err := s.propose(ctx, meta.PutPart(in.Bucket, in.Key, uploadID, p))
	s.afterCommit(ctx, res, err, body.chunks)
	if err != nil {
		return nil, err
	}
	return res.GetPart(), nil
}

// uploadForWrite returns the upload a part goes to: the local record when
// there is one (its tier never changes; the commit checks that the upload
// is still in progress), else the record after a read barrier.
func (s *Server) uploadForWrite(ctx context.Context, bucket, key, id string) (*blobdraftv1.UploadRecord, error) {
	u, err := s.meta.Upload(bucket, key, id)
	if !errors.Is(err, meta.ErrUploadNotFound) && !errors.Is(err, meta.ErrBucketNotFound) {
		return u, err
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Upload(bucket, key, id)
}

// CompleteMultipartUpload assembles the parts into the object (S3's rules;
// see meta's package doc: order, etags, minimum sizes, then the conditions
// ifMatch and ifNoneMatch) and returns its record. The parts not listed
// and a replaced object have their needles deleted.
func (s *Server) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []*blobdraftv1.CompletedPart, ifMatch, ifNoneMatch string) (*blobdraftv1.ObjectRecord, error) {
	if err := meta.ValidateKey(key); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, meta.CompleteMultipartUpload(bucket, key, uploadID, parts, ifMatch, ifNoneMatch))
	if err != nil {
		return nil, err
	}
	s.freeNeedles(ctx, res.GetFreed())
	return res.GetObject(), nil
}

// AbortMultipartUpload drops an upload and its parts' needles.
func (s *Server) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := meta.ValidateKey(key); err != nil {
		return err
	}
	res, err := s.propose(ctx, meta.AbortMultipartUpload(bucket, key, uploadID))
	if err != nil {
		return err
	}
	s.freeNeedles(ctx, res.GetFreed())
	return nil
}

// ListParts lists up to limit parts (≤ 0: meta.MaxListKeys) of an upload
// with numbers above marker, and whether more follow.
func (s *Server) ListParts(ctx context.Context, bucket, key, uploadID string, marker int32, limit int) (parts []*blobdraftv1.PartRecord, truncated bool, err error) {
	if err := s.barrier(ctx); err != nil {
		return nil, false, err
	}
	return s.meta.ListParts(bucket, key, uploadID, marker, limit)
}

// ListUploads lists a bucket's uploads in progress.
func (s *Server) ListUploads(ctx context.Context, bucket string, opts meta.UploadListOptions) (uploads []*blobdraftv1.UploadRecord, truncated bool, err error) {
	if err := s.barrier(ctx); err != nil {
		return nil, false, err
	}
	return s.meta.ListUploads(bucket, opts)
}
