package blobd

// This file is the object API every front end calls: the gRPC services of
// cairn.blobd.v1 (service_*.go) and the S3 API (package blobd/s3). Each
// method is safe for concurrent use, takes its deadline from ctx, and
// returns meta's sentinels (meta.ErrBucketNotFound, ...) or this package's
// (ErrBadDigest, ...), each carrying a node/rpcerr reason (ReasonOf), so a
// front end maps errors by reason, never by message text.
//
// Reads of metadata (HeadObject, GetObject's manifest, ListObjects,
// Buckets, ListParts, ListUploads) are linearizable: they follow the
// metadata Raft group's read barrier, so a listing shows every write
// acknowledged before it began.

import (
	"context"
	"errors"
	"io"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// errNotBuilt marks API methods whose implementation has not landed yet.
var errNotBuilt = errors.New("blobd: not built yet")

// PutInput describes an object (or part) to store.
type PutInput struct {
	Bucket, Key string
	// Body yields the data. With Size >= 0 it must yield exactly Size bytes
	// (fewer: ErrIncompleteBody, nothing stored; more are not read). With
	// Size -1 the data runs to EOF, up to meta.MaxObjectBytes.
	Body io.Reader
	Size int64
	// Headers are the stored standard headers and user metadata.
	Headers *blobdraftv1.ObjectHeaders
	// Tier is the storage class; TIER_UNSPECIFIED takes the bucket's default.
	Tier blobdraftv1.Tier
	// ContentMD5, when set (16 bytes), must equal the MD5 of the data
	// (ErrBadDigest otherwise, nothing stored).
	ContentMD5 []byte
	// IfMatch / IfNoneMatch are the conditions of the commit (S3's
	// conditional writes): IfNoneMatch "*" fails when an object exists.
	IfMatch, IfNoneMatch string
}

// PutObject streams in.Body into chunks of Config.ChunkBytes, writes each
// chunk to Config.Replicas volume servers (hot) or as erasure-coded shards
// (cool, archive) and fsyncs them there, then commits the manifest through
// Raft; only then does it return the object's record (version, etag: the
// hex MD5 of the data). Memory stays bounded by a few chunks whatever the
// size. A failure leaves no visible object and no partial data: the
// needles written are garbage the collector removes. An existing object at
// the key is replaced atomically and its needles freed.
func (s *Server) PutObject(ctx context.Context, in PutInput) (*blobdraftv1.ObjectRecord, error) {
	return nil, errNotBuilt
}

// Range selects bytes of an object: Length -1 means to the end. An Offset
// at or past the size is ErrInvalidRange (except on an empty object with
// Offset 0).
type Range struct {
	Offset, Length int64
}

// FullRange is the whole object.
var FullRange = Range{Offset: 0, Length: -1}

// GetObject returns the object's record and a reader of the selected bytes.
// The reader fetches chunks lazily from any healthy copy (another replica,
// or the shards a decode needs, when one fails its checksum or its server
// is down); a chunk that cannot be read correctly from anywhere fails the
// read with ErrDataUnavailable, never returns wrong bytes. The caller
// checks conditions on the record first and must Close the reader. An
// archived object not restored is ErrInvalidObjectState.
func (s *Server) GetObject(ctx context.Context, bucket, key string, r Range) (*blobdraftv1.ObjectRecord, io.ReadCloser, error) {
	return nil, nil, errNotBuilt
}

// HeadObject returns the object's record.
func (s *Server) HeadObject(ctx context.Context, bucket, key string) (*blobdraftv1.ObjectRecord, error) {
	return nil, errNotBuilt
}

// DeleteObject removes the object (idempotent: deleted says whether there
// was one) and deletes its needles from their volumes.
func (s *Server) DeleteObject(ctx context.Context, bucket, key string) (deleted bool, err error) {
	return false, errNotBuilt
}

// CopyObject copies src to dst.Bucket/dst.Key, server-side: dst.Body and
// dst.Size are ignored; dst.Headers nil keeps the source's headers (S3's
// COPY directive), non-nil replaces them (REPLACE). dst.Tier unspecified
// keeps the source's tier.
func (s *Server) CopyObject(ctx context.Context, srcBucket, srcKey string, dst PutInput) (*blobdraftv1.ObjectRecord, error) {
	return nil, errNotBuilt
}

// ListObjects lists a bucket (see meta.ListOptions: prefix, delimiter,
// start after, continuation, max keys).
func (s *Server) ListObjects(ctx context.Context, bucket string, opts meta.ListOptions) (*meta.ListResult, error) {
	return nil, errNotBuilt
}

// CreateBucket creates a bucket owned by owner (the access key's principal).
func (s *Server) CreateBucket(ctx context.Context, name, owner string, tier blobdraftv1.Tier) (*blobdraftv1.BucketRecord, error) {
	return nil, errNotBuilt
}

// DeleteBucket deletes an empty bucket.
func (s *Server) DeleteBucket(ctx context.Context, name string) error {
	return errNotBuilt
}

// Bucket returns one bucket's record.
func (s *Server) Bucket(ctx context.Context, name string) (*blobdraftv1.BucketRecord, error) {
	return nil, errNotBuilt
}

// Buckets lists every bucket, by name.
func (s *Server) Buckets(ctx context.Context) ([]*blobdraftv1.BucketRecord, error) {
	return nil, errNotBuilt
}

// PutLifecycle replaces a bucket's lifecycle rules (nil removes them).
func (s *Server) PutLifecycle(ctx context.Context, bucket string, rules []*blobdraftv1.LifecycleRule) error {
	return errNotBuilt
}

// CreateMultipartUpload starts an upload and returns its record (the id).
func (s *Server) CreateMultipartUpload(ctx context.Context, bucket, key string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier) (*blobdraftv1.UploadRecord, error) {
	return nil, errNotBuilt
}

// UploadPart stores part number of an upload from in.Body/in.Size (and
// in.ContentMD5), as PutObject stores an object, replacing an earlier part
// of that number; in.Bucket/in.Key name the upload's object.
func (s *Server) UploadPart(ctx context.Context, uploadID string, number int32, in PutInput) (*blobdraftv1.PartRecord, error) {
	return nil, errNotBuilt
}

// CompleteMultipartUpload assembles the parts into the object (S3's rules;
// see meta's package doc) and returns its record.
func (s *Server) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []*blobdraftv1.CompletedPart, ifMatch, ifNoneMatch string) (*blobdraftv1.ObjectRecord, error) {
	return nil, errNotBuilt
}

// AbortMultipartUpload drops an upload and its parts' needles.
func (s *Server) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	return errNotBuilt
}

// ListParts lists an upload's parts with numbers above marker.
func (s *Server) ListParts(ctx context.Context, bucket, key, uploadID string, marker int32, limit int) (parts []*blobdraftv1.PartRecord, truncated bool, err error) {
	return nil, false, errNotBuilt
}

// ListUploads lists a bucket's uploads in progress.
func (s *Server) ListUploads(ctx context.Context, bucket string, opts meta.UploadListOptions) (uploads []*blobdraftv1.UploadRecord, truncated bool, err error) {
	return nil, false, errNotBuilt
}

// AccessKey returns an access key from the metadata (for SigV4); unknown
// ids are meta.ErrAccessKeyNotFound.
func (s *Server) AccessKey(ctx context.Context, id string) (*blobdraftv1.AccessKeyRecord, error) {
	return nil, errNotBuilt
}

// CreateAccessKey makes a new key pair for principal (random id and secret).
func (s *Server) CreateAccessKey(ctx context.Context, principal string) (*blobdraftv1.AccessKeyRecord, error) {
	return nil, errNotBuilt
}

// AccessKeys lists the access keys (secrets included: admin only).
func (s *Server) AccessKeys(ctx context.Context) ([]*blobdraftv1.AccessKeyRecord, error) {
	return nil, errNotBuilt
}

// DeleteAccessKey deletes one.
func (s *Server) DeleteAccessKey(ctx context.Context, id string) error {
	return errNotBuilt
}
