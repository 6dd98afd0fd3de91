package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/lockd/lockdtest"
)

// Regression (issue 12): a name that is not valid UTF-8 failed with
// "Internal: grpc: error while marshaling"; the client now refuses it up front
// with InvalidArgument naming the field. WithLock checks its name before it
// creates a session, so a bad name has no side effect. An empty campaign value
// is accepted, as etcd accepts it.
func TestClientRefusesInvalidNames(t *testing.T) {
	c := lockdtest.New(t, 1, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 30*time.Second)
	s := session(t, cli, 5*time.Second)

	bad := "bad\xff"
	checks := []struct {
		field string
		call  func() error
	}{
		{"name", func() error { _, err := s.Acquire(ctx, bad, nil); return err }},
		{"name", func() error { _, err := s.TryAcquire(ctx, bad, nil); return err }},
		{"name", func() error { return s.Release(ctx, bad) }},
		{"name", func() error { _, err := cli.Describe(ctx, bad); return err }},
		{"prefix", func() error { _, _, err := cli.List(ctx, bad, "", 0); return err }},
		{"start_after", func() error { _, _, err := cli.List(ctx, "", bad, 0); return err }},
		{"name", func() error { _, err := s.SemaphoreAcquire(ctx, bad, 1, nil); return err }},
		{"name", func() error { return s.SemaphoreRelease(ctx, bad) }},
		{"name", func() error { _, err := cli.SemaphoreDescribe(ctx, bad); return err }},
		{"prefix", func() error { _, _, err := cli.SemaphoreList(ctx, bad, "", 0); return err }},
		{"election", func() error { _, err := s.Campaign(ctx, bad, []byte("v")); return err }},
		{"election", func() error { _, err := s.Proclaim(ctx, bad, []byte("v")); return err }},
		{"election", func() error { return s.Resign(ctx, bad) }},
		{"election", func() error { _, err := cli.Leader(ctx, bad); return err }},
	}
	for i, tc := range checks {
		err := tc.call()
		require.ErrorIs(t, err, ErrInvalidArgument, "check %d: %v", i, err)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "check %d: %v", i, err)
		require.ErrorContains(t, err, tc.field+` "bad\xff" is not valid UTF-8`, "check %d", i)
	}
	_, open := <-cli.Observe(ctx, bad)
	require.False(t, open, "Observe of an invalid name closes its channel")

	// WithLock refuses a bad name before creating a session: nothing is proposed.
	before := appliedIndex(t, cli)
	for _, name := range []string{"", bad} {
		err := cli.WithLock(ctx, name, nil, 5*time.Second, func(context.Context, uint64) error {
			return errors.New("must not run")
		})
		require.ErrorIs(t, err, ErrInvalidArgument, "WithLock(%q)", name)
	}
	require.Equal(t, before, appliedIndex(t, cli), "WithLock with a bad name created a session")

	// An empty campaign value is accepted (as in etcd) and published as is.
	l, err := s.Campaign(ctx, "e1", nil)
	require.NoError(t, err)
	require.Equal(t, s.ID(), l.Session)
	require.Empty(t, l.Value)
	got, err := cli.Leader(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, s.ID(), got.Session)
	require.Empty(t, got.Value)
}

func appliedIndex(t *testing.T, cli *Client) uint64 {
	t.Helper()
	st, err := cli.Status(ctxT(t, 10*time.Second))
	require.NoError(t, err)
	return st.GetAppliedIndex()
}
