package clusterconn

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

func TestBackoffDelay(t *testing.T) {
	var b Backoff
	steps := []time.Duration{20, 40, 80, 160, 320, 640, 1000, 1000}
	for round := range 2 {
		for i, step := range steps {
			step *= time.Millisecond
			if d := b.Delay(); d < step/2 || d > step {
				t.Fatalf("round %d, delay %d = %v, want in [%v, %v]", round, i, d, step/2, step)
			}
		}
		b.Reset()
	}
}

func TestBackoffWait(t *testing.T) {
	t.Run("deadline too close", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		var b Backoff
		if b.Wait(ctx) {
			t.Fatal("Wait = true past the deadline")
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var b Backoff
		if b.Wait(ctx) {
			t.Fatal("Wait = true on a canceled context")
		}
	})
	t.Run("waits", func(t *testing.T) {
		var b Backoff
		start := time.Now()
		if !b.Wait(context.Background()) {
			t.Fatal("Wait = false")
		}
		if el := time.Since(start); el < 10*time.Millisecond {
			t.Fatalf("Wait returned after %v, want >= 10ms", el)
		}
	})
}

// fakeRPC fails with the errors in errs, in order, then succeeds with "ok".
type fakeRPC struct {
	errs  []error
	calls int
}

func (f *fakeRPC) call(_ context.Context, opts ...grpc.CallOption) (string, error) {
	f.calls++
	if len(opts) != 1 {
		return "", errors.New("want exactly the WaitForReady option")
	}
	if o, ok := opts[0].(grpc.FailFastCallOption); !ok || o.FailFast {
		return "", errors.New("want WaitForReady(true)")
	}
	if f.calls <= len(f.errs) {
		return "", f.errs[f.calls-1]
	}
	return "ok", nil
}

func TestCall(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	other := status.Error(codes.FailedPrecondition, "no")
	noLeader := rpcerr.Error(rpcerr.NoLeader, "no leader", nil)
	noQuorum := rpcerr.Error(rpcerr.NoQuorum, "no quorum", nil)
	unknown := rpcerr.Error(rpcerr.OutcomeUnknown, "maybe", nil)
	for _, tc := range []struct {
		name      string
		retry     bool
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"success", true, nil, 1, nil},
		{"retried until success", true, []error{unavailable, unavailable}, 3, nil},
		{"once", false, []error{unavailable}, 1, unavailable},
		{"other code not retried", true, []error{other}, 1, other},
		{"other code after unavailable", true, []error{unavailable, other}, 2, other},
		{"write retried when not applied", false, []error{noLeader, noQuorum}, 3, nil},
		{"write not retried when outcome unknown", false, []error{unknown}, 1, unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRPC{errs: tc.errs}
			retry := RetryNotApplied
			if tc.retry {
				retry = RetryUnavailable
			}
			got, err := Call(context.Background(), nil, retry, f.call)
			if err != tc.wantErr {
				t.Fatalf("err = %v, want %v unchanged", err, tc.wantErr)
			}
			if want := map[bool]string{true: "", false: "ok"}[err != nil]; got != want {
				t.Errorf("result = %q, want %q", got, want)
			}
			if f.calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestCallStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	unavailable := status.Error(codes.Unavailable, "down")
	rpc := func(context.Context, ...grpc.CallOption) (int, error) { return 0, unavailable }
	if _, err := Call(ctx, nil, RetryUnavailable, rpc); err != unavailable {
		t.Fatalf("err = %v, want the last Unavailable error", err)
	}
}
