package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// Regression (issue 12): `election campaign "" v` created a session before the
// server refused the name. Names are checked before any side effect: the
// command is a usage error and nothing reaches the Raft log.
func TestLockdNamesCheckedBeforeSessions(t *testing.T) {
	l := newLockdCLI(t, 1)
	leader := l.cluster.Member(l.cluster.WaitLeader()).Server.Node()
	// The leader's own first entry of its term commits on its own schedule:
	// count from after it, so that only entries the commands made are counted.
	// (lockd's leader proposes entries of its own when it takes over.)
	nodetest.WaitFor(t, 10*time.Second, "the leader to commit what it has appended", func() bool {
		st := leader.Status()
		return st.CommitIndex >= st.LastIndex
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, leader.WaitApplied(ctx, leader.Status().CommitIndex))
	before := leader.AppliedIndex()
	for _, args := range [][]string{
		{"election", "campaign", "", "v"},
		{"election", "campaign", "bad\xff", "v"},
		{"lock", "acquire", "", "--", "true"},
		{"lock", "acquire", "bad\xff", "--", "true"},
	} {
		r := l.run(args...)
		require.Error(t, r.err, "%q", args)
		require.Equal(t, exitUsage, r.code(), "%q: %v", args, r.err)
	}
	require.Equal(t, before, leader.AppliedIndex(), "a refused name created a session")
}
