package purge

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// retryable reports whether a raftkv call that failed with err may succeed
// if made again later: raftkv unavailable, no leader, a timed-out call, an
// unknown outcome (the callers read back before writing again), a read at
// a revision raftkv has compacted since (the callers read afresh). A closed
// client, or a request raftkv refused as malformed or not permitted, will
// fail the same way again.
func retryable(err error) bool {
	if errors.Is(err, kvclient.ErrCompacted) {
		return true // read again at the current revision
	}
	if errors.Is(err, kvclient.ErrClosed) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrInvalidSpec) {
		return false
	}
	if rpcerr.ReasonOf(err) == rpcerr.LimitExceeded {
		return false // a key or value over raftkv's limits stays over them
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented, codes.OutOfRange:
		return false
	}
	return true
}
