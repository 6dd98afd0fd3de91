package clusterconn

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

// closedAddr returns an address on which nothing listens: connections are
// refused at once.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// Bug 4: with every endpoint refusing connections, a call fails well before its
// deadline, as UNREACHABLE, naming every endpoint and its error; reads and
// writes alike, and nothing counts as sent.
func TestCallFailsFastWhenNoEndpointAccepts(t *testing.T) {
	eps := []string{closedAddr(t), closedAddr(t), closedAddr(t)}
	c := dial(t, Config{Endpoints: eps})
	const timeout = 10 * time.Second
	for _, retry := range []Retry{RetryUnavailable, RetryNotApplied} {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		err := check(ctx, c, retry)
		took := time.Since(start)
		cancel()
		if took > timeout/2 {
			t.Errorf("retry %d: failed after %v; want well before the %v deadline", retry, took, timeout)
		}
		info, _ := rpcerr.FromError(err)
		if info.Code != codes.Unavailable || info.Reason != rpcerr.Unreachable || !rpcerr.TryOther(err) {
			t.Fatalf("retry %d: err = %v (%+v), want Unavailable UNREACHABLE", retry, err, info)
		}
		for _, ep := range eps {
			if !strings.Contains(info.Message, ep+": connection refused") {
				t.Errorf("message %q does not name %s and its error", info.Message, ep)
			}
		}
		if info.Metadata[rpcerr.KeyEndpoints] != strings.Join(eps, ",") {
			t.Errorf("metadata %v does not list the endpoints", info.Metadata)
		}
	}
}

// One live endpoint among dead ones is enough: the call succeeds.
func TestCallReachesTheLiveEndpoint(t *testing.T) {
	live := startMember(t)
	c := dial(t, Config{Endpoints: []string{closedAddr(t), live.addr, closedAddr(t)}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		if err := check(ctx, c, RetryNotApplied); err != nil {
			t.Fatal(err)
		}
	}
}

// An attempt that never left the client is NOT_SENT, not a bare deadline: a
// write that ends so has certainly not been applied.
func TestCallNotSentOnDeadline(t *testing.T) {
	// A listener that never answers the handshake: the connection is never ready.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	c := dial(t, Config{Endpoints: []string{lis.Addr().String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = check(ctx, c, RetryNotApplied)
	if status.Code(err) != codes.DeadlineExceeded || rpcerr.ReasonOf(err) != rpcerr.NotSent {
		t.Fatalf("err = %v, want DeadlineExceeded NOT_SENT", err)
	}
}

// A request that reached a server and timed out there is not NOT_SENT.
func TestCallSentOnServerDeadline(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, _ any, _ *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	healthpb.RegisterHealthServer(s, healthpb.UnimplementedHealthServer{})
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	c := dial(t, Config{Endpoints: []string{lis.Addr().String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = check(ctx, c, RetryNotApplied)
	if status.Code(err) != codes.DeadlineExceeded || rpcerr.ReasonOf(err) != "" {
		t.Fatalf("err = %v, want a plain DeadlineExceeded (the request was sent)", err)
	}
}

// Regression (blobd chaos, crash-all): an idempotent write retried after an
// attempt that reached a server and failed ambiguously (the server died
// mid-call) must not end as UNREACHABLE once every member is down: that
// reason says nothing was applied, and a checker trusting it saw the
// delete that the dead leader had committed as failed. Call returns the
// ambiguous error instead.
func TestCallKeepsAnAmbiguousFailureOverALaterUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var s *grpc.Server
	entered := make(chan struct{})
	s = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, _ any, _ *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
		close(entered)
		<-ctx.Done() // the server dies with the request in hand
		return nil, ctx.Err()
	}))
	healthpb.RegisterHealthServer(s, healthpb.UnimplementedHealthServer{})
	go func() { _ = s.Serve(lis) }()
	go func() {
		<-entered
		s.Stop()
	}()
	t.Cleanup(s.Stop)
	c := dial(t, Config{Endpoints: []string{lis.Addr().String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = check(ctx, c, RetryUnavailable)
	if err == nil {
		t.Fatal("call succeeded against a server that died")
	}
	if saysNotApplied(err) {
		t.Fatalf("err = %v (reason %s): says not applied, but the first attempt reached the server", err, rpcerr.ReasonOf(err))
	}
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want the first attempt's Unavailable", err)
	}
}
