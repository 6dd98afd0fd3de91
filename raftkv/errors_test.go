package raftkv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/raftkv/mvcc"
)

// TestToStatus maps every error a handler can return: each sentinel, wrapped as
// handlers wrap it, gives one code, one reason and the metadata it carried.
func TestToStatus(t *testing.T) {
	limit := overLimit(ErrValueTooLarge, "put.value", "bytes", 10, "max_value_bytes", 4)
	relayed := rpcerr.Error(rpcerr.LeaseNotFound, "from the leader", nil)
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
		md     map[string]string
	}{
		{ErrEmptyKey, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{ErrBadRange, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{ErrInvalidArgument, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{ErrBadTTL, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{ErrTooManyOps, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{mvcc.ErrDuplicateKey, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{mvcc.ErrEmptyKey, codes.InvalidArgument, rpcerr.InvalidArgument, nil},
		{ErrKeyTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded, nil},
		{ErrValueTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded, nil},
		{ErrRequestTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded, nil},
		{limit, codes.ResourceExhausted, rpcerr.LimitExceeded, map[string]string{
			rpcerr.KeyField: "put.value", rpcerr.KeySize: "10", rpcerr.KeyLimit: "4", rpcerr.KeyLimitName: "max_value_bytes"}},
		{mvcc.ErrCompacted, codes.OutOfRange, rpcerr.Compacted, nil},
		{mvcc.ErrFutureRevision, codes.OutOfRange, rpcerr.FutureRevision, nil},
		{mvcc.ErrLeaseNotFound, codes.NotFound, rpcerr.LeaseNotFound, nil},
		{mvcc.ErrLeaseExists, codes.AlreadyExists, rpcerr.LeaseExists, nil},
		{ErrShuttingDown, codes.Unavailable, rpcerr.ShuttingDown, nil},
		{raftnode.ErrShutdown, codes.Unavailable, rpcerr.ShuttingDown, nil},
		{raftnode.ErrNoLeader, codes.Unavailable, rpcerr.NoLeader, nil},
		{raftnode.ErrNotLeader, codes.Unavailable, rpcerr.NotLeader, nil},
		{raftnode.ErrNoQuorum, codes.Unavailable, rpcerr.NoQuorum, nil},
		{raftnode.ErrUnknownOutcome, codes.Unavailable, rpcerr.OutcomeUnknown, nil},
		{fmt.Errorf("%w: %w", raftnode.ErrUnknownOutcome, raftnode.ErrShutdown), codes.Unavailable, rpcerr.OutcomeUnknown, nil},
		{raftnode.ErrUnknownMember, codes.NotFound, rpcerr.UnknownMember, nil},
		{relayed, codes.NotFound, rpcerr.LeaseNotFound, nil},
		{mvcc.ErrCorrupt, codes.Internal, rpcerr.Internal, nil},
		{errors.New("anything else"), codes.Internal, rpcerr.Internal, nil},
		{context.DeadlineExceeded, codes.DeadlineExceeded, "", nil},
		{context.Canceled, codes.Canceled, "", nil},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("raftkv: put: %w", tc.err)} {
				got := toStatus(err)
				info, ok := rpcerr.FromError(got)
				if !ok || info.Code != tc.code || info.Reason != tc.reason || !maps.Equal(info.Metadata, tc.md) {
					t.Errorf("toStatus(%v) = %+v, want %v %q %v", err, info, tc.code, tc.reason, tc.md)
				}
				if _, isStatus := status.FromError(tc.err); !isStatus && info.Message != err.Error() {
					t.Errorf("message %q, want %q", info.Message, err.Error())
				}
			}
		})
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}
