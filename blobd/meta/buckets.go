package meta

import (
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func bucketResult(b *blobdraftv1.BucketRecord) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Bucket{Bucket: b}}
}

func validTier(t blobdraftv1.Tier) bool {
	return t >= blobdraftv1.Tier_TIER_HOT && t <= blobdraftv1.Tier_TIER_ARCHIVE
}

func (a *applier) createBucket(op *blobdraftv1.CreateBucketOp) (*blobdraftv1.CommandResult, error) {
	if err := ValidateBucketName(op.GetName()); err != nil {
		return nil, failureOf(err)
	}
	if op.GetOwner() == "" {
		return nil, invalid("owner", "empty bucket owner")
	}
	tier := op.GetDefaultTier()
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = blobdraftv1.Tier_TIER_HOT
	}
	if !validTier(tier) {
		return nil, invalid("default_tier", "tier %v", tier)
	}
	if err := ValidateLifecycle(op.GetRules()); err != nil {
		return nil, failureOf(err)
	}
	cur, err := getBucket(a.tx, op.GetName())
	if err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fail(rpcerr.BucketExists, "bucket %q", op.GetName()).with(rpcerr.KeyField, "name", KeyBucketOwner, cur.GetOwner())
	}
	b := &blobdraftv1.BucketRecord{Name: op.GetName(), Owner: op.GetOwner(), CreatedUnixNanos: a.now,
		DefaultTier: tier, Rules: op.GetRules()}
	return bucketResult(b), a.put(bucketBuckets, []byte(b.Name), b)
}

// bucket returns a bucket or a BUCKET_NOT_FOUND failure.
func (a *applier) bucket(name string) (*blobdraftv1.BucketRecord, error) {
	b, err := getBucket(a.tx, name)
	if err == nil && b == nil {
		err = fail(rpcerr.BucketNotFound, "bucket %q", name).with(rpcerr.KeyField, "bucket")
	}
	return b, err
}

func (a *applier) deleteBucket(op *blobdraftv1.DeleteBucketOp) (*blobdraftv1.CommandResult, error) {
	b, err := a.bucket(op.GetName())
	if err != nil {
		return nil, err
	}
	if bucketUsed(a.tx, b.Name) {
		return nil, fail(rpcerr.BucketNotEmpty, "bucket %q holds objects or uploads", b.Name).with(rpcerr.KeyField, "name")
	}
	return bucketResult(b), a.del(bucketBuckets, []byte(b.Name))
}

func (a *applier) putLifecycle(op *blobdraftv1.PutLifecycleOp) (*blobdraftv1.CommandResult, error) {
	if err := ValidateLifecycle(op.GetRules()); err != nil {
		return nil, failureOf(err)
	}
	b, err := a.bucket(op.GetBucket())
	if err != nil {
		return nil, err
	}
	b.Rules = op.GetRules()
	return bucketResult(b), a.put(bucketBuckets, []byte(b.Name), b)
}
