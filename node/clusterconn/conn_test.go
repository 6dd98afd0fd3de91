package clusterconn

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"
)

// member is an in-process gRPC server serving the health service. It counts
// the health checks of the server as a whole (service ""), which is what the
// tests' calls are; questions about other services (see lead) are not counted.
type member struct {
	addr   string
	calls  atomic.Int64
	health *health.Server
	stop   func()
}

func startMember(t *testing.T) *member {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &member{addr: lis.Addr().String(), health: health.NewServer()}
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if r, ok := req.(*healthpb.HealthCheckRequest); ok && r.GetService() == "" {
			m.calls.Add(1)
		}
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(s, m.health)
	go func() { _ = s.Serve(lis) }()
	m.stop = s.Stop
	t.Cleanup(s.Stop)
	return m
}

func dial(t *testing.T, cfg Config) *Conn {
	t.Helper()
	c, err := Dial(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func check(ctx context.Context, c *Conn, retry ...Retry) error {
	r := RetryUnavailable
	if len(retry) > 0 {
		r = retry[0]
	}
	_, err := Call(ctx, c, r, func(ctx context.Context, co ...grpc.CallOption) (*healthpb.HealthCheckResponse, error) {
		return healthpb.NewHealthClient(c.ClientConn()).Check(ctx, &healthpb.HealthCheckRequest{}, co...)
	})
	return err
}

func TestDialRoundRobin(t *testing.T) {
	a, b := startMember(t), startMember(t)
	c := dial(t, Config{Endpoints: []string{a.addr, " ", b.addr}})
	if resolver.Get("cairn-test") != nil {
		t.Error("Dial registered its resolver globally")
	}
	if got := c.Config(); len(got.Endpoints) != 2 || got.RequestTimeout != DefaultRequestTimeout {
		t.Errorf("Config() = %+v, want defaults applied", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// round_robin sends calls to every ready member; poll until both have served.
	for a.calls.Load() == 0 || b.calls.Load() == 0 {
		if err := check(ctx, c); err != nil {
			t.Fatalf("check (calls a=%d b=%d): %v", a.calls.Load(), b.calls.Load(), err)
		}
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial(Config{Endpoints: []string{""}}, "test"); err != ErrNoEndpoints {
		t.Errorf("no endpoints: err = %v, want ErrNoEndpoints", err)
	}
	_, err := Dial(Config{Endpoints: []string{"a:1"}, DialTimeout: -1}, "test")
	if err == nil || !strings.HasPrefix(err.Error(), "test client: Config.DialTimeout") {
		t.Errorf("negative DialTimeout: err = %v", err)
	}
}

func TestDialEndpoint(t *testing.T) {
	a, b := startMember(t), startMember(t)
	c := dial(t, Config{Endpoints: []string{a.addr}})
	ec, err := c.DialEndpoint(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(ec).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatal(err)
	}
	if a.calls.Load() != 0 || b.calls.Load() != 1 {
		t.Errorf("calls a=%d b=%d, want only b called", a.calls.Load(), b.calls.Load())
	}
}

func TestWithTimeout(t *testing.T) {
	c := dial(t, Config{Endpoints: []string{"127.0.0.1:1"}, RequestTimeout: time.Hour})
	ctx, cancel := c.WithTimeout(context.Background())
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < 59*time.Minute {
		t.Errorf("no deadline: got %v, %v; want about RequestTimeout", dl, ok)
	}
	want := time.Now().Add(time.Minute)
	parent, pcancel := context.WithDeadline(context.Background(), want)
	defer pcancel()
	ctx, cancel = c.WithTimeout(parent)
	defer cancel()
	if dl, _ := ctx.Deadline(); !dl.Equal(want) {
		t.Errorf("deadline = %v, want the parent's %v", dl, want)
	}
	cancel()
	if ctx.Err() == nil {
		t.Error("cancel did not cancel the returned context")
	}
}

func TestGoAndClose(t *testing.T) {
	c, err := Dial(Config{Endpoints: []string{"127.0.0.1:1"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var returned atomic.Bool
	if !c.Go(func() {
		close(started)
		<-c.Context().Done()
		returned.Store(true)
	}) {
		t.Fatal("Go = false before Close")
	}
	<-started
	if c.Closed() {
		t.Fatal("Closed = true before Close")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !returned.Load() {
		t.Error("Close returned before the goroutine")
	}
	if !c.Closed() {
		t.Error("Closed = false after Close")
	}
	if c.Go(func() { t.Error("ran after Close") }) {
		t.Error("Go = true after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	// Calls on the closed connection fail rather than wait.
	err = check(context.Background(), c)
	if code := status.Code(err); code != codes.Canceled && !errors.Is(err, context.Canceled) {
		t.Errorf("call after Close: %v (code %v)", err, code)
	}
}
