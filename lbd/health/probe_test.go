package health

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestTCPProbe(t *testing.T) {
	srv := newTCPServer(t)
	require.NoError(t, check(TCPProbe(), srv.addr(), waitFor))
	err := check(TCPProbe(), closedAddr(t), waitFor)
	require.Error(t, err)
	require.Contains(t, err.Error(), "refused")
}

func TestHTTPProbe(t *testing.T) {
	plain := newHTTPBackend(t, false)
	secure := newHTTPBackend(t, true)
	tests := []struct {
		name    string
		backend *httpBackend
		check   HTTPCheck
		wantErr error  // nil = passes; else errors.Is
		errText string // substring of the error, when wantErr is errOther
	}{
		{name: "get default expect", backend: plain, check: HTTPCheck{Path: "/healthz"}},
		{name: "exact status", backend: plain, check: HTTPCheck{Path: "/healthz", Expect: "200"}},
		{name: "status list", backend: plain, check: HTTPCheck{Path: "/healthz", Expect: "204, 200"}},
		{name: "status not expected", backend: plain, check: HTTPCheck{Path: "/healthz", Expect: "204"}, wantErr: ErrUnexpectedStatus},
		{name: "404 at default path", backend: plain, check: HTTPCheck{}, wantErr: ErrUnexpectedStatus},
		{name: "404 expected", backend: plain, check: HTTPCheck{Expect: "404"}},
		{name: "redirect not followed, 3xx in default", backend: plain, check: HTTPCheck{Path: "/redirect"}},
		{name: "redirect not in 200", backend: plain, check: HTTPCheck{Path: "/redirect", Expect: "200"}, wantErr: ErrUnexpectedStatus},
		{name: "head", backend: plain, check: HTTPCheck{Path: "/healthz", Method: "HEAD", Expect: "200"}},
		{name: "body substring", backend: plain, check: HTTPCheck{Path: "/healthz", Body: "status: ok"}},
		{name: "body missing", backend: plain, check: HTTPCheck{Path: "/healthz", Body: "status: degraded"}, wantErr: ErrBodyMismatch},
		{name: "body past 64KiB not seen", backend: plain, check: HTTPCheck{Path: "/big", Body: "MARKER"}, wantErr: ErrBodyMismatch},
		{name: "tls", backend: secure, check: HTTPCheck{Path: "/healthz", TLS: secure.tlsConfig()}},
		{name: "tls with host for SNI", backend: secure, check: HTTPCheck{Path: "/healthz", Host: "example.com:443", TLS: secure.tlsConfig()}},
		{name: "tls with unknown host", backend: secure, check: HTTPCheck{Path: "/healthz", Host: "other.test", TLS: secure.tlsConfig()}, errText: "certificate"},
		{name: "tls untrusted", backend: secure, check: HTTPCheck{Path: "/healthz", TLS: &tls.Config{}}, errText: "certificate"},
		{name: "plain to tls", backend: secure, check: HTTPCheck{Path: "/healthz"}, wantErr: ErrUnexpectedStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := HTTPProbe(tt.check)
			require.NoError(t, err)
			err = check(p, tt.backend.addr(), waitFor)
			switch {
			case tt.errText != "":
				require.ErrorContains(t, err, tt.errText)
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
			}
		})
	}
}

func TestHTTPProbeHostHeader(t *testing.T) {
	b := newHTTPBackend(t, false)
	p, err := HTTPProbe(HTTPCheck{Path: "/healthz"})
	require.NoError(t, err)
	require.NoError(t, check(p, b.addr(), waitFor))
	require.Equal(t, b.addr(), b.lastHost.Load(), "default Host is the address")

	p, err = HTTPProbe(HTTPCheck{Path: "/healthz", Host: "app.internal"})
	require.NoError(t, err)
	require.NoError(t, check(p, b.addr(), waitFor))
	require.Equal(t, "app.internal", b.lastHost.Load())
}

func TestHTTPProbeTimeout(t *testing.T) {
	b := newHTTPBackend(t, false)
	p, err := HTTPProbe(HTTPCheck{Path: "/slow"})
	require.NoError(t, err)
	start := time.Now()
	err = check(p, b.addr(), 100*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), waitFor)
}

func TestHTTPProbeRefused(t *testing.T) {
	p, err := HTTPProbe(HTTPCheck{})
	require.NoError(t, err)
	require.ErrorContains(t, check(p, closedAddr(t), waitFor), "refused")
}

func TestHTTPProbeErrors(t *testing.T) {
	tests := []struct {
		check HTTPCheck
		want  string
	}{
		{HTTPCheck{Path: "healthz"}, "Path"},
		{HTTPCheck{Path: "/a b\x7f"}, "Path"},
		{HTTPCheck{Method: "POST"}, "Method"},
		{HTTPCheck{Method: "get"}, "Method"},
		{HTTPCheck{Method: "HEAD", Body: "ok"}, "Body"},
		{HTTPCheck{Expect: "2xx"}, "Expect"},
		{HTTPCheck{Expect: "399-200"}, "Expect"},
		{HTTPCheck{Body: string(make([]byte, MaxBodyBytes+1))}, "Body"},
	}
	for _, tt := range tests {
		_, err := HTTPProbe(tt.check)
		require.ErrorIs(t, err, ErrInvalidConfig, "%+v", tt.check)
		require.ErrorContains(t, err, tt.want)
	}
}

func TestGRPCProbe(t *testing.T) {
	b := newGRPCBackend(t)
	b.health.SetServingStatus("cairn.app.v1.AppService", healthpb.HealthCheckResponse_NOT_SERVING)

	require.NoError(t, check(GRPCProbe("", nil), b.addr, waitFor), "the server as a whole serves")

	err := check(GRPCProbe("cairn.app.v1.AppService", nil), b.addr, waitFor)
	require.ErrorIs(t, err, ErrNotServing)
	require.ErrorContains(t, err, "NOT_SERVING")

	b.health.SetServingStatus("cairn.app.v1.AppService", healthpb.HealthCheckResponse_SERVING)
	require.NoError(t, check(GRPCProbe("cairn.app.v1.AppService", nil), b.addr, waitFor))

	err = check(GRPCProbe("unknown.Service", nil), b.addr, waitFor)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotServing))
	require.ErrorContains(t, err, "NotFound")

	err = check(GRPCProbe("", nil), closedAddr(t), waitFor)
	require.ErrorContains(t, err, "Unavailable")

	// A TLS probe against a plaintext server fails (handshake).
	require.Error(t, check(GRPCProbe("", &tls.Config{}), b.addr, 2*time.Second))
}
