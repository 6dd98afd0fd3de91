package clusterconn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

var (
	errTestUnknown  = errors.New("test client: outcome of write unknown")
	errTestNotHeld  = errors.New("test client: not held")
	errTestNotFound = errors.New("test client: queue not found")
)

// testErrors is an Errors as a client keeps one, with a known-outcome
// reason of its own (lockd's WAIT_TIMEOUT).
var testErrors = Errors{
	Client:  "test client",
	Unknown: errTestUnknown,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.NotHeld:         errTestNotHeld,
		rpcerr.PermitsMismatch: errTestNotHeld,
		rpcerr.QueueNotFound:   errTestNotFound,
	},
	KnownOutcome: []rpcerr.Reason{rpcerr.WaitTimeout},
}

func TestErrorsWrap(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		err      error
		write    bool
		code     codes.Code
		reason   rpcerr.Reason
		sentinel error // nil: none
		unknown  bool
		msg      string
	}{
		{"reason with a sentinel", rpcerr.Error(rpcerr.NotHeld, "nobody holds a", nil), true,
			codes.FailedPrecondition, rpcerr.NotHeld, errTestNotHeld, false,
			"test client: op: FailedPrecondition: nobody holds a"},
		{"second reason, same sentinel", rpcerr.Error(rpcerr.PermitsMismatch, "x", nil), false,
			codes.FailedPrecondition, rpcerr.PermitsMismatch, errTestNotHeld, false, ""},
		{"reason without a sentinel", rpcerr.Error(rpcerr.LimitExceeded, "x", nil), true,
			codes.ResourceExhausted, rpcerr.LimitExceeded, nil, false, ""},
		{"status without a reason", status.Error(codes.NotFound, "queue not found"), false,
			codes.NotFound, "", nil, false, "test client: op: NotFound: queue not found"},
		{"not a status", boom, true,
			codes.Unknown, "", nil, false, "test client: op: boom"},
		{"wrapped status", fmt.Errorf("dial: %w", rpcerr.Error(rpcerr.QueueNotFound, "q", nil)), false,
			codes.NotFound, rpcerr.QueueNotFound, errTestNotFound, false, ""},

		// A write that failed as a request in flight fails may have been applied.
		{"unavailable write", status.Error(codes.Unavailable, "connection reset"), true,
			codes.Unavailable, "", nil, true,
			"test client: op: Unavailable: connection reset (outcome unknown: the write may have been applied)"},
		{"unavailable read", status.Error(codes.Unavailable, "connection reset"), false,
			codes.Unavailable, "", nil, false, "test client: op: Unavailable: connection reset"},
		{"deadline write", status.Error(codes.DeadlineExceeded, "x"), true,
			codes.DeadlineExceeded, "", nil, true, ""},
		{"deadline read", status.Error(codes.DeadlineExceeded, "x"), false,
			codes.DeadlineExceeded, "", nil, false, ""},
		{"canceled write", status.Error(codes.Canceled, "x"), true,
			codes.Canceled, "", nil, true, ""},
		{"OUTCOME_UNKNOWN write", rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), true,
			codes.Unavailable, rpcerr.OutcomeUnknown, nil, true, ""},
		{"OUTCOME_UNKNOWN read", rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), false,
			codes.Unavailable, rpcerr.OutcomeUnknown, nil, false, ""},
		{"no known outcome reason", rpcerr.Error(rpcerr.PartitionOffline, "x", nil), true,
			codes.Unavailable, rpcerr.PartitionOffline, nil, true, ""},

		// Reasons that say the write was not applied.
		{"NO_LEADER (try other)", rpcerr.Error(rpcerr.NoLeader, "x", nil), true,
			codes.Unavailable, rpcerr.NoLeader, nil, false, ""},
		{"NOT_LEADER (try other)", rpcerr.Error(rpcerr.NotLeader, "x", nil), true,
			codes.Unavailable, rpcerr.NotLeader, nil, false, ""},
		{"UNREACHABLE (try other)", rpcerr.Error(rpcerr.Unreachable, "x", nil), true,
			codes.Unavailable, rpcerr.Unreachable, nil, false, ""},
		{"NOT_SENT", rpcerr.Error(rpcerr.NotSent, "x", nil), true,
			codes.DeadlineExceeded, rpcerr.NotSent, nil, false, ""},
		{"KnownOutcome reason", rpcerr.Error(rpcerr.WaitTimeout, "x", nil), true,
			codes.DeadlineExceeded, rpcerr.WaitTimeout, nil, false, ""},

		// Context errors get their status.
		{"context canceled write", context.Canceled, true,
			codes.Canceled, "", nil, true, ""},
		{"context deadline write", context.DeadlineExceeded, true,
			codes.DeadlineExceeded, "", nil, true, ""},
		{"context deadline read", context.DeadlineExceeded, false,
			codes.DeadlineExceeded, "", nil, false, ""},
		{"wrapped context error", fmt.Errorf("waiting: %w", context.Canceled), true,
			codes.Canceled, "", nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testErrors.Wrap("op", tc.write, tc.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Wrap = %T %v, want an *Error", err, err)
			}
			if e.Op != "op" || e.ID != "" || e.Reason != tc.reason || e.Unknown != tc.unknown {
				t.Errorf("Wrap = %+v, want reason %q, unknown %v", e, tc.reason, tc.unknown)
			}
			if got := status.Code(err); got != tc.code {
				t.Errorf("status.Code = %v, want %v", got, tc.code)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%v does not match the error it wraps", err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%v does not match %v", err, tc.sentinel)
			}
			for _, other := range []error{errTestNotHeld, errTestNotFound} {
				if other != tc.sentinel && errors.Is(err, other) {
					t.Errorf("%v matches %v", err, other)
				}
			}
			if got := errors.Is(err, errTestUnknown); got != tc.unknown {
				t.Errorf("errors.Is(err, Unknown) = %v, want %v", got, tc.unknown)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestErrorsWrapKeepsStatus(t *testing.T) {
	in := rpcerr.Error(rpcerr.NotHeld, "nobody holds a", map[string]string{rpcerr.KeyField: "name"})
	want, _ := status.FromError(in)
	got, ok := status.FromError(testErrors.Wrap("release", true, in))
	if !ok || got != want {
		t.Fatalf("status.FromError = %v, %v; want the call's own status %v", got, ok, want)
	}
	if got := testErrors.Wrap("op", true, errors.New("boom")).(*Error).GRPCStatus(); got != nil {
		t.Fatalf("GRPCStatus of a non-status error = %v, want nil", got)
	}
}

func TestErrorsWrapPassesErrorsThrough(t *testing.T) {
	if err := testErrors.Wrap("op", true, nil); err != nil {
		t.Fatalf("Wrap(nil) = %v", err)
	}
	first := testErrors.Wrap("put", false, status.Error(codes.Unavailable, "x"))
	if got := testErrors.Wrap("get", true, first); got != first {
		t.Fatalf("Wrap(*Error) = %v, want it unchanged (%v)", got, first)
	}
	wrapped := fmt.Errorf("retrying: %w", first)
	if got := testErrors.Wrap("get", true, wrapped); got != wrapped {
		t.Fatalf("Wrap of a wrapped *Error = %v, want it unchanged", got)
	}
	if errors.Is(first, errTestUnknown) {
		t.Fatal("a read's error became unknown when wrapped again as a write's")
	}
	local := testErrors.Local("put", errors.New("closed"))
	if got := testErrors.Wrap("put", true, local); got != local {
		t.Fatalf("Wrap(Local) = %v, want it unchanged", got)
	}
}

func TestErrorsWrapNoUnknownSentinel(t *testing.T) {
	k := Errors{Client: "bare client"}
	err := k.Wrap("put", true, status.Error(codes.Unavailable, "x"))
	var e *Error
	if !errors.As(err, &e) || !e.Unknown {
		t.Fatalf("Wrap = %#v, want Unknown", err)
	}
	for _, u := range e.Unwrap() {
		if u == nil {
			t.Fatalf("Unwrap = %v holds nil", e.Unwrap())
		}
	}
}

func TestErrorsLocal(t *testing.T) {
	closed := errors.New("test client: client closed")
	err := testErrors.Local("put", closed)
	var e *Error
	if !errors.As(err, &e) || e.Op != "put" || e.Reason != "" || e.Unknown {
		t.Fatalf("Local = %#v", err)
	}
	if !errors.Is(err, closed) || errors.Is(err, errTestUnknown) {
		t.Fatalf("Local = %v: must match its cause and nothing else", err)
	}
	if status.Code(err) != codes.Unknown || e.GRPCStatus() != nil || e.Metadata() != nil {
		t.Fatalf("Local has code %v, status %v, metadata %v", status.Code(err), e.GRPCStatus(), e.Metadata())
	}
	if want := "test client: put: test client: client closed"; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
	if inner := fmt.Errorf("name %q: %w", "a", errTestNotHeld); !errors.Is(testErrors.Local("release", inner), errTestNotHeld) {
		t.Fatal("Local does not match what its cause wraps")
	}
}

func TestErrorsEntry(t *testing.T) {
	err := testErrors.Entry("ack", "3", rpcerr.QueueNotFound, "no queue q")
	var e *Error
	if !errors.As(err, &e) || e.Op != "ack" || e.ID != "3" || e.Reason != rpcerr.QueueNotFound || e.Unknown {
		t.Fatalf("Entry = %#v", err)
	}
	if !errors.Is(err, errTestNotFound) || errors.Is(err, errTestNotHeld) {
		t.Fatalf("Entry = %v: must match exactly its reason's sentinel", err)
	}
	if status.Code(err) != codes.NotFound || rpcerr.ReasonOf(err) != rpcerr.QueueNotFound {
		t.Fatalf("Entry has code %v, reason %q", status.Code(err), rpcerr.ReasonOf(err))
	}
	if want := `test client: ack (entry "3"): NotFound: no queue q`; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}

	// A reason the client does not know is Internal, with no sentinel.
	err = testErrors.Entry("send", "", "MYSTERY", "?")
	if status.Code(err) != codes.Internal || errors.Is(err, errTestNotFound) || errors.Is(err, errTestNotHeld) {
		t.Fatalf("Entry with an unknown reason = %v (%v)", err, status.Code(err))
	}
	if want := "test client: send: Internal: ?"; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}

	// Even an Unavailable reason is never unknown: the batch call returned.
	if err := testErrors.Entry("send", "1", rpcerr.OutcomeUnknown, "x"); errors.Is(err, errTestUnknown) {
		t.Fatalf("Entry = %v matches the unknown-outcome sentinel", err)
	}
}

func TestErrorMetadata(t *testing.T) {
	md := map[string]string{rpcerr.KeyField: "body", rpcerr.KeyLimit: "1024"}
	sent := rpcerr.New(rpcerr.LimitExceeded, "body is too large", md)
	// As a client receives it: the status rebuilt from its wire form.
	received := status.FromProto(sent.Proto()).Err()
	for _, tc := range []struct {
		name string
		err  error
		want map[string]string
	}{
		{"with metadata", testErrors.Wrap("send", true, received), md},
		{"reason without metadata", testErrors.Wrap("send", true, rpcerr.Error(rpcerr.QueueNotFound, "x", nil)), nil},
		{"status without a reason", testErrors.Wrap("send", true, status.Error(codes.Internal, "x")), nil},
		{"not a status", testErrors.Wrap("send", true, errors.New("boom")), nil},
		{"context error", testErrors.Wrap("send", true, context.Canceled), nil},
		{"entry", testErrors.Entry("send", "1", rpcerr.LimitExceeded, "x"), nil},
	} {
		var e *Error
		if !errors.As(tc.err, &e) {
			t.Fatalf("%s: %v is not an *Error", tc.name, tc.err)
		}
		if got := e.Metadata(); !maps.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("%s: Metadata() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
