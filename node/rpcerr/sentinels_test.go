package rpcerr

import (
	"errors"
	"fmt"
	"testing"
)

var (
	errThingNotFound = errors.New("dom: thing not found")
	errBad           = errors.New("dom: invalid argument")
	testSentinels    = Sentinels{
		{Err: errBad, Reason: InvalidArgument},
		{Err: errThingNotFound, Reason: KeyNotFound},
	}
)

func TestSentinelsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		reason     Reason
		msg        string
		md         map[string]string
		sentinel   error
		roundTrips string
	}{
		{"bare sentinel", errThingNotFound, KeyNotFound, "dom: thing not found", nil, errThingNotFound,
			"dom: thing not found: dom: thing not found"},
		{"wrapped with metadata", WithMetadata(fmt.Errorf("%w: name too long", errBad), KeyField, "name", KeyLimit, "3"),
			InvalidArgument, "name too long", map[string]string{KeyField: "name", KeyLimit: "3"}, errBad,
			"dom: invalid argument: name too long"},
		{"foreign error", errors.New("disk on fire"), "", "disk on fire", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testSentinels.ReasonOf(tc.err); got != tc.reason {
				t.Fatalf("ReasonOf = %q, want %q", got, tc.reason)
			}
			reason, msg, md := testSentinels.Split(tc.err)
			if reason != tc.reason || msg != tc.msg || fmt.Sprint(md) != fmt.Sprint(tc.md) {
				t.Fatalf("Split = %q, %q, %v; want %q, %q, %v", reason, msg, md, tc.reason, tc.msg, tc.md)
			}
			back := testSentinels.Error(reason, msg, md)
			if tc.sentinel == nil {
				if back != nil {
					t.Fatalf("Error of reason \"\" = %v, want nil", back)
				}
				return
			}
			if !errors.Is(back, tc.sentinel) || back.Error() != tc.roundTrips {
				t.Fatalf("Error = %q (is sentinel: %v), want %q", back, errors.Is(back, tc.sentinel), tc.roundTrips)
			}
			if fmt.Sprint(MetadataOf(back)) != fmt.Sprint(tc.md) {
				t.Fatalf("MetadataOf(Error) = %v, want %v", MetadataOf(back), tc.md)
			}
		})
	}
}

func TestSentinelsErrorEdges(t *testing.T) {
	if err := testSentinels.Error(KeyNotFound, "", nil); err != errThingNotFound {
		t.Fatalf("no message: got %v, want the sentinel itself", err)
	}
	err := testSentinels.Error("SOMETHING_NEW", "x", map[string]string{KeyField: "f"})
	if err == nil || testSentinels.ReasonOf(err) != "" || MetadataOf(err)[KeyField] != "f" {
		t.Fatalf("unknown reason: got %v (reason %q, metadata %v)", err, testSentinels.ReasonOf(err), MetadataOf(err))
	}
	if got := err.Error(); got != "rpcerr: unknown reason SOMETHING_NEW: x" {
		t.Fatalf("unknown reason message %q", got)
	}
	// The table is a []Rule for the server edge too.
	if r := ReasonOf(ToStatus(errThingNotFound, testSentinels)); r != KeyNotFound {
		t.Fatalf("ToStatus with the table gave reason %q", r)
	}
}
