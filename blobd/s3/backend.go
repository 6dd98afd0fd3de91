package s3

import (
	"context"
	"fmt"
	"io"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/node/sigv4"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Backend is the object API the S3 front end serves: the methods of
// *blobd.Server it calls, with their contracts (blobd/api.go). Its errors
// carry rpcerr reasons (blobd.ReasonOf), which toError maps to S3 codes.
// Tests serve the HTTP layer over an in-memory Backend.
type Backend interface {
	CreateBucket(ctx context.Context, name, owner string, tier blobdraftv1.Tier) (*blobdraftv1.BucketRecord, error)
	DeleteBucket(ctx context.Context, name string) error
	Bucket(ctx context.Context, name string) (*blobdraftv1.BucketRecord, error)
	Buckets(ctx context.Context) ([]*blobdraftv1.BucketRecord, error)
	PutLifecycle(ctx context.Context, bucket string, rules []*blobdraftv1.LifecycleRule) error

	PutObject(ctx context.Context, in blobd.PutInput) (*blobdraftv1.ObjectRecord, error)
	GetObject(ctx context.Context, bucket, key string, r blobd.Range) (*blobdraftv1.ObjectRecord, io.ReadCloser, error)
	HeadObject(ctx context.Context, bucket, key string) (*blobdraftv1.ObjectRecord, error)
	DeleteObject(ctx context.Context, bucket, key string) (deleted bool, err error)
	CopyObject(ctx context.Context, srcBucket, srcKey string, dst blobd.PutInput) (*blobdraftv1.ObjectRecord, error)
	ListObjects(ctx context.Context, bucket string, opts meta.ListOptions) (*meta.ListResult, error)
	RestoreObject(ctx context.Context, bucket, key string, days int32) (*blobdraftv1.ObjectRecord, error)

	CreateMultipartUpload(ctx context.Context, bucket, key string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier) (*blobdraftv1.UploadRecord, error)
	UploadPart(ctx context.Context, uploadID string, number int32, in blobd.PutInput) (*blobdraftv1.PartRecord, error)
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []*blobdraftv1.CompletedPart, ifMatch, ifNoneMatch string) (*blobdraftv1.ObjectRecord, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	ListParts(ctx context.Context, bucket, key, uploadID string, marker int32, limit int) (parts []*blobdraftv1.PartRecord, truncated bool, err error)
	ListUploads(ctx context.Context, bucket string, opts meta.UploadListOptions) (uploads []*blobdraftv1.UploadRecord, truncated bool, err error)

	AccessKey(ctx context.Context, id string) (*blobdraftv1.AccessKeyRecord, error)
}

var _ Backend = (*blobd.Server)(nil)

// keyring finds the credential of an access key: the bootstrap keys of the
// configuration first, then the keys blobd keeps in its metadata (created
// through its AdminService), of which disabled ones are refused.
type keyring struct {
	static  sigv4.StaticCredentials
	backend Backend
}

// Lookup implements sigv4.Credentials.
func (k keyring) Lookup(ctx context.Context, id string) (sigv4.Credential, error) {
	if c, err := k.static.Lookup(ctx, id); err == nil {
		return c, nil
	}
	rec, err := k.backend.AccessKey(ctx, id)
	if blobd.ReasonOf(err) == rpcerr.AccessKeyNotFound {
		return sigv4.Credential{}, fmt.Errorf("%w: %q", sigv4.ErrUnknownAccessKey, id)
	}
	if err != nil {
		return sigv4.Credential{}, err
	}
	if !rec.GetEnabled() {
		return sigv4.Credential{}, fmt.Errorf("%w: %q is disabled", sigv4.ErrUnknownAccessKey, id)
	}
	return sigv4.Credential{AccessKeyID: id, SecretAccessKey: rec.GetSecret(), Principal: rec.GetPrincipal()}, nil
}
