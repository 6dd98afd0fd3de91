package cached

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/node/nodetest"
)

// A transaction survives encodeTx and decodeTx unchanged.
func TestTxEncoding(t *testing.T) {
	tbl := newCommandTable()
	watches := []watchedKey{{key: "a", version: 7, expires: -1}, {key: "", version: 0, expires: 1 << 62}}
	cmds := [][][]byte{{[]byte("SET"), []byte("a"), []byte("")}, {[]byte("ping")}, {[]byte("MSET"), []byte("k"), []byte("v")}}
	w, c, ok := decodeTx(tbl, encodeTx(watches, cmds))
	require.True(t, ok)
	require.Equal(t, watches, w)
	require.Equal(t, cmds, c)
	for _, bad := range [][][]byte{
		{[]byte("cairn.exec")},
		{[]byte("cairn.exec"), []byte("1"), []byte("k"), []byte("1")},
		{[]byte("cairn.exec"), []byte("0"), []byte("2"), []byte("get")},
		{[]byte("cairn.exec"), []byte("0"), []byte("1"), []byte("get")},
		{[]byte("cairn.exec"), []byte("0"), []byte("1"), []byte("exec")},
		{[]byte("cairn.exec"), []byte("0"), []byte("2"), []byte("cairn.stamp"), []byte("k")},
		{[]byte("cairn.exec"), []byte("-1")},
	} {
		_, _, ok := decodeTx(tbl, bad)
		require.False(t, ok, "%q", bad)
	}
}

// decodeTx never panics, and what it accepts encodes back to its input.
func FuzzDecodeTx(f *testing.F) {
	tbl := newCommandTable()
	f.Add([]byte("0"), []byte("1"), []byte("ping"), []byte("x"))
	f.Add([]byte("1"), []byte("k"), []byte("3"), []byte("-1"))
	f.Fuzz(func(t *testing.T, a, b, c, d []byte) {
		args := [][]byte{[]byte("cairn.exec"), a, b, c, d}
		w, cmds, ok := decodeTx(tbl, args)
		if ok {
			again, cmds2, ok2 := decodeTx(tbl, encodeTx(w, cmds))
			if !ok2 || len(again) != len(w) || len(cmds2) != len(cmds) {
				t.Fatalf("%q decoded, re-encoded and failed", args)
			}
		}
	})
}

// A client that does not read its large replies may hold the gate's read
// side; other commands keep running while an EXEC waits for it, and the
// EXEC runs once the client is gone.
func TestStuckReaderDelaysOnlyExec(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.RESPIO = respIOGoroutine })
	srv := c.nodes[0].srv
	setup := dialRESP(t, srv.RESPAddr())
	require.Equal(t, "OK", setup.do("SET", "big", strings.Repeat("x", 1<<20-3)))

	stuck, err := net.Dial("tcp", srv.RESPAddr())
	require.NoError(t, err)
	w := resp.NewWriter(stuck)
	for range 64 {
		w.CommandString("GET", "big")
	}
	require.NoError(t, w.Flush())
	nodetest.WaitFor(t, 10*time.Second, "a reply blocked under the gate", func() bool {
		if srv.gate.TryLock() {
			srv.gate.Unlock()
			return false
		}
		return true
	})

	execer := dialRESP(t, srv.RESPAddr())
	require.Equal(t, "+OK\r\n", execer.raw("MULTI"))
	require.Equal(t, "+QUEUED\r\n", execer.raw("INCR", "n"))
	execer.wr.CommandString("EXEC")
	require.NoError(t, execer.wr.Flush())
	done := make(chan string, 1)
	go func() {
		rep, err := execer.rd.ReadReply()
		if err != nil {
			done <- err.Error()
			return
		}
		done <- rep.String()
	}()

	other := dialRESP(t, srv.RESPAddr())
	for i := range 50 {
		require.Equal(t, "OK", other.do("SET", "k", strconv.Itoa(i)))
		require.Equal(t, strconv.Quote(strconv.Itoa(i)), other.do("GET", "k"))
	}
	select {
	case got := <-done:
		t.Fatalf("EXEC ran while a command held the gate: %s", got)
	default:
	}
	require.NoError(t, stuck.Close())
	select {
	case got := <-done:
		require.Equal(t, "[(integer) 1]", got)
	case <-time.After(30 * time.Second):
		t.Fatal("EXEC did not run after the stuck client left")
	}
}

// As in redis-server 7.0.15: a watched key that expires before EXEC aborts
// it; a key that had expired before WATCH counts as missing and does not.
func TestWatchExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.clock = func() time.Time { return time.Unix(0, now.Load()) } })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	runRawCases(t, rc, []rawCase{{"SET wk v PX 100", "+OK\r\n"}, {"WATCH wk", "+OK\r\n"}})
	now.Add(int64(200 * time.Millisecond))
	runRawCases(t, rc, []rawCase{{"MULTI", "+OK\r\n"}, {"PING", "+QUEUED\r\n"}, {"EXEC", "*-1\r\n"}})
	runRawCases(t, rc, []rawCase{{"SET wk2 v PX 100", "+OK\r\n"}})
	now.Add(int64(200 * time.Millisecond))
	runRawCases(t, rc, []rawCase{{"WATCH wk2", "+OK\r\n"}, {"MULTI", "+OK\r\n"}, {"PING", "+QUEUED\r\n"}, {"EXEC", "*1\r\n+PONG\r\n"}})
}

// A command refused for an argument over resp_max_bulk inside MULTI fails
// the transaction, as any command refused while queueing does.
func TestMultiRefusedArgument(t *testing.T) { forEachRESPIO(t, testMultiRefusedArgument) }

func testMultiRefusedArgument(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, func(cfg *Config) { tune(cfg); cfg.RESPMaxBulk = 1 << 20 })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	huge := strings.Repeat("y", 2<<20)
	require.Equal(t, "OK", rc.do("MULTI"))
	require.Equal(t, "QUEUED", rc.do("SET", "k", "v"))
	require.Equal(t, fmt.Sprintf("(error) ERR argument is %d bytes, the limit (resp_max_bulk) is %d", len(huge), 1<<20), rc.do("SET", "k", huge))
	require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", rc.raw("EXEC"))
	require.Equal(t, "$-1\r\n", rc.raw("GET", "k"))
}
