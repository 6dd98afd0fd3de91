package raftkv

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/raftkv/mvcc"
)

// Errors of raftkv. Storage outcomes (compacted, lease not found, …) come from the
// mvcc package and group errors (no leader, …) from raftnode; toStatus maps them all.
var (
	// ErrEmptyKey means a request named no key.
	ErrEmptyKey = errors.New("raftkv: key is empty")
	// ErrKeyTooLarge means a key exceeds max_key_bytes.
	ErrKeyTooLarge = errors.New("raftkv: key too large")
	// ErrValueTooLarge means a value exceeds max_value_bytes.
	ErrValueTooLarge = errors.New("raftkv: value too large")
	// ErrRequestTooLarge means an encoded write exceeds max_request_bytes.
	ErrRequestTooLarge = errors.New("raftkv: request too large")
	// ErrTooManyOps means a txn has more compares or ops than max_txn_ops.
	ErrTooManyOps = errors.New("raftkv: too many operations in txn")
	// ErrBadRange means range_end does not follow key.
	ErrBadRange = errors.New("raftkv: bad range")
	// ErrInvalidArgument covers other malformed requests.
	ErrInvalidArgument = errors.New("raftkv: invalid argument")
	// ErrBadTTL means a lease TTL outside [1, max_lease_ttl].
	ErrBadTTL = errors.New("raftkv: lease ttl out of range")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("raftkv: server is shutting down")
)

// toStatus is the one place where raftkv, mvcc and raftnode errors become gRPC
// status codes. Context errors pass through with their own codes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrEmptyKey), errors.Is(err, ErrBadRange), errors.Is(err, ErrInvalidArgument),
		errors.Is(err, ErrBadTTL), errors.Is(err, ErrTooManyOps), errors.Is(err, mvcc.ErrDuplicateKey),
		errors.Is(err, raftnode.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrKeyTooLarge), errors.Is(err, ErrValueTooLarge), errors.Is(err, ErrRequestTooLarge):
		code = codes.ResourceExhausted
	case errors.Is(err, mvcc.ErrCompacted), errors.Is(err, mvcc.ErrFutureRevision):
		code = codes.OutOfRange
	case errors.Is(err, mvcc.ErrLeaseNotFound), errors.Is(err, raftnode.ErrUnknownMember):
		code = codes.NotFound
	case errors.Is(err, mvcc.ErrLeaseExists):
		code = codes.AlreadyExists
	case errors.Is(err, raftnode.ErrNoLeader), errors.Is(err, raftnode.ErrNotLeader),
		errors.Is(err, raftnode.ErrShutdown), errors.Is(err, ErrShuttingDown):
		code = codes.Unavailable
	case errors.Is(err, raftnode.ErrUnknownOutcome):
		// The write may or may not have been applied; Unavailable tells clients the
		// group could not confirm it, and the message says the outcome is unknown.
		code = codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}
