package client

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func TestToErrorByReason(t *testing.T) {
	for reason, sentinel := range errs.Sentinels {
		err := toError("send", kindWrite, rpcerr.Error(reason, "the server's words", nil))
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: %v does not match %v", reason, err, sentinel)
		}
		if status.Code(err) != reason.Code() || IsUnknownOutcome(err) {
			t.Errorf("%s: code %v, unknown %v", reason, status.Code(err), IsUnknownOutcome(err))
		}
	}
}

func TestToErrorOutcome(t *testing.T) {
	for _, tc := range []struct {
		err     error
		kind    callKind
		unknown bool
	}{
		{rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), kindWrite, true},
		{rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), kindRead, false},
		{rpcerr.Error(rpcerr.NoLeader, "x", nil), kindWrite, false},
		{rpcerr.Error(rpcerr.NotSent, "x", nil), kindWrite, false},
		{status.Error(codes.Unavailable, "connection reset"), kindWrite, true},
		{context.DeadlineExceeded, kindIdempotent, true},
		{rpcerr.Error(rpcerr.QueueNotFound, "x", nil), kindWrite, false},
	} {
		if got := IsUnknownOutcome(toError("op", tc.kind, tc.err)); got != tc.unknown {
			t.Errorf("%v (kind %d): unknown %v, want %v", tc.err, tc.kind, got, tc.unknown)
		}
	}
}

func TestEntryErr(t *testing.T) {
	err := EntryErr("ack", &queuedv1.EntryError{Id: "3", Reason: string(rpcerr.ReceiptExpired), Message: "too late"})
	if !errors.Is(err, ErrReceiptExpired) || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("EntryErr = %v (%v)", err, status.Code(err))
	}
	var e *Error
	if !errors.As(err, &e) || e.ID != "3" || e.Reason != rpcerr.ReceiptExpired {
		t.Fatalf("EntryErr = %#v", err)
	}
	if err := EntryErr("send", &queuedv1.EntryError{Reason: "MYSTERY", Message: "?"}); status.Code(err) != codes.Internal {
		t.Fatalf("an unknown reason: %v", err)
	}
	if EntryErr("x", nil) != nil {
		t.Fatal("nil entry")
	}
}
