package blobd

import (
	"context"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// bucketService serves cairn.blobd.v1.BucketService over the object API.
type bucketService struct {
	blobdv1.UnimplementedBucketServiceServer
	s *Server
}

func validateCreateBucket(req *blobdv1.CreateBucketRequest) error {
	if err := validBucket("name", req.GetName()); err != nil {
		return err
	}
	if err := validTier("default_tier", req.GetDefaultTier(), true); err != nil {
		return err
	}
	if len(req.GetOwner()) > 256 {
		return invalid("owner", "is %d bytes, the most is 256", len(req.GetOwner()))
	}
	return validLifecycle("rules", req.GetRules())
}

func (h *bucketService) CreateBucket(ctx context.Context, req *blobdv1.CreateBucketRequest) (*blobdv1.CreateBucketResponse, error) {
	if err := validateCreateBucket(req); err != nil {
		return nil, toStatus(err)
	}
	owner := req.GetOwner()
	if owner == "" {
		owner = DefaultOwner
	}
	b, err := h.s.CreateBucket(ctx, req.GetName(), owner, blobdraftv1.Tier(req.GetDefaultTier()))
	if err != nil {
		return nil, toStatus(err)
	}
	if len(req.GetRules()) > 0 {
		if err := h.s.PutLifecycle(ctx, req.GetName(), rulesRecord(req.GetRules())); err != nil {
			return nil, toStatus(err)
		}
		b.Rules = rulesRecord(req.GetRules())
	}
	return &blobdv1.CreateBucketResponse{Header: h.s.header(0), Bucket: bucketProto(b)}, nil
}

func (h *bucketService) DeleteBucket(ctx context.Context, req *blobdv1.DeleteBucketRequest) (*blobdv1.DeleteBucketResponse, error) {
	if err := validBucket("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := h.s.DeleteBucket(ctx, req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.DeleteBucketResponse{Header: h.s.header(0)}, nil
}

func (h *bucketService) GetBucket(ctx context.Context, req *blobdv1.GetBucketRequest) (*blobdv1.GetBucketResponse, error) {
	if err := validBucket("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	b, err := h.s.Bucket(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.GetBucketResponse{Header: h.s.header(0), Bucket: bucketProto(b)}, nil
}

func (h *bucketService) ListBuckets(ctx context.Context, _ *blobdv1.ListBucketsRequest) (*blobdv1.ListBucketsResponse, error) {
	bs, err := h.s.Buckets(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*blobdv1.Bucket, len(bs))
	for i, b := range bs {
		out[i] = bucketProto(b)
	}
	return &blobdv1.ListBucketsResponse{Header: h.s.header(0), Buckets: out}, nil
}

func (h *bucketService) PutLifecycle(ctx context.Context, req *blobdv1.PutLifecycleRequest) (*blobdv1.PutLifecycleResponse, error) {
	if err := validBucket("bucket", req.GetBucket()); err != nil {
		return nil, toStatus(err)
	}
	if err := validLifecycle("rules", req.GetRules()); err != nil {
		return nil, toStatus(err)
	}
	if err := h.s.PutLifecycle(ctx, req.GetBucket(), rulesRecord(req.GetRules())); err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.PutLifecycleResponse{Header: h.s.header(0)}, nil
}
