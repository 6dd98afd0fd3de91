package cached

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node/rpcerr"
)

// TestToStatus maps every error a handler can return: each sentinel, wrapped as
// handlers wrap it, gives one code and one reason.
func TestToStatus(t *testing.T) {
	owner := rpcerr.WithMetadata(fmt.Errorf("%w: n2 (127.0.0.1:1): timeout", ErrOwnerUnreachable), rpcerr.KeyOwner, "127.0.0.1:1")
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
		owner  string
	}{
		{ErrEmptyKey, codes.InvalidArgument, rpcerr.InvalidArgument, ""},
		{ErrInvalidArgument, codes.InvalidArgument, rpcerr.InvalidArgument, ""},
		{store.ErrBadOptions, codes.InvalidArgument, rpcerr.InvalidArgument, ""},
		{store.ErrTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded, ""},
		{store.ErrOutOfMemory, codes.ResourceExhausted, rpcerr.OutOfMemory, ""},
		{store.ErrNotInteger, codes.FailedPrecondition, rpcerr.NotInteger, ""},
		{store.ErrOverflow, codes.FailedPrecondition, rpcerr.Overflow, ""},
		{owner, codes.Unavailable, rpcerr.OwnerUnreachable, "127.0.0.1:1"},
		{ErrShuttingDown, codes.Unavailable, rpcerr.ShuttingDown, ""},
		{ErrNotServing, codes.Unavailable, rpcerr.NotServing, ""},
		{errors.New("anything else"), codes.Internal, rpcerr.Internal, ""},
		{context.DeadlineExceeded, codes.DeadlineExceeded, "", ""},
		{context.Canceled, codes.Canceled, "", ""},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("cached: set: %w", tc.err)} {
				info, ok := rpcerr.FromError(toStatus(err))
				if !ok || info.Code != tc.code || info.Reason != tc.reason || info.Message != err.Error() || info.Metadata[rpcerr.KeyOwner] != tc.owner {
					t.Errorf("toStatus(%v) = %+v, want %v %q owner %q", err, info, tc.code, tc.reason, tc.owner)
				}
			}
		})
	}
	relayed := rpcerr.Error(rpcerr.NotInteger, "from the owner", nil)
	if got := toStatus(relayed); rpcerr.ReasonOf(got) != rpcerr.NotInteger {
		t.Errorf("a relayed status lost its reason: %v", got)
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}
