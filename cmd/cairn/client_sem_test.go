package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSemCommands(t *testing.T) {
	l := newLockdCLI(t, 1)
	ctx := testCtx(t)
	c := l.goClient()
	var ids []uint64
	for i := range 2 {
		s, err := c.NewSession(ctx, 10*time.Second)
		require.NoError(t, err)
		_, err = s.SemaphoreAcquire(ctx, "batch", 2, []byte("job-"+strconv.Itoa(i)))
		require.NoError(t, err)
		ids = append(ids, s.ID())
	}

	// Both permits are held: no third.
	r := l.run("sem", "acquire", "batch", "--permits", "2", "--wait", "0", "--", "true")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "job-0")
	require.ErrorContains(t, r.err, "job-1")
	r = l.run("sem", "acquire", "batch", "--permits", "2", "--wait", "200ms")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	// sem try is acquire --wait 0, like lock try.
	r = l.run("sem", "try", "batch", "--permits", "2", "--", "true")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "not acquired now")

	// Another size is refused while the semaphore is in use: a conflict with its
	// current state.
	r = l.run("sem", "acquire", "batch", "--permits", "3", "--wait", "0", "--", "true")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)

	r = l.run("sem", "list", "-o", "json")
	require.NoError(t, r.err, r.stderr)
	var list struct {
		Semaphores []semView `json:"semaphores"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list), r.stdout)
	require.Len(t, list.Semaphores, 1)
	require.Equal(t, "batch", list.Semaphores[0].Name)
	require.EqualValues(t, 2, list.Semaphores[0].Permits)
	require.Len(t, list.Semaphores[0].Holders, 2)

	// Free one permit from "elsewhere"; then a command runs under it.
	r = l.run("sem", "release", "batch", "--session", strconv.FormatUint(ids[0], 10))
	require.NoError(t, r.err, r.stderr)
	r = l.run("sem", "acquire", "batch", "--permits", "2", "--", "sh", "-c", "echo token=$CAIRN_SEM_TOKEN name=$CAIRN_SEM_NAME")
	require.NoError(t, r.err, r.stderr)
	positive(t, envField(t, r.stdout, "token"))
	require.Equal(t, "batch", envField(t, r.stdout, "name"))

	r = l.run("sem", "describe", "batch")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "permits: 2 (1 held)")
	require.Contains(t, r.stdout, `owner "job-1"`)

	r = l.run("sem", "release", "batch", "--session", strconv.FormatUint(ids[0], 10))
	require.ErrorContains(t, r.err, "does not hold semaphore")
}
