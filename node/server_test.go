package node

import (
	"context"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"cairn.dev/cairn/node/nodetest"
)

// testConfig is a ServerConfig on loopback ports chosen by the kernel.
func testConfig() ServerConfig {
	cfg := DefaultServerConfig()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// running is a Server whose Serve runs in the background until stop.
type running struct {
	*Server
	cancel context.CancelFunc
	done   chan error // receives Serve's result
}

// stop cancels Serve and returns its result.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // let later callers (cleanup) see it too
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// startServer builds, listens and serves a server; register runs before
// Serve. Teardown is registered with t.Cleanup.
func startServer(t *testing.T, cfg ServerConfig, register func(*Server)) *running {
	t.Helper()
	s, err := NewServer(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	if register != nil {
		register(s)
	}
	require.NoError(t, s.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Server: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		s.Close()
		_ = r.stop(t)
	})
	return r
}

func dialTest(t *testing.T, addr string, cfg DialConfig) *grpc.ClientConn {
	t.Helper()
	conn, err := Dial(addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func rpcContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The test service, described by hand: Panic panics, Hold streams until its
// context ends, closing held once it has started.
type testService interface{}

const (
	methodPanic       = "/cairn.nodetest.v1.TestService/Panic"
	methodHold        = "/cairn.nodetest.v1.TestService/Hold"
	methodPanicStream = "/cairn.nodetest.v1.TestService/PanicStream"
)

func registerTestService(s *Server, held chan<- struct{}) {
	desc := grpc.ServiceDesc{
		ServiceName: "cairn.nodetest.v1.TestService",
		HandlerType: (*testService)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Panic",
			Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
				in := new(emptypb.Empty)
				if err := dec(in); err != nil {
					return nil, err
				}
				h := func(context.Context, any) (any, error) { panic("test panic") }
				return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: methodPanic}, h)
			},
		}},
		Streams: []grpc.StreamDesc{{
			StreamName:    "PanicStream",
			ServerStreams: true,
			Handler:       func(any, grpc.ServerStream) error { panic("test stream panic") },
		}, {
			StreamName:    "Hold",
			ServerStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
					return err
				}
				close(held)
				<-stream.Context().Done()
				return stream.Context().Err()
			},
		}},
	}
	s.GRPC().RegisterService(&desc, struct{}{})
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServerHealthAndReflection(t *testing.T) {
	r := startServer(t, testConfig(), nil)
	require.NotContains(t, r.GRPCAddr(), ":0")
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	ctx := rpcContext(t)
	hc := healthpb.NewHealthClient(conn)

	resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, resp.Status, "not ready before SetReady")

	r.SetReady(true)
	resp, err = hc.Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status)

	r.SetServingStatus("cairn.kv.v1.KVService", true)
	resp, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "cairn.kv.v1.KVService"})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status)
	r.SetServingStatus("cairn.kv.v1.KVService", false)
	resp, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "cairn.kv.v1.KVService"})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, resp.Status)

	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	require.Equal(t, codes.NotFound, status.Code(err))

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}))
	rresp, err := stream.Recv()
	require.NoError(t, err)
	var names []string
	for _, svc := range rresp.GetListServicesResponse().GetService() {
		names = append(names, svc.GetName())
	}
	require.Contains(t, names, "grpc.health.v1.Health")
	require.Contains(t, names, "grpc.reflection.v1.ServerReflection")
	require.NoError(t, stream.CloseSend())
}

func TestServerPanicRecoveryAndMetrics(t *testing.T) {
	r := startServer(t, testConfig(), func(s *Server) { registerTestService(s, make(chan struct{})) })
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	ctx := rpcContext(t)

	for range 2 {
		err := conn.Invoke(ctx, methodPanic, &emptypb.Empty{}, new(emptypb.Empty))
		require.Equal(t, codes.Internal, status.Code(err), "err = %v", err)
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, methodPanicStream)
	require.NoError(t, err)
	require.NoError(t, stream.SendMsg(&emptypb.Empty{}))
	require.NoError(t, stream.CloseSend())
	err = stream.RecvMsg(new(emptypb.Empty))
	require.Equal(t, codes.Internal, status.Code(err), "err = %v", err)

	// The server survived: ordinary calls still work on the same connection.
	hc := healthpb.NewHealthClient(conn)
	for range 3 {
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
	}
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "missing"})
	require.Equal(t, codes.NotFound, status.Code(err))

	code, body := httpGet(t, "http://"+r.AdminAddr()+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`cairn_grpc_requests_total{code="Internal",method="` + methodPanic + `"} 2`,
		`cairn_grpc_requests_total{code="OK",method="/grpc.health.v1.Health/Check"} 3`,
		`cairn_grpc_requests_total{code="NotFound",method="/grpc.health.v1.Health/Check"} 1`,
		`cairn_grpc_request_duration_seconds_count{method="/grpc.health.v1.Health/Check"} 4`,
		`cairn_grpc_request_duration_seconds_count{method="` + methodPanic + `"} 2`,
		`cairn_grpc_requests_total{code="Internal",method="` + methodPanicStream + `"} 1`,
		`cairn_grpc_inflight_requests{method="/grpc.health.v1.Health/Check"} 0`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		require.Contains(t, metricLines(body), want)
	}
}

// metricLines returns body without comment lines, for substring checks.
func metricLines(body string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		if !strings.HasPrefix(line, "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestAdminEndpoints(t *testing.T) {
	r := startServer(t, testConfig(), nil)
	base := "http://" + r.AdminAddr()

	code, body := httpGet(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, _ = httpGet(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	r.SetReady(true)
	code, _ = httpGet(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	r.SetReady(false)
	code, _ = httpGet(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)

	code, body = httpGet(t, base+"/debug/pprof/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")
	code, _ = httpGet(t, base+"/debug/pprof/goroutine?debug=1")
	require.Equal(t, http.StatusOK, code)
	code, _ = httpGet(t, base+"/debug/pprof/cmdline")
	require.Equal(t, http.StatusOK, code)

	code, _ = httpGet(t, base+"/nope")
	require.Equal(t, http.StatusNotFound, code)
}

func TestServerWithoutAdmin(t *testing.T) {
	cfg := testConfig()
	cfg.AdminAddr = ""
	r := startServer(t, cfg, nil)
	require.Empty(t, r.AdminAddr())
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	_, err := healthpb.NewHealthClient(conn).Check(rpcContext(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.NoError(t, r.stop(t))
}

func TestServeGracefulStopDrainsQuickly(t *testing.T) {
	r := startServer(t, testConfig(), nil)
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	_, err := healthpb.NewHealthClient(conn).Check(rpcContext(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)

	start := time.Now()
	require.NoError(t, r.stop(t))
	require.Less(t, time.Since(start), r.cfg.ShutdownTimeout, "no in-flight RPCs: no need to wait for the deadline")

	require.ErrorIs(t, r.Serve(context.Background()), ErrServerClosed)
	require.ErrorIs(t, r.Listen(), ErrServerClosed)
	r.SetReady(true)
	require.False(t, r.ready.Load(), "SetReady is ignored after shutdown")
}

func TestServeDeadlineCancelsInflightStream(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownTimeout = 300 * time.Millisecond
	held := make(chan struct{})
	r := startServer(t, cfg, func(s *Server) { registerTestService(s, held) })
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})

	stream, err := conn.NewStream(rpcContext(t), &grpc.StreamDesc{ServerStreams: true}, methodHold)
	require.NoError(t, err)
	require.NoError(t, stream.SendMsg(&emptypb.Empty{}))
	require.NoError(t, stream.CloseSend())
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("stream handler did not start")
	}

	start := time.Now()
	r.cancel()
	var serveErr error
	select {
	case serveErr = <-r.done:
		r.done <- serveErr
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the shutdown deadline")
	}
	elapsed := time.Since(start)
	require.NoError(t, serveErr)
	require.GreaterOrEqual(t, elapsed, cfg.ShutdownTimeout, "graceful stop should wait for the in-flight stream")
	require.Less(t, elapsed, cfg.ShutdownTimeout+5*time.Second)

	err = stream.RecvMsg(new(emptypb.Empty))
	require.Error(t, err)
	require.NotEqual(t, codes.OK, status.Code(err))
}

func TestCloseIsIdempotentAndEndsServe(t *testing.T) {
	r := startServer(t, testConfig(), nil)
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	_, err := healthpb.NewHealthClient(conn).Check(rpcContext(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err, "Serve is running")
	r.Close()
	r.Close()
	select {
	case err := <-r.done:
		r.done <- err
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}

func TestCloseBeforeServe(t *testing.T) {
	s, err := NewServer(testConfig(), nodetest.Logger(t))
	require.NoError(t, err)
	require.NoError(t, s.Listen())
	require.ErrorIs(t, s.Listen(), ErrAlreadyListening)
	addr := s.GRPCAddr()
	s.Close()
	require.ErrorIs(t, s.Serve(context.Background()), ErrServerClosed)
	// The listener bound by Listen was released.
	s2cfg := testConfig()
	s2cfg.GRPCAddr = addr
	s2, err := NewServer(s2cfg, nodetest.Logger(t))
	require.NoError(t, err)
	require.NoError(t, s2.Listen())
	s2.Close()
}

func TestServeListenError(t *testing.T) {
	a, err := NewServer(testConfig(), nodetest.Logger(t))
	require.NoError(t, err)
	require.NoError(t, a.Listen())
	defer a.Close()
	cfg := testConfig()
	cfg.GRPCAddr = a.GRPCAddr()
	b, err := NewServer(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	defer b.Close()
	err = b.Serve(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), "grpc_addr")
}

func TestNewServerValidates(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRecvMsgBytes = 0
	_, err := NewServer(cfg, nil)
	require.EqualError(t, err, "node: max_recv_msg_bytes must be > 0")
}

func TestMaxRecvMsgBytes(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRecvMsgBytes = 64
	r := startServer(t, cfg, nil)
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	_, err := healthpb.NewHealthClient(conn).Check(rpcContext(t), &healthpb.HealthCheckRequest{Service: strings.Repeat("x", 200)})
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "err = %v", err)
}

func TestDialRejectsNegativeMax(t *testing.T) {
	_, err := Dial("127.0.0.1:1", DialConfig{MaxMsgBytes: -1})
	require.EqualError(t, err, "node: max_msg_bytes must be >= 0, got -1")
}

func TestSetDaemonGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	require.Equal(t, DaemonGCPercent, SetDaemonGC())
	require.Equal(t, DaemonGCPercent, debug.SetGCPercent(DaemonGCPercent))
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // what the runtime read from GOGC at start
	require.Equal(t, 150, SetDaemonGC())
	require.Equal(t, 150, debug.SetGCPercent(150))
}
