package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

var electedLine = regexp.MustCompile(`^elected: (\S+) \(token (\d+)\)$`)

func TestElectionCommands(t *testing.T) {
	l := newLockdCLI(t, 3)

	obsCtx, stopObserve := context.WithCancel(testCtx(t))
	observed, waitObserve := l.start(obsCtx, "election", "observe", "svc")
	require.Equal(t, "no leader", nextLine(t, observed))

	ctxA, cancelA := context.WithCancel(testCtx(t))
	linesA, waitA := l.start(ctxA, "election", "campaign", "svc", "node-a", "--ttl", "3s")
	m := electedLine.FindStringSubmatch(nextLine(t, linesA))
	require.NotNil(t, m)
	require.Equal(t, "node-a", m[1])
	token := positive(t, m[2])
	require.Regexp(t, `^leader: node-a \(session \d+, token `+m[2]+`\)$`, nextLine(t, observed))

	r := l.run("election", "leader", "svc")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, "node-a\n", r.stdout)
	r = l.run("election", "leader", "svc", "-o", "json")
	require.NoError(t, r.err)
	var lv leaderView
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &lv), r.stdout)
	require.Equal(t, "node-a", lv.Value)
	require.Equal(t, token, lv.Token)
	require.Positive(t, lv.Session)

	// node-b queues behind node-a; resigning node-a from elsewhere elects it.
	ctxB, cancelB := context.WithCancel(testCtx(t))
	linesB, waitB := l.start(ctxB, "election", "campaign", "svc", "node-b")
	r = l.run("election", "resign", "svc", "--session", strconv.FormatUint(lv.Session+1000, 10))
	require.Error(t, r.err)
	r = l.run("election", "resign", "svc", "--session", strconv.FormatUint(lv.Session, 10))
	require.NoError(t, r.err, r.stderr)
	mb := electedLine.FindStringSubmatch(nextLine(t, linesB))
	require.NotNil(t, mb)
	require.Equal(t, "node-b", mb[1])
	require.Greater(t, positive(t, mb[2]), token)
	// Unless node-b had queued before the resign, "no leader" comes between.
	line := nextLine(t, observed)
	if line == "no leader" {
		line = nextLine(t, observed)
	}
	require.Regexp(t, `^leader: node-b `, line)

	// node-a notices that it no longer leads.
	resA := waitA()
	require.Equal(t, exitLost, resA.code(), "%v", resA.err)
	require.ErrorContains(t, resA.err, "resigned by another client")
	cancelA()

	// Stopping node-b resigns: no leader.
	cancelB()
	resB := waitB()
	require.NoError(t, resB.err, resB.stderr)
	require.Contains(t, resB.stderr, `resigned from election "svc"`)
	r = l.run("election", "leader", "svc")
	require.Equal(t, exitNotFound, r.code())
	require.ErrorContains(t, r.err, "no leader")
	require.Equal(t, "no leader", nextLine(t, observed))

	stopObserve()
	require.NoError(t, waitObserve().err)
}
