package client

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

func TestToError(t *testing.T) {
	for _, tc := range []struct {
		kind     callKind
		err      error
		sentinel error
		unknown  bool
	}{
		{kindWrite, rpcerr.Error(rpcerr.SessionNotFound, "x", nil), ErrSessionNotFound, false},
		{kindWrite, rpcerr.Error(rpcerr.NotHolder, "x", nil), ErrNotHolder, false},
		{kindWrite, rpcerr.Error(rpcerr.NotHeld, "x", nil), ErrNotHeld, false},
		{kindWrite, rpcerr.Error(rpcerr.PermitsMismatch, "x", nil), ErrNotHeld, false},
		{kindIdempotent, rpcerr.Error(rpcerr.ModeConflict, "x", nil), ErrNotHeld, false},
		// A blocked acquire the server timed out was not granted.
		{kindIdempotent, rpcerr.Error(rpcerr.WaitTimeout, "x", nil), nil, false},
		{kindWrite, rpcerr.Error(rpcerr.WaitTimeout, "x", nil), nil, false},
		{kindWrite, rpcerr.Error(rpcerr.NotLeader, "x", nil), nil, false},
		{kindWrite, rpcerr.Error(rpcerr.NotSent, "x", nil), nil, false},
		{kindWrite, rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), nil, true},
		{kindIdempotent, status.Error(codes.Unavailable, "x"), nil, true},
		{kindIdempotent, context.DeadlineExceeded, nil, true},
		{kindWrite, status.Error(codes.Canceled, "x"), nil, true},
		{kindRead, status.Error(codes.Unavailable, "x"), nil, false},
		{kindRead, rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), nil, false},
	} {
		err := toError("acquire", tc.kind, tc.err)
		if tc.sentinel != nil {
			require.ErrorIs(t, err, tc.sentinel)
		}
		require.Equal(t, tc.unknown, IsUnknownOutcome(err), "%v (kind %d)", err, tc.kind)
		want, _ := rpcerr.FromError(tc.err) // a context error's code too
		require.Equal(t, want.Code, status.Code(err))
	}
}

func TestLocalErrors(t *testing.T) {
	err := invalid("", "name must not be empty")
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.EqualError(t, err, "lockd client: validate: InvalidArgument: name must not be empty")
	require.False(t, IsUnknownOutcome(err))

	err = errs.Local("keep-alive", sessionLost{})
	require.ErrorIs(t, err, ErrSessionLost)
	require.ErrorIs(t, err, ErrSessionNotFound)
	require.EqualError(t, err, "lockd client: keep-alive: lockd client: session lost")
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, "keep-alive", e.Op)
}
