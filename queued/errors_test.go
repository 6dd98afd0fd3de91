package queued

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/queued/store"
)

// TestToStatus maps every error a handler can return: each sentinel, as a
// handler wraps it and as the state machine reports it, gives one code and one
// reason.
func TestToStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
	}{
		{ErrInvalidArgument, codes.InvalidArgument, rpcerr.InvalidArgument},
		{ErrTooLarge, codes.ResourceExhausted, rpcerr.LimitExceeded},
		{ErrTooMany, codes.ResourceExhausted, rpcerr.LimitExceeded},
		{ErrQueueNotFound, codes.NotFound, rpcerr.QueueNotFound},
		{store.ErrQueueNotFound, codes.NotFound, rpcerr.QueueNotFound},
		{ErrQueueExists, codes.AlreadyExists, rpcerr.QueueExists},
		{ErrTopicNotFound, codes.NotFound, rpcerr.TopicNotFound},
		{store.ErrTopicNotFound, codes.NotFound, rpcerr.TopicNotFound},
		{ErrReceiptInvalid, codes.InvalidArgument, rpcerr.ReceiptInvalid},
		{ErrReceiptStale, codes.FailedPrecondition, rpcerr.ReceiptStale},
		{ErrReceiptExpired, codes.FailedPrecondition, rpcerr.ReceiptExpired},
		{ErrDeadLetterLoop, codes.FailedPrecondition, rpcerr.DeadLetterLoop},
		{ErrQueueMismatch, codes.FailedPrecondition, rpcerr.QueueMismatch},
		{ErrShuttingDown, codes.Unavailable, rpcerr.ShuttingDown},
		{raftnode.ErrShutdown, codes.Unavailable, rpcerr.ShuttingDown},
		{raftnode.ErrNoLeader, codes.Unavailable, rpcerr.NoLeader},
		{raftnode.ErrNotLeader, codes.Unavailable, rpcerr.NotLeader},
		{raftnode.ErrNoQuorum, codes.Unavailable, rpcerr.NoQuorum},
		{raftnode.ErrUnknownOutcome, codes.Unavailable, rpcerr.OutcomeUnknown},
		{fmt.Errorf("%w: %w", raftnode.ErrUnknownOutcome, raftnode.ErrShutdown), codes.Unavailable, rpcerr.OutcomeUnknown},
		{errorFromReason("bogus", "x", ""), codes.Internal, rpcerr.Internal},
		{errors.New("anything else"), codes.Internal, rpcerr.Internal},
		{context.DeadlineExceeded, codes.DeadlineExceeded, ""},
		{context.Canceled, codes.Canceled, ""},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("queued: send: %w", tc.err)} {
				info, ok := rpcerr.FromError(toStatus(err))
				if !ok || info.Code != tc.code || info.Reason != tc.reason || info.Message != err.Error() {
					t.Errorf("toStatus(%v) = %+v, want %v %q", err, info, tc.code, tc.reason)
				}
			}
		})
	}
}

// TestErrorFromReason turns every reason the state machine records into the
// sentinel with the same reason, keeping its message.
func TestErrorFromReason(t *testing.T) {
	for reason, sentinel := range reasonErrors {
		err := errorFromReason(string(reason), `queue "orders"`, "")
		if !errors.Is(err, sentinel) {
			t.Errorf("errorFromReason(%s) = %v, not %v", reason, err, sentinel)
		}
		info, _ := rpcerr.FromError(toStatus(err))
		if info.Reason != reason || info.Message != sentinel.Error()+`: queue "orders"` {
			t.Errorf("toStatus(errorFromReason(%s)) = %+v", reason, info)
		}
	}
	// The field the state machine names becomes the metadata's.
	err := errorFromReason(string(rpcerr.InvalidArgument), "no deduplication id", "deduplication_id")
	info, _ := rpcerr.FromError(toStatus(err))
	if info.Reason != rpcerr.InvalidArgument || info.Metadata[rpcerr.KeyField] != "deduplication_id" {
		t.Errorf("toStatus(errorFromReason with a field) = %+v", info)
	}
}
