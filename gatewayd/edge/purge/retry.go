package purge

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kvclient "cairn.dev/cairn/raftkv/client"
)

// retryable reports whether a raftkv call that failed with err may succeed
// if made again later: raftkv unavailable, no leader, a timed-out call, an
// unknown outcome (the callers read back before writing again). A closed
// client, or a request raftkv refused as malformed or not permitted, will
// fail the same way again.
func retryable(err error) bool {
	if errors.Is(err, kvclient.ErrClosed) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrInvalidSpec) {
		return false
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented, codes.OutOfRange:
		return false
	}
	return true
}
