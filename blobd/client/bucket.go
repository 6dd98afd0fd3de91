package client

import (
	"context"

	"google.golang.org/grpc"

	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// BucketOption sets a field of CreateBucket.
type BucketOption func(*blobdv1.CreateBucketRequest)

// WithDefaultTier sets the tier of objects written into the bucket without
// one (default hot).
func WithDefaultTier(t blobdv1.Tier) BucketOption {
	return func(r *blobdv1.CreateBucketRequest) { r.DefaultTier = t }
}

// WithOwner names the bucket's owner (default "cluster").
func WithOwner(owner string) BucketOption {
	return func(r *blobdv1.CreateBucketRequest) { r.Owner = owner }
}

// WithLifecycle sets the bucket's lifecycle rules.
func WithLifecycle(rules ...*blobdv1.LifecycleRule) BucketOption {
	return func(r *blobdv1.CreateBucketRequest) { r.Rules = rules }
}

// CreateBucket creates a bucket (ErrBucketExists when the name is taken).
func (c *Client) CreateBucket(ctx context.Context, name string, opts ...BucketOption) (*blobdv1.Bucket, error) {
	req := &blobdv1.CreateBucketRequest{Name: name}
	for _, o := range opts {
		o(req)
	}
	resp, err := call(ctx, c, "create-bucket", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.CreateBucketResponse, error) {
		return c.buckets.CreateBucket(ctx, req, co...)
	})
	return resp.GetBucket(), err
}

// DeleteBucket deletes an empty bucket (ErrBucketNotEmpty otherwise).
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	_, err := call(ctx, c, "delete-bucket", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.DeleteBucketResponse, error) {
		return c.buckets.DeleteBucket(ctx, &blobdv1.DeleteBucketRequest{Name: name}, co...)
	})
	return err
}

// Bucket returns one bucket.
func (c *Client) Bucket(ctx context.Context, name string) (*blobdv1.Bucket, error) {
	resp, err := call(ctx, c, "get-bucket", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.GetBucketResponse, error) {
		return c.buckets.GetBucket(ctx, &blobdv1.GetBucketRequest{Name: name}, co...)
	})
	return resp.GetBucket(), err
}

// Buckets lists every bucket, by name.
func (c *Client) Buckets(ctx context.Context) ([]*blobdv1.Bucket, error) {
	resp, err := call(ctx, c, "list-buckets", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListBucketsResponse, error) {
		return c.buckets.ListBuckets(ctx, &blobdv1.ListBucketsRequest{}, co...)
	})
	return resp.GetBuckets(), err
}

// PutLifecycle replaces a bucket's lifecycle rules (none: no rules).
func (c *Client) PutLifecycle(ctx context.Context, bucket string, rules ...*blobdv1.LifecycleRule) error {
	_, err := call(ctx, c, "put-lifecycle", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.PutLifecycleResponse, error) {
		return c.buckets.PutLifecycle(ctx, &blobdv1.PutLifecycleRequest{Bucket: bucket, Rules: rules}, co...)
	})
	return err
}
