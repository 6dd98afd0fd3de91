package gatewayd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

func TestToStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
	}{
		{fmt.Errorf("%w: routes[0].upstream: no upstream", ErrInvalidConfig), codes.InvalidArgument, rpcerr.InvalidConfig},
		{fmt.Errorf("%w: at 3", ErrConfigConflict), codes.FailedPrecondition, rpcerr.ConfigConflict},
		{fmt.Errorf("%w: %q", ErrConsumerNotFound, "x"), codes.NotFound, rpcerr.ConsumerNotFound},
		{ErrKeyNotFound, codes.NotFound, rpcerr.APIKeyNotFound},
		{ErrNoIssuerKey, codes.FailedPrecondition, rpcerr.NoIssuerKey},
		{ErrNoRegistry, codes.InvalidArgument, rpcerr.InvalidArgument},
		{ErrShuttingDown, codes.Unavailable, rpcerr.ShuttingDown},
		{errors.New("boom"), codes.Internal, rpcerr.Internal},
	} {
		st := toStatus(c.err)
		require.Equal(t, c.code, status.Code(st), "%v", c.err)
		info, ok := rpcerr.FromError(st)
		require.True(t, ok)
		require.Equal(t, c.reason, info.Reason, "%v", c.err)
	}
	require.Nil(t, toStatus(nil))
	require.Equal(t, codes.DeadlineExceeded, status.Code(toStatus(context.DeadlineExceeded)))
	// A relayed status (raftkv's) keeps its code and reason.
	relayed := rpcerr.Error(rpcerr.NoLeader, "raftkv: no leader", nil)
	require.Equal(t, relayed, toStatus(relayed))
}
