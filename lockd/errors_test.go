package lockd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
)

// TestToStatus maps every error a handler can return: each sentinel, wrapped as
// handlers wrap it, gives one code and one reason.
func TestToStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
	}{
		{ErrInvalidArgument, codes.InvalidArgument, rpcerr.InvalidArgument},
		{ErrBadTTL, codes.InvalidArgument, rpcerr.InvalidArgument},
		{ErrTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded},
		{ErrTooMany, codes.ResourceExhausted, rpcerr.LimitExceeded},
		{ErrSessionNotFound, codes.NotFound, rpcerr.SessionNotFound},
		{errorFromCode(codeSessionNotFound, "session 7"), codes.NotFound, rpcerr.SessionNotFound},
		{ErrNotHolder, codes.PermissionDenied, rpcerr.NotHolder},
		{errorFromCode(codeNotHolder, "lock x"), codes.PermissionDenied, rpcerr.NotHolder},
		{ErrNotHeld, codes.FailedPrecondition, rpcerr.NotHeld},
		{errorFromCode(codeNotHeld, "lock x"), codes.FailedPrecondition, rpcerr.NotHeld},
		{ErrPermitsMismatch, codes.FailedPrecondition, rpcerr.PermitsMismatch},
		{errorFromCode(codePermitsMismatch, "sem s"), codes.FailedPrecondition, rpcerr.PermitsMismatch},
		{ErrModeConflict, codes.FailedPrecondition, rpcerr.ModeConflict},
		{errorFromCode(codeModeConflict, "lock x"), codes.FailedPrecondition, rpcerr.ModeConflict},
		{ErrWaitTimeout, codes.DeadlineExceeded, rpcerr.WaitTimeout},
		{ErrWaitEnded, codes.Aborted, rpcerr.WaitEnded},
		{ErrObserverLagged, codes.Aborted, rpcerr.ObserverLagged},
		{ErrShuttingDown, codes.Unavailable, rpcerr.ShuttingDown},
		{raftnode.ErrShutdown, codes.Unavailable, rpcerr.ShuttingDown},
		{raftnode.ErrNoLeader, codes.Unavailable, rpcerr.NoLeader},
		{raftnode.ErrNotLeader, codes.Unavailable, rpcerr.NotLeader},
		{raftnode.ErrNoQuorum, codes.Unavailable, rpcerr.NoQuorum},
		{raftnode.ErrUnknownOutcome, codes.Unavailable, rpcerr.OutcomeUnknown},
		{fmt.Errorf("%w: %w", raftnode.ErrUnknownOutcome, raftnode.ErrNoLeader), codes.Unavailable, rpcerr.OutcomeUnknown},
		{raftnode.ErrUnknownMember, codes.NotFound, rpcerr.UnknownMember},
		{errorFromCode("bogus", "x"), codes.Internal, rpcerr.Internal},
		{errors.New("anything else"), codes.Internal, rpcerr.Internal},
		{context.DeadlineExceeded, codes.DeadlineExceeded, ""},
		{context.Canceled, codes.Canceled, ""},
		{rpcerr.Error(rpcerr.WaitEnded, "relayed", nil), codes.Aborted, rpcerr.WaitEnded},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("lockd: acquire: %w", tc.err)} {
				info, ok := rpcerr.FromError(toStatus(err))
				if !ok || info.Code != tc.code || info.Reason != tc.reason || (info.Message != err.Error() && tc.reason != rpcerr.WaitEnded) {
					t.Errorf("toStatus(%v) = %+v, want %v %q", err, info, tc.code, tc.reason)
				}
			}
		})
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}
