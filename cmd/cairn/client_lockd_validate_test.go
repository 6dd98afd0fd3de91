package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Regression (issue 12): `election campaign "" v` created a session before the
// server refused the name. Names are checked before any side effect: the
// command is a usage error and nothing reaches the Raft log.
func TestLockdNamesCheckedBeforeSessions(t *testing.T) {
	l := newLockdCLI(t, 1)
	leader := l.cluster.Member(l.cluster.WaitLeader()).Server.Node()
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
