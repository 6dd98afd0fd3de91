package cached

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/node/nodetest"
)

// The replies and error texts of every command, as redis-server gives them.
func TestRESPCommands(t *testing.T) { forEachRESPIO(t, testRESPCommands) }

func testRESPCommands(t *testing.T, tune func(*Config)) {
	frozen := time.Now() // TTL and PTTL are exact however slow the machine
	c := newTestCluster(t, 1, func(cfg *Config) { tune(cfg); cfg.clock = func() time.Time { return frozen } })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"ping", "hi"}, `"hi"`},
		{[]string{"ECHO", "x y"}, `"x y"`},
		{[]string{"GET", "a"}, "(nil)"},
		{[]string{"SET", "a", "1"}, "OK"},
		{[]string{"GET", "a"}, `"1"`},
		{[]string{"SET", "a", "2", "NX"}, "(nil)"},
		{[]string{"SET", "b", "2", "XX"}, "(nil)"},
		{[]string{"SET", "a", "3", "XX", "EX", "100"}, "OK"},
		{[]string{"TTL", "a"}, "(integer) 100"},
		{[]string{"PTTL", "a"}, "(integer) 100000"},
		{[]string{"SET", "a", "4", "KEEPTTL"}, "OK"},
		{[]string{"TTL", "a"}, "(integer) 100"},
		{[]string{"SET", "a", "5"}, "OK"},
		{[]string{"TTL", "a"}, "(integer) -1"},
		{[]string{"TTL", "nope"}, "(integer) -2"},
		{[]string{"SET", "a", "5", "NX", "XX"}, "(error) ERR syntax error"},
		{[]string{"SET", "a", "5", "EX", "1", "PX", "1"}, "(error) ERR syntax error"},
		{[]string{"SET", "a", "5", "EX"}, "(error) ERR syntax error"},
		{[]string{"SET", "a", "5", "FOO"}, "(error) ERR syntax error"},
		{[]string{"SET", "a", "5", "EX", "x"}, "(error) ERR value is not an integer or out of range"},
		// Integers are read as Redis reads them: no '+', no leading zeros, no "-0".
		{[]string{"SET", "a", "5", "EX", "+10"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"SET", "a", "5", "EX", "010"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"EXPIRE", "a", "-0"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"SET", "a", "5", "EX", "0"}, "(error) ERR invalid expire time in 'set' command"},
		{[]string{"SET", "a", "5", "PX", "-5"}, "(error) ERR invalid expire time in 'set' command"},
		{[]string{"SET", "past", "5", "EXAT", "1"}, "OK"},
		{[]string{"EXISTS", "past"}, "(integer) 0"},
		// An absolute expiry reads back exactly (a TTL would depend on how
		// long the commands took on a loaded machine).
		{[]string{"SET", "fut", "5", "PXAT", "4102444800123"}, "OK"},
		{[]string{"PEXPIRETIME", "fut"}, "(integer) 4102444800123"},
		{[]string{"EXPIRETIME", "fut"}, "(integer) 4102444800"},
		{[]string{"EXPIRE", "a", "50"}, "(integer) 1"},
		{[]string{"TTL", "a"}, "(integer) 50"},
		{[]string{"PEXPIRE", "a", "50000"}, "(integer) 1"},
		{[]string{"PERSIST", "a"}, "(integer) 1"},
		{[]string{"PERSIST", "a"}, "(integer) 0"},
		{[]string{"EXPIRE", "nope", "5"}, "(integer) 0"},
		{[]string{"EXPIRE", "a", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"EXPIRE", "a", "0"}, "(integer) 1"},
		{[]string{"GET", "a"}, "(nil)"},
		{[]string{"INCR", "n"}, "(integer) 1"},
		{[]string{"INCRBY", "n", "10"}, "(integer) 11"},
		{[]string{"DECR", "n"}, "(integer) 10"},
		{[]string{"DECRBY", "n", "20"}, "(integer) -10"},
		{[]string{"INCRBY", "n", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"DECRBY", "n", "-9223372036854775808"}, "(error) ERR decrement would overflow"},
		{[]string{"SET", "big", "9223372036854775807"}, "OK"},
		{[]string{"INCR", "big"}, "(error) ERR increment or decrement would overflow"},
		{[]string{"SET", "s", "abc"}, "OK"},
		{[]string{"INCR", "s"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"APPEND", "s", "de"}, "(integer) 5"},
		{[]string{"APPEND", "new", "de"}, "(integer) 2"},
		{[]string{"STRLEN", "s"}, "(integer) 5"},
		{[]string{"STRLEN", "nope"}, "(integer) 0"},
		{[]string{"MSET", "m1", "x", "m2", "y"}, "OK"},
		{[]string{"MSET", "m1", "x", "m2"}, "(error) ERR wrong number of arguments for 'mset' command"},
		{[]string{"MGET", "m1", "nope", "m2"}, `["x", (nil), "y"]`},
		{[]string{"EXISTS", "m1", "m1", "nope"}, "(integer) 2"},
		{[]string{"GETDEL", "m1"}, `"x"`},
		{[]string{"GETDEL", "m1"}, "(nil)"},
		{[]string{"DEL", "m2", "s", "nope"}, "(integer) 2"},
		{[]string{"UNLINK", "new"}, "(integer) 1"},
		{[]string{"DBSIZE"}, "(integer) 3"},
		{[]string{"SELECT", "0"}, "OK"},
		{[]string{"SELECT", "1"}, "(error) ERR DB index is out of range"},
		{[]string{"SELECT", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"GET"}, "(error) ERR wrong number of arguments for 'get' command"},
		{[]string{"get", "a", "b"}, "(error) ERR wrong number of arguments for 'get' command"},
		{[]string{"FOO"}, "(error) ERR unknown command 'FOO', with args beginning with: "},
		{[]string{"foo", "a", "b c"}, "(error) ERR unknown command 'foo', with args beginning with: 'a' 'b c' "},
		{[]string{"CLIENT", "SETNAME", "me"}, "OK"},
		{[]string{"CLIENT", "GETNAME"}, `"me"`},
		{[]string{"CLIENT", "SETINFO", "lib-name", "x"}, "OK"},
		{[]string{"CONFIG", "GET", "nothing"}, "[]"},
		{[]string{"CONFIG", "GET", "save", "APPENDONLY"}, `["save", "", "appendonly", "no"]`},
		{[]string{"CONFIG", "GET", "maxmemory*"}, `["maxmemory", "268435456", "maxmemory-policy", "allkeys-lru"]`},
		{[]string{"COMMAND", "DOCS"}, "[]"},
		{[]string{"COMMAND", "COUNT"}, fmt.Sprintf("(integer) %d", len(c.nodes[0].srv.commands.list))},
		{[]string{"COMMAND", "INFO", "get"}, `[["get", (integer) 2, [readonly, fast], (integer) 1, (integer) 1, (integer) 1]]`},
		{[]string{"FLUSHALL"}, "OK"},
		{[]string{"DBSIZE"}, "(integer) 0"},
		{[]string{"SET", "toolarge", strings.Repeat("x", 1<<20)}, "(error) ERR item is 1048584 bytes (key plus value), the limit (max_item_bytes) is 1048576"},
	} {
		require.Equal(t, tc.want, rc.do(tc.cmd...), "%q", tc.cmd)
	}
	info := rc.reply("INFO")
	require.Equal(t, resp.KindBulk, info.Kind)
	for _, s := range []string{"# Server\r\n", "redis_version:", "# Clients\r\nconnected_clients:1", "# Memory\r\nused_memory:", "maxmemory_policy:allkeys-lru", "# Stats\r\n", "keyspace_hits:", "# Keyspace"} {
		require.Contains(t, info.Str, s)
	}
	require.NotContains(t, rc.reply("INFO", "memory").Str, "# Server")
	require.Equal(t, "OK", rc.do("QUIT"))
	_, err := rc.rd.ReadReply()
	require.ErrorIs(t, err, io.EOF)
}

// A pipeline of 100 commands is answered in order; a protocol error is
// reported in Redis's words and closes the connection.
func TestRESPPipelineAndProtocolErrors(t *testing.T) {
	forEachRESPIO(t, testRESPPipelineAndProtocolErrors)
}

func testRESPPipelineAndProtocolErrors(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	for i := range 50 {
		rc.wr.CommandString("SET", "p"+strconv.Itoa(i), strconv.Itoa(i))
		rc.wr.CommandString("GET", "p"+strconv.Itoa(i))
	}
	require.NoError(t, rc.wr.Flush())
	for i := range 50 {
		rep, err := rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, "OK", rep.String())
		rep, err = rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, strconv.Quote(strconv.Itoa(i)), rep.String())
	}

	// Inline commands work (telnet).
	raw := dialRESP(t, c.nodes[0].srv.RESPAddr())
	_, err := raw.nc.Write([]byte("PING\r\nGET p7\r\n"))
	require.NoError(t, err)
	br := bufio.NewReader(raw.nc)
	for _, want := range []string{"+PONG\r\n", "$1\r\n", "7\r\n"} {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, want, line)
	}
	_, err = raw.nc.Write([]byte("*1\r\n$x\r\n"))
	require.NoError(t, err)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "-ERR Protocol error: invalid bulk length\r\n", line)
	_, err = br.ReadString('\n')
	require.ErrorIs(t, err, io.EOF)
}

// A connection beyond resp_max_clients is refused with Redis's error.
// A closed connection frees its place.
func TestRESPMaxClients(t *testing.T) { forEachRESPIO(t, testRESPMaxClients) }

func testRESPMaxClients(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, func(cfg *Config) { tune(cfg); cfg.RESPMaxClients = 1 })
	srv := c.nodes[0].srv
	first := dialRESP(t, srv.RESPAddr())
	require.Equal(t, "PONG", first.do("PING"))
	second := dialRESP(t, srv.RESPAddr())
	rep, err := second.rd.ReadReply()
	require.NoError(t, err)
	require.Equal(t, "(error) ERR max number of clients reached", rep.String())
	require.EqualValues(t, 1, srv.metrics.respRefused.Load())
	require.NoError(t, first.nc.Close())
	nodetest.WaitFor(t, 10*time.Second, "the first connection to close", func() bool { return srv.resp.clients() == 0 })
	third := dialRESP(t, srv.RESPAddr())
	require.Equal(t, "PONG", third.do("PING"))
	require.EqualValues(t, 1, srv.metrics.respConns.Load())
	require.EqualValues(t, 2, srv.metrics.respTotal.Load())
}

// Close ends open RESP connections and Serve returns.
func TestRESPCloseEndsConnections(t *testing.T) { forEachRESPIO(t, testRESPCloseEndsConnections) }

func testRESPCloseEndsConnections(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "PONG", rc.do("PING"))
	c.nodes[0].srv.Close()
	<-c.nodes[0].done
	c.nodes[0].stopped = true
	_, err := rc.rd.ReadReply()
	require.Error(t, err)
}

// A local GET allocates nothing; a SET of an existing key allocates its key
// and value copies only.
func TestRESPAllocs(t *testing.T) {
	srv := newUnservedServer(t)
	x := &execCtx{s: srv, ctx: context.Background(), w: resp.NewWriter(io.Discard)}
	set := [][]byte{[]byte("SET"), []byte("key:0001"), []byte("value-value-value")}
	get := [][]byte{[]byte("GET"), []byte("key:0001")}
	srv.exec(x, set)
	if n := testing.AllocsPerRun(1000, func() { srv.exec(x, get) }); n != 0 {
		t.Errorf("GET allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { srv.exec(x, set) }); n > 2 {
		t.Errorf("SET allocates %v times, want <= 2", n)
	}
}

// newUnservedServer returns a single node that is not serving, for calling
// exec directly.
func newUnservedServer(t testing.TB) *Server {
	cfg := testConfig("solo")
	cfg.RESPAddr = ""
	srv, err := New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// Arbitrary arguments never panic the command handler and always produce
// exactly one well-formed reply.
func FuzzRESPExec(f *testing.F) {
	for _, s := range []string{
		"SET\x00k\x00v\x00EX\x0010", "SET\x00k\x00v\x00PXAT\x009223372036854775807", "GET\x00k", "MSET\x00a\x00b\x00c",
		"INCRBY\x00k\x00-9223372036854775808", "EXPIRE\x00k\x00-9223372036854775808", "COMMAND\x00INFO\x00get\x00x",
		"CLIENT\x00SETNAME\x00a b", "INFO\x00all", "FLUSHALL\x00ASYNC", "APPEND\x00k\x00zz", "QUIT", "mget\x00a\x00b",
		"set\x00k\x00v\x00exat\x001\x00nx",
	} {
		f.Add([]byte(s))
	}
	srv := newUnservedServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		args := bytes.Split(in, []byte{0})
		if len(args) == 0 || len(args) > 64 {
			return
		}
		var buf bytes.Buffer
		x := &execCtx{s: srv, ctx: context.Background(), w: resp.NewWriter(&buf)}
		srv.exec(x, args)
		require.NoError(t, x.w.Flush())
		rd := resp.NewReader(&buf)
		_, err := rd.ReadReply()
		require.NoError(t, err, "args %q", args)
		require.Zero(t, rd.Buffered(), "one reply for %q", args)
	})
}

// BenchmarkRESPGetSet drives one node over loopback with pipelines of P
// commands (half SET, half GET of 100-byte values over 10k keys).
func BenchmarkRESPGetSet(b *testing.B) {
	for _, p := range []int{1, 16} {
		b.Run(fmt.Sprintf("P%d", p), func(b *testing.B) {
			c := newTestCluster(b, 1, func(cfg *Config) { cfg.Server.ShutdownTimeout = time.Second })
			nc, err := net.Dial("tcp", c.nodes[0].srv.RESPAddr())
			require.NoError(b, err)
			defer nc.Close()
			rd, wr := resp.NewReader(nc), resp.NewWriter(nc)
			val := bytes.Repeat([]byte("v"), 100)
			keys := make([][]byte, 10000)
			for i := range keys {
				keys[i] = []byte(fmt.Sprintf("key:%08d", i))
			}
			set, get := []byte("SET"), []byte("GET")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += p {
				n := min(p, b.N-i)
				for j := range n {
					k := keys[(i+j)%len(keys)]
					if (i+j)%2 == 0 {
						wr.Command(set, k, val)
					} else {
						wr.Command(get, k)
					}
				}
				if err := wr.Flush(); err != nil {
					b.Fatal(err)
				}
				for range n {
					if _, err := rd.ReadReply(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// parseInt follows Redis's string2ll: compared with redis-server 7 (issue 13).
func TestParseIntLikeRedis(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "7": true, "-7": true, "10": true, "9223372036854775807": true, "-9223372036854775808": true,
		"": false, "-": false, "+5": false, "010": false, "-0": false, "-01": false, "00": false,
		"1e3": false, " 1": false, "1 ": false, "0x10": false, "9223372036854775808": false,
		"-9223372036854775809": false, "1.5": false,
	} {
		n, ok := parseInt([]byte(in))
		require.Equal(t, want, ok, "%q", in)
		if ok {
			require.Equal(t, in, strconv.FormatInt(n, 10))
		}
	}
}
