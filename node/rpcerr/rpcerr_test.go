package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestReasonTable(t *testing.T) {
	upper := regexp.MustCompile(`^[A-Z][A-Z_]+[A-Z]$`)
	for _, r := range Reasons() {
		if !upper.MatchString(string(r)) {
			t.Errorf("reason %q is not UPPER_SNAKE_CASE", r)
		}
		if r.Code() == codes.OK || r.Code() == codes.Unknown {
			t.Errorf("reason %s has code %v", r, r.Code())
		}
		if r.TryOther() && r.Code() != codes.Unavailable {
			t.Errorf("reason %s: TryOther with code %v, want Unavailable", r, r.Code())
		}
	}
	if Reason("NOPE").Code() != codes.Unknown || Reason("NOPE").TryOther() {
		t.Error("an unknown reason has a code or TryOther")
	}
	for _, r := range []Reason{NoLeader, NotLeader, NoQuorum, ShuttingDown, NotServing, Unreachable} {
		if !r.TryOther() {
			t.Errorf("%s.TryOther() = false, want true: the request was not applied", r)
		}
	}
	for _, r := range []Reason{OutcomeUnknown, OwnerUnreachable, NotSent, InvalidArgument} {
		if r.TryOther() {
			t.Errorf("%s.TryOther() = true, want false", r)
		}
	}
}

func TestNewAndFromError(t *testing.T) {
	md := map[string]string{KeyField: "put.value", KeyLimit: "10"}
	err := Error(LimitExceeded, "too big", md)
	md[KeyField] = "changed" // New copies
	for _, e := range []error{err, fmt.Errorf("wrapped: %w", err)} {
		info, ok := FromError(e)
		if !ok || info.Code != codes.ResourceExhausted || info.Reason != LimitExceeded ||
			info.Metadata[KeyField] != "put.value" || info.Metadata[KeyLimit] != "10" {
			t.Errorf("FromError(%v) = %+v, %v", e, info, ok)
		}
	}
	if ReasonOf(err) != LimitExceeded || TryOther(err) {
		t.Errorf("ReasonOf = %q, TryOther = %v", ReasonOf(err), TryOther(err))
	}
	if !TryOther(Error(NoLeader, "x", nil)) {
		t.Error("TryOther(NO_LEADER) = false")
	}
	for _, tc := range []struct {
		err  error
		code codes.Code
		ok   bool
	}{
		{status.Error(codes.Unavailable, "plain"), codes.Unavailable, true},
		{context.DeadlineExceeded, codes.DeadlineExceeded, true},
		{fmt.Errorf("x: %w", context.Canceled), codes.Canceled, true},
		{errors.New("other"), codes.Unknown, false},
	} {
		info, ok := FromError(tc.err)
		if info.Code != tc.code || ok != tc.ok || info.Reason != "" {
			t.Errorf("FromError(%v) = %+v, %v; want code %v, ok %v, no reason", tc.err, info, ok, tc.code, tc.ok)
		}
	}
	if _, ok := FromError(nil); ok {
		t.Error("FromError(nil) ok")
	}
}

var (
	errA = errors.New("a")
	errB = errors.New("b")
)

func TestToStatus(t *testing.T) {
	rules := []Rule{{errB, OutcomeUnknown}, {errA, NoLeader}}
	relayed := Error(NotHolder, "from another member", map[string]string{"x": "y"})
	for _, tc := range []struct {
		name   string
		err    error
		code   codes.Code
		reason Reason
		md     map[string]string
	}{
		{"rule", fmt.Errorf("ctx: %w", errA), codes.Unavailable, NoLeader, nil},
		{"first rule wins", fmt.Errorf("%w: %w", errA, errB), codes.Unavailable, OutcomeUnknown, nil},
		{"metadata", WithMetadata(fmt.Errorf("x: %w", errA), KeyLeader, "n2"), codes.Unavailable, NoLeader, map[string]string{KeyLeader: "n2"}},
		{"status kept", relayed, codes.PermissionDenied, NotHolder, map[string]string{"x": "y"}},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "", nil},
		{"canceled", context.Canceled, codes.Canceled, "", nil},
		{"other", errors.New("boom"), codes.Internal, Internal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ToStatus(tc.err, rules)
			info, _ := FromError(got)
			if info.Code != tc.code || info.Reason != tc.reason || !maps.Equal(info.Metadata, tc.md) {
				t.Errorf("ToStatus(%v) = %+v; want %v %q %v", tc.err, info, tc.code, tc.reason, tc.md)
			}
			if info.Message != tc.err.Error() && tc.name != "status kept" {
				t.Errorf("message %q, want %q", info.Message, tc.err.Error())
			}
		})
	}
	if ToStatus(nil, rules) != nil {
		t.Error("ToStatus(nil) != nil")
	}
}

func TestWithMetadata(t *testing.T) {
	if WithMetadata(nil, "a", "b") != nil {
		t.Error("WithMetadata(nil) != nil")
	}
	inner := WithMetadata(errA, "k", "inner", "only", "1", "odd")
	outer := WithMetadata(fmt.Errorf("ctx: %w", inner), "k", "outer")
	if !errors.Is(outer, errA) || outer.Error() != "ctx: a" {
		t.Errorf("outer = %v, Is(errA) = %v", outer, errors.Is(outer, errA))
	}
	want := map[string]string{"k": "outer", "only": "1"}
	if got := MetadataOf(outer); !maps.Equal(got, want) {
		t.Errorf("MetadataOf = %v, want %v", got, want)
	}
	joined := errors.Join(errB, WithMetadata(errA, "j", "1"))
	if got := MetadataOf(joined); got["j"] != "1" {
		t.Errorf("MetadataOf(joined) = %v", got)
	}
	if MetadataOf(errA) != nil {
		t.Error("MetadataOf(plain) != nil")
	}
}
