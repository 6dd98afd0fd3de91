package client

import (
	"errors"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
)

// Sentinel errors. Errors returned by the client match them with errors.Is.
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("blobd client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("blobd client: client closed")
	// ErrUnknownOutcome marks a write that failed after it may have reached
	// a server: it may or may not have been applied.
	ErrUnknownOutcome = errors.New("blobd client: outcome of write unknown")
	// ErrInvalidArgument means a request was malformed (INVALID_ARGUMENT);
	// the status metadata names the field.
	ErrInvalidArgument = errors.New("blobd client: invalid argument")
	// ErrLimitExceeded means a size or count is over its limit.
	ErrLimitExceeded = errors.New("blobd client: limit exceeded")
	// ErrBucketNotFound means the bucket does not exist.
	ErrBucketNotFound = errors.New("blobd client: bucket not found")
	// ErrBucketExists means a bucket of that name exists.
	ErrBucketExists = errors.New("blobd client: bucket exists")
	// ErrBucketNotEmpty means the bucket holds objects or uploads.
	ErrBucketNotEmpty = errors.New("blobd client: bucket not empty")
	// ErrObjectNotFound means there is no object at the key.
	ErrObjectNotFound = errors.New("blobd client: object not found")
	// ErrUploadNotFound means the multipart upload does not exist (or was
	// completed or aborted).
	ErrUploadNotFound = errors.New("blobd client: upload not found")
	// ErrPreconditionFailed means an if-match / if-none-match condition
	// did not hold.
	ErrPreconditionFailed = errors.New("blobd client: precondition failed")
	// ErrInvalidPart means a completed part does not exist or its etag differs.
	ErrInvalidPart = errors.New("blobd client: invalid part")
	// ErrInvalidPartOrder means completed parts are not in ascending order.
	ErrInvalidPartOrder = errors.New("blobd client: invalid part order")
	// ErrEntityTooSmall means a part other than the last is under 5 MiB.
	ErrEntityTooSmall = errors.New("blobd client: part too small")
	// ErrInvalidObjectState means the object's tier does not allow the call
	// (an archived object not restored, a restore of a non-archived one).
	ErrInvalidObjectState = errors.New("blobd client: invalid object state")
	// ErrAccessKeyNotFound means no access key has that id.
	ErrAccessKeyNotFound = errors.New("blobd client: access key not found")
	// ErrBadDigest means the data's MD5 differs from the Content-MD5 sent.
	ErrBadDigest = errors.New("blobd client: content MD5 mismatch")
	// ErrIncompleteBody means the body ended before its declared size.
	ErrIncompleteBody = errors.New("blobd client: incomplete body")
	// ErrInvalidRange means a range starts at or past the object's end.
	ErrInvalidRange = errors.New("blobd client: invalid range")
	// ErrNotEnoughServers means too few volume servers are up for the write;
	// nothing visible was stored.
	ErrNotEnoughServers = errors.New("blobd client: not enough volume servers up")
	// ErrDataUnavailable means no healthy copy of a chunk could be read.
	ErrDataUnavailable = errors.New("blobd client: data unavailable")
)

// errs builds every error the client returns.
var errs = clusterconn.Errors{
	Client:  "blobd client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.InvalidArgument:    ErrInvalidArgument,
		rpcerr.LimitExceeded:      ErrLimitExceeded,
		rpcerr.BucketNotFound:     ErrBucketNotFound,
		rpcerr.BucketExists:       ErrBucketExists,
		rpcerr.BucketNotEmpty:     ErrBucketNotEmpty,
		rpcerr.ObjectNotFound:     ErrObjectNotFound,
		rpcerr.UploadNotFound:     ErrUploadNotFound,
		rpcerr.PreconditionFailed: ErrPreconditionFailed,
		rpcerr.InvalidPart:        ErrInvalidPart,
		rpcerr.InvalidPartOrder:   ErrInvalidPartOrder,
		rpcerr.EntityTooSmall:     ErrEntityTooSmall,
		rpcerr.InvalidObjectState: ErrInvalidObjectState,
		rpcerr.AccessKeyNotFound:  ErrAccessKeyNotFound,
		rpcerr.BadDigest:          ErrBadDigest,
		rpcerr.IncompleteBody:     ErrIncompleteBody,
		rpcerr.InvalidRange:       ErrInvalidRange,
		rpcerr.NotEnoughServers:   ErrNotEnoughServers,
		rpcerr.DataUnavailable:    ErrDataUnavailable,
	},
	// A write refused for want of volume servers stored nothing visible.
	KnownOutcome: []rpcerr.Reason{rpcerr.NotEnoughServers},
}

// Error is the error of a failed call (see clusterconn.Error). It keeps the
// gRPC status (status.FromError returns it) and, where one applies, a
// sentinel that errors.Is matches.
type Error = clusterconn.Error

// IsUnknownOutcome reports whether err comes from a write that may have
// been applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// toError turns a gRPC call's error into an *Error; kindIdempotent and
// kindWrite calls' errors can have an unknown outcome.
func toError(op string, kind callKind, err error) error {
	return errs.Wrap(op, kind != kindRead, err)
}
