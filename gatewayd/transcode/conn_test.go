package transcode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// whoAnswers makes one Range call over c and returns the name of the fake
// server that answered ("" on error).
func whoAnswers(t *testing.T, c *Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var resp kvpb.RangeResponse
	if err := c.Invoke(ctx, "/cairn.raftkv.v1.KVService/Range", &kvpb.RangeRequest{Key: []byte("x")}, &resp); err != nil {
		return ""
	}
	return string(resp.GetKvs()[0].GetKey())
}

// Calls spread round robin over every target; SetTargets moves them to
// the new list.
func TestConnRoundRobinAndSetTargets(t *testing.T) {
	a, _ := startFake(t, "a")
	b, _ := startFake(t, "b")
	c := newConn(t, a, b, a) // the duplicate is merged
	require.Equal(t, sortedPair(a, b), c.Targets())

	seen := map[string]int{}
	nodetest.WaitFor(t, 10*time.Second, "calls on both targets", func() bool {
		seen[whoAnswers(t, c)]++
		return seen["a"] > 0 && seen["b"] > 0
	})
	// Once both are ready, round robin alternates: 10 calls split 5/5.
	clear(seen)
	for range 10 {
		seen[whoAnswers(t, c)]++
	}
	require.Equal(t, map[string]int{"a": 5, "b": 5}, seen)

	require.NoError(t, c.SetTargets([]string{b}))
	nodetest.WaitFor(t, 10*time.Second, "calls only on b", func() bool {
		for range 5 {
			if whoAnswers(t, c) != "b" {
				return false
			}
		}
		return true
	})
}

// With no targets a call fails at once with UNAVAILABLE (a 503), rather
// than waiting for its deadline.
func TestConnWithoutTargetsFailsFast(t *testing.T) {
	c := newConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Invoke(ctx, "/cairn.raftkv.v1.KVService/Range", &kvpb.RangeRequest{}, &kvpb.RangeResponse{})
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	require.NoError(t, ctx.Err(), "failed before the deadline")
}

// After Close, SetTargets reports ErrClosed and calls fail; Close again is
// harmless.
func TestConnClose(t *testing.T) {
	a, _ := startFake(t, "a")
	c := newConn(t, a)
	require.Equal(t, "a", whoAnswers(t, c))
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	require.True(t, errors.Is(c.SetTargets([]string{a}), ErrClosed))
	require.Equal(t, "", whoAnswers(t, c))
}

func sortedPair(x, y string) []string {
	if x > y {
		x, y = y, x
	}
	return []string{x, y}
}

// Over TLS each target's host is the server name checked against the
// certificate (IP or DNS), and a plaintext Conn cannot call a TLS server.
func TestConnTLS(t *testing.T) {
	ca, err := pki.NewCA("transcode test CA")
	require.NoError(t, err)
	certPEM, keyPEM, err := ca.Issue(pki.RoleNode, "upstream", []string{"127.0.0.1", "localhost"})
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	addr := startGRPC(t, func(s *grpc.Server) { kvpb.RegisterKVServiceServer(s, &fakeKV{name: "tls"}) },
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})))
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca.CertPEM()))

	for _, target := range []string{addr, net.JoinHostPort("localhost", port)} {
		c, err := NewConn(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nodetest.Logger(t))
		require.NoError(t, err)
		require.NoError(t, c.SetTargets([]string{target}))
		require.Equal(t, "tls", whoAnswers(t, c), target)
		require.NoError(t, c.Close())
	}

	plain := newConn(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = plain.Invoke(ctx, "/cairn.raftkv.v1.KVService/Range", &kvpb.RangeRequest{}, &kvpb.RangeResponse{})
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
}
