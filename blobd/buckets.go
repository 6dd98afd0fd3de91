package blobd

import (
	"context"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// CreateBucket creates a bucket owned by owner (the access key's
// principal) with default tier tier (unspecified: hot). An existing name is
// meta.ErrBucketExists, whose metadata names the owner (meta.KeyBucketOwner).
func (s *Server) CreateBucket(ctx context.Context, name, owner string, tier blobdraftv1.Tier) (*blobdraftv1.BucketRecord, error) {
	if err := meta.ValidateBucketName(name); err != nil {
		return nil, err
	}
	if err := checkTier(tier); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, meta.CreateBucket(name, owner, tier, nil))
	if err != nil {
		return nil, err
	}
	return res.GetBucket(), nil
}

// DeleteBucket deletes an empty bucket (meta.ErrBucketNotEmpty when it
// holds objects or uploads in progress).
func (s *Server) DeleteBucket(ctx context.Context, name string) error {
	_, err := s.propose(ctx, meta.DeleteBucket(name))
	return err
}

// Bucket returns one bucket's record.
func (s *Server) Bucket(ctx context.Context, name string) (*blobdraftv1.BucketRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Bucket(name)
}

// Buckets lists every bucket, by name.
func (s *Server) Buckets(ctx context.Context) ([]*blobdraftv1.BucketRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Buckets()
}

// PutLifecycle replaces a bucket's lifecycle rules (nil removes them);
// the rules must pass meta.ValidateLifecycle.
func (s *Server) PutLifecycle(ctx context.Context, bucket string, rules []*blobdraftv1.LifecycleRule) error {
	if err := meta.ValidateLifecycle(rules); err != nil {
		return err
	}
	_, err := s.propose(ctx, meta.PutLifecycle(bucket, rules))
	return err
}
