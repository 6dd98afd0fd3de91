package blobd

// The object API every front end calls: the gRPC services of
// cairn.blobd.v1 (service_*.go) and the S3 API (package blobd/s3). Each
// method is safe for concurrent use, takes its deadline from ctx, and
// returns meta's sentinels (meta.ErrBucketNotFound, ...) or this package's
// (ErrBadDigest, ...), each carrying a node/rpcerr reason (ReasonOf), so a
// front end maps errors by reason, never by message text.
//
// Reads of metadata (HeadObject, GetObject's manifest, ListObjects,
// Bucket, Buckets, ListParts, ListUploads, AccessKeys) are linearizable:
// they follow the metadata Raft group's read barrier, so a listing shows
// every write acknowledged before it began.
//
// The methods live by subject: objects.go (PutObject, GetObject,
// HeadObject, DeleteObject, CopyObject, ListObjects), body.go (streaming a
// body into chunks), reader.go (the lazy object reader), multipart.go,
// buckets.go and accesskeys.go.

import (
	"io"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// PutInput describes an object (or part) to store.
type PutInput struct {
	Bucket, Key string
	// Body yields the data. With Size >= 0 it must yield exactly Size bytes
	// (fewer: ErrIncompleteBody, nothing stored; more are not read). With
	// Size -1 the data runs to EOF, up to meta.MaxObjectBytes
	// (meta.MaxPartBytes for a part). An error of Body fails the call,
	// wrapped (its reason is kept).
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

// Range selects bytes of an object: Length -1 means to the end. An Offset
// at or past the size is ErrInvalidRange (except on an empty object with
// Offset 0). A negative Offset selects the last -Offset bytes (S3's
// "bytes=-N"; the whole object when it is shorter) and ignores Length.
type Range struct {
	Offset, Length int64
}

// FullRange is the whole object.
var FullRange = Range{Offset: 0, Length: -1}
