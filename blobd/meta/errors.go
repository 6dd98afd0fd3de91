package meta

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Sentinel errors. Reads return them wrapped with what they are about; apply
// results carry the matching rpcerr reason instead, which ResultError turns
// back into the sentinel. Errors about a request field also carry rpcerr
// metadata (rpcerr.KeyField, rpcerr.KeyLimit, KeyPart), which
// rpcerr.MetadataOf reads.
var (
	// ErrInvalidArgument means a command or a request is malformed.
	ErrInvalidArgument = errors.New("meta: invalid argument")
	// ErrLimitExceeded means a size or count is over its limit (a key over
	// 1024 bytes, user metadata over 2 KiB, more than 10000 parts).
	ErrLimitExceeded = errors.New("meta: limit exceeded")
	// ErrServerNotFound means no volume server of that id is registered.
	ErrServerNotFound = errors.New("meta: server not found")
	// ErrVolumeNotFound means no volume of that id exists.
	ErrVolumeNotFound = errors.New("meta: volume not found")
	// ErrBucketNotFound means the bucket does not exist.
	ErrBucketNotFound = errors.New("meta: bucket not found")
	// ErrBucketExists means a bucket of that name exists; the error's
	// metadata KeyBucketOwner names its owner.
	ErrBucketExists = errors.New("meta: bucket exists")
	// ErrBucketNotEmpty means the bucket holds objects or uploads.
	ErrBucketNotEmpty = errors.New("meta: bucket not empty")
	// ErrObjectNotFound means no object exists at the key.
	ErrObjectNotFound = errors.New("meta: object not found")
	// ErrUploadNotFound means the multipart upload does not exist (or was
	// completed or aborted, or belongs to another bucket or key).
	ErrUploadNotFound = errors.New("meta: upload not found")
	// ErrPreconditionFailed means a condition of the command did not hold.
	ErrPreconditionFailed = errors.New("meta: precondition failed")
	// ErrInvalidPart means a completed part does not exist or has another
	// etag.
	ErrInvalidPart = errors.New("meta: invalid part")
	// ErrInvalidPartOrder means the completed parts are not in ascending
	// order of part number.
	ErrInvalidPartOrder = errors.New("meta: invalid part order")
	// ErrEntityTooSmall means a completed part other than the last is
	// smaller than MinPartSize.
	ErrEntityTooSmall = errors.New("meta: entity too small")
	// ErrInvalidObjectState means the object's tier does not allow the
	// command (a restore of an object that is not archived).
	ErrInvalidObjectState = errors.New("meta: invalid object state")
	// ErrNeedleTooOld means a command referenced a needle allocated longer
	// before the state machine's clock than its needle_max_age_nanos
	// allows: garbage collection may have deleted it, so the command was
	// refused (REQUEST_TIMEOUT). Writing the data again succeeds.
	ErrNeedleTooOld = errors.New("meta: needle too old to reference")
	// ErrAccessKeyNotFound means no access key of that id exists.
	ErrAccessKeyNotFound = errors.New("meta: access key not found")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("meta: closed")
	// ErrCorrupt means the database holds data this package did not write,
	// or breaks one of its invariants.
	ErrCorrupt = errors.New("meta: corrupt database")
)

// Metadata keys this package adds to rpcerr's.
const (
	// KeyPart is the part number a multipart error is about.
	KeyPart = "part"
	// KeyBucketOwner is the owner of an existing bucket (BUCKET_EXISTS).
	KeyBucketOwner = "bucket_owner"
)

// reasons pairs each apply-result reason with its sentinel.
var reasons = rpcerr.Sentinels{
	{Reason: rpcerr.InvalidArgument, Err: ErrInvalidArgument},
	{Reason: rpcerr.LimitExceeded, Err: ErrLimitExceeded},
	{Reason: rpcerr.ServerNotFound, Err: ErrServerNotFound},
	{Reason: rpcerr.VolumeNotFound, Err: ErrVolumeNotFound},
	{Reason: rpcerr.BucketNotFound, Err: ErrBucketNotFound},
	{Reason: rpcerr.BucketExists, Err: ErrBucketExists},
	{Reason: rpcerr.BucketNotEmpty, Err: ErrBucketNotEmpty},
	{Reason: rpcerr.ObjectNotFound, Err: ErrObjectNotFound},
	{Reason: rpcerr.UploadNotFound, Err: ErrUploadNotFound},
	{Reason: rpcerr.PreconditionFailed, Err: ErrPreconditionFailed},
	{Reason: rpcerr.InvalidPart, Err: ErrInvalidPart},
	{Reason: rpcerr.InvalidPartOrder, Err: ErrInvalidPartOrder},
	{Reason: rpcerr.EntityTooSmall, Err: ErrEntityTooSmall},
	{Reason: rpcerr.InvalidObjectState, Err: ErrInvalidObjectState},
	{Reason: rpcerr.AccessKeyNotFound, Err: ErrAccessKeyNotFound},
	{Reason: rpcerr.RequestTimeout, Err: ErrNeedleTooOld},
}

// ReasonOf returns the rpcerr reason an apply result uses for err (one of
// the sentinels above, possibly wrapped), or "" for any other error.
func ReasonOf(err error) rpcerr.Reason { return reasons.ReasonOf(err) }

// ResultError returns the error a CommandResult stands for: nil when it
// carries no error, else the sentinel of its reason wrapped with its message
// and annotated with its metadata (rpcerr.WithMetadata). An unknown reason
// gives a plain error naming it.
func ResultError(res *blobdraftv1.CommandResult) error {
	return reasons.Error(rpcerr.Reason(res.GetError()), res.GetErrorMessage(), res.GetErrorMetadata())
}

// failure is a deterministic apply outcome: a reason, a message and
// metadata. A command that fails has written nothing.
type failure struct {
	reason rpcerr.Reason
	msg    string
	md     map[string]string
}

func (f *failure) Error() string { return string(f.reason) + ": " + f.msg }

func fail(reason rpcerr.Reason, format string, args ...any) *failure {
	return &failure{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// invalid is an INVALID_ARGUMENT failure about field.
func invalid(field, format string, args ...any) *failure {
	return fail(rpcerr.InvalidArgument, format, args...).with(rpcerr.KeyField, field)
}

// with adds metadata key/value pairs.
func (f *failure) with(kv ...string) *failure {
	if f.md == nil {
		f.md = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.md[kv[i]] = kv[i+1]
	}
	return f
}

// failureOf turns a validation error of this package (a sentinel wrapped
// with a message and metadata) into a failure with the same reason, message
// and metadata; a *failure is returned as is.
func failureOf(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	reason, msg, md := reasons.Split(err)
	if reason == "" {
		reason = rpcerr.InvalidArgument
	}
	return &failure{reason: reason, msg: msg, md: md}
}

// StatusRules returns the sentinel-to-reason table as rules for
// rpcerr.ToStatus, for the gRPC edge of a front end.
func StatusRules() []rpcerr.Rule { return append([]rpcerr.Rule(nil), reasons...) }
