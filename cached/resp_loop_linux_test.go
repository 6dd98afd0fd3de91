package cached

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/node/nodetest"
)

// A connection whose commands mostly go to other nodes leaves its event loop
// for a goroutine of its own, also with a command half received, and goes on
// being served in order; a connection with local keys stays.
func TestRESPMoveOffLoop(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	srv := c.nodes[0].srv
	local, remote := c.keyOwnedBy(0, "mv-"), c.keyOwnedBy(1, "mv-")
	moved := func() int {
		srv.resp.mu.Lock()
		defer srv.resp.mu.Unlock()
		n := 0
		for conn := range srv.resp.conns {
			if conn.nc != nil {
				n++
			}
		}
		return n
	}
	stays := dialRESP(t, srv.RESPAddr())
	rc := dialRESP(t, srv.RESPAddr())
	require.Equal(t, "OK", rc.do("SET", local, "v"))
	var get bytes.Buffer
	w := resp.NewWriter(&get)
	w.CommandString("GET", local)
	require.NoError(t, w.Flush())
	half := len(get.Bytes()) / 2
	for i := range 30 {
		// INCR for the other node, then half a GET: the loop hands the INCR
		// to a worker and the half GET stays buffered.
		_, err := rc.nc.Write(append([]byte(fmt.Sprintf("INCR %s\r\n", remote)), get.Bytes()[:half]...))
		require.NoError(t, err)
		rep, err := rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("(integer) %d", i+1), rep.String())
		_, err = rc.nc.Write(get.Bytes()[half:])
		require.NoError(t, err)
		rep, err = rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, `"v"`, rep.String())
		require.Equal(t, `"v"`, stays.do("GET", local))
	}
	require.Equal(t, 1, moved())
	require.Equal(t, []string{"OK", "(integer) 31", `"w"`}, rc.pipeline(
		[]string{"SET", local, "w"}, []string{"INCR", remote}, []string{"GET", local}))
	require.EqualValues(t, 2, srv.metrics.respConns.Load())
	require.NoError(t, rc.nc.Close())
	nodetest.WaitFor(t, 10*time.Second, "the moved connection to close", func() bool { return srv.resp.clients() == 1 })
	require.Equal(t, "PONG", stays.do("PING"))

	// Close ends a moved connection too.
	moving := dialRESP(t, srv.RESPAddr())
	for range 20 {
		moving.do("INCR", remote)
	}
	nodetest.WaitFor(t, 10*time.Second, "the connection to move", func() bool { return moved() == 1 })
	c.stopAll()
	_, err := moving.rd.ReadReply()
	require.Error(t, err)
	requireNoRESPGoroutines(t)
}
