package cached

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

// Hash commands answer byte for byte what redis-server 7.0.15 answered to the
// same commands (checked on a loopback redis-server, persistence off).
func TestRESPHashCommands(t *testing.T) { forEachRESPIO(t, testRESPHashCommands) }

func testRESPHashCommands(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	runRawCases(t, rc, []rawCase{
		{"HSET h a 1 b 2 c 3", ":3\r\n"},
		{"HSET h a 10 d 4", ":1\r\n"},
		{"HSET h x", "-ERR wrong number of arguments for 'hset' command\r\n"},
		{"HSET h x y z", "-ERR wrong number of arguments for 'hset' command\r\n"},
		{"HGETALL h", "*8\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"},
		{"HDEL h b zz", ":1\r\n"},
		{"HGETALL h", "*6\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"},
		{"HSET h b 5", ":1\r\n"},
		{"HKEYS h", "*4\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n"},
		{"HVALS h", "*4\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
		{"HLEN h", ":4\r\n"},
		{"HGET h a", "$2\r\n10\r\n"},
		{"HGET h nope", "$-1\r\n"},
		{"HGET nokey a", "$-1\r\n"},
		{"HMGET h a nope d", "*3\r\n$2\r\n10\r\n$-1\r\n$1\r\n4\r\n"},
		{"HMSET h e 6", "+OK\r\n"},
		{"HSETNX h e 7", ":0\r\n"},
		{"HSETNX h f 7", ":1\r\n"},
		{"HEXISTS h e", ":1\r\n"},
		{"HEXISTS h zz", ":0\r\n"},
		{"HSTRLEN h a", ":2\r\n"},
		{"HSTRLEN h zz", ":0\r\n"},
		{"HINCRBY h a 5", ":15\r\n"},
		{"HINCRBY h new 5", ":5\r\n"},
		{"HINCRBY h a x", "-ERR value is not an integer or out of range\r\n"},
		{"HINCRBY h a 9223372036854775807", "-ERR increment or decrement would overflow\r\n"},
		{"HSET h s abc", ":1\r\n"},
		{"HINCRBY h s 1", "-ERR hash value is not an integer\r\n"},
		{"HINCRBYFLOAT h fl 0.1", "$3\r\n0.1\r\n"},
		{"HINCRBYFLOAT h fl 0.2", "$3\r\n0.3\r\n"},
		{"HINCRBYFLOAT h fl 1e3", "$22\r\n1000.29999999999999999\r\n"},
		{"HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"},
		{"HINCRBYFLOAT h fl abc", "-ERR value is not a valid float\r\n"},
		{"HINCRBYFLOAT h big 1e20", "$21\r\n100000000000000000000\r\n"},
		{"HINCRBYFLOAT h neg -3.25", "$5\r\n-3.25\r\n"},
		{"GET h", wrongType},
		{"APPEND h x", wrongType},
		{"INCR h", wrongType},
		{"STRLEN h", wrongType},
		{"GETDEL h", wrongType},
		{"GETRANGE h 0 1", wrongType},
		{"SUBSTR h 0 1", wrongType},
		{"GETSET h x", wrongType},
		{"SET h x GET", wrongType},
		{"GETEX h", wrongType},
		{"SETRANGE h 0 x", wrongType},
		{"INCRBYFLOAT h 1", wrongType},
		{"SETNX h x", ":0\r\n"},
		{"MSETNX h x", ":0\r\n"},
		{"MGET h", "*1\r\n$-1\r\n"},
		{"SET str v", "+OK\r\n"},
		{"HGET str a", wrongType},
		{"HSET str a 1", wrongType},
		{"HGETALL str", wrongType},
		{"HLEN str", wrongType},
		{"HGETALL nokey", "*0\r\n"},
		{"HKEYS nokey", "*0\r\n"},
		{"HLEN nokey", ":0\r\n"},
		{"TYPE h", "+hash\r\n"},
		{"TYPE str", "+string\r\n"},
		{"TYPE nokey", "+none\r\n"},
		{"HDEL h a b c d e f s fl x new big neg", ":11\r\n"},
		{"EXISTS h", ":0\r\n"},
		{"HSCAN h 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"HSET h2 f1 v1 f2 v2 g1 v3", ":3\r\n"},
		{"HSCAN h2 0", "*2\r\n$1\r\n0\r\n*6\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\ng1\r\n$2\r\nv3\r\n"},
		{"HSCAN h2 0 MATCH f*", "*2\r\n$1\r\n0\r\n*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n"},
		{"HSCAN h2 0 COUNT 1", "*2\r\n$1\r\n0\r\n*6\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\ng1\r\n$2\r\nv3\r\n"},
		{"HSCAN h2 x", "-ERR invalid cursor\r\n"},
		{"HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"HSCAN h2 0 COUNT 0", "-ERR syntax error\r\n"},
		{"HSCAN h2 0 FOO", "-ERR syntax error\r\n"},
		{"HSCAN str 0", wrongType},
		{"HGET h", "-ERR wrong number of arguments for 'hget' command\r\n"},
		{"HINCRBYFLOAT h2 f1 1", "-ERR hash value is not a float\r\n"},
		{"HINCRBY h2 f1 1", "-ERR hash value is not an integer\r\n"},
		{"HINCRBYFLOAT h3 a 3.0", "$1\r\n3\r\n"},
		{"HINCRBYFLOAT h3 b 5.0e3", "$4\r\n5000\r\n"},
		{"HINCRBYFLOAT h3 c 1.1e-5", "$8\r\n0.000011\r\n"},
		{"HINCRBYFLOAT h3 f 1.", "$1\r\n1\r\n"},
		{"HINCRBYFLOAT h3 g .5", "$3\r\n0.5\r\n"},
		{"HINCRBYFLOAT h3 h -0", "$1\r\n0\r\n"},
		{"HINCRBYFLOAT hf a inf", "-ERR value is NaN or Infinity\r\n"},
		{"HINCRBYFLOAT hf a nan", "-ERR value is not a valid float\r\n"},
		{"HINCRBYFLOAT hf a -inf", "-ERR value is NaN or Infinity\r\n"},
		{"HINCRBYFLOAT hf a Infinity", "-ERR value is NaN or Infinity\r\n"},
		{"HSET hf b inf", ":1\r\n"},
		{"HINCRBYFLOAT hf b 1", "-ERR increment would produce NaN or Infinity\r\n"},
		{"HINCRBYFLOAT hf d 0x1p3", "$1\r\n8\r\n"},
		{"HINCRBYFLOAT hf d 0x10", "$2\r\n24\r\n"},
		{"HINCRBYFLOAT hf e 1_0", "-ERR value is not a valid float\r\n"},
		{"HINCRBYFLOAT hf e 1e", "-ERR value is not a valid float\r\n"},
		{"HINCRBYFLOAT hf e +5", "$1\r\n5\r\n"},
		{"HRANDFIELD nokey", "$-1\r\n"},
		{"HRANDFIELD nokey 5", "*0\r\n"},
		{"HSET one a 1", ":1\r\n"},
		{"HRANDFIELD one", "$1\r\na\r\n"},
		{"HRANDFIELD one 0", "*0\r\n"},
		{"HRANDFIELD one 3", "*1\r\n$1\r\na\r\n"},
		{"HRANDFIELD one -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"},
		{"HRANDFIELD one 1 WITHVALUES", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"HRANDFIELD one -2 WITHVALUES", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"HRANDFIELD one 1 foo", "-ERR syntax error\r\n"},
		{"HRANDFIELD one x", "-ERR value is not an integer or out of range\r\n"},
		{"HRANDFIELD one 1 WITHVALUES x", "-ERR syntax error\r\n"},
		{"HRANDFIELD one -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
		{"HRANDFIELD str", wrongType},
		// SET replaces a hash, as in Redis.
		{"SET h2 now-a-string", "+OK\r\n"},
		{"TYPE h2", "+string\r\n"},
	})
	// The largest long double is about 1.19e4932: redis-server prints 1e4932
	// with 4933 digits (these are its first 61), and doubling overflows.
	big := rc.raw("HINCRBYFLOAT", "hf", "c", "1e4932")
	require.True(t, strings.HasPrefix(big, "$4933\r\n1000000000000000000006018949387963891323837774254533114773785"), big[:80])
	require.Len(t, big, len("$4933\r\n")+4933+2)
	require.Equal(t, "-ERR increment would produce NaN or Infinity\r\n", rc.raw("HINCRBYFLOAT", "hf", "c", "1e4932"))
	require.Equal(t, "(integer) 3", rc.do("HSET", "three", "a", "1", "b", "2", "c", "3"))
	for range 20 {
		rep := rc.reply("HRANDFIELD", "three", "2")
		require.Len(t, rep.Elems, 2)
		require.NotEqual(t, rep.Elems[0].Str, rep.Elems[1].Str)
		require.Subset(t, []string{"a", "b", "c"}, []string{rep.Elems[0].Str, rep.Elems[1].Str})
	}
}

// TYPE, KEYS, TOUCH, RENAME, RENAMENX and SCAN on one node, byte for byte as
// redis-server 7.0.15 (KEYS and SCAN sorted: the order of keys is the
// store's, redis's differs).
func TestRESPKeyspace(t *testing.T) { forEachRESPIO(t, testRESPKeyspace) }

func testRESPKeyspace(t *testing.T, tune func(*Config)) {
	frozen := time.Now()
	c := newTestCluster(t, 1, func(cfg *Config) { tune(cfg); cfg.clock = func() time.Time { return frozen } })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	for _, k := range []string{"a", "b", "abc", "a*c", "hello", "hallo", "hxllo"} {
		require.Equal(t, "OK", rc.do("SET", k, "v"))
	}
	sorted := func(cmd ...string) []string {
		rep := rc.reply(cmd...)
		var out []string
		elems := rep.Elems
		if strings.EqualFold(cmd[0], "scan") {
			require.Equal(t, "0", elems[0].Str)
			elems = elems[1].Elems
		}
		for _, e := range elems {
			out = append(out, e.Str)
		}
		return sortedCopy(out)
	}
	require.Equal(t, []string{"hallo", "hello"}, sorted("KEYS", "h[ae]llo"))
	require.Equal(t, []string{"hallo", "hxllo"}, sorted("KEYS", "h[^e]llo"))
	require.Equal(t, []string{"hallo", "hello"}, sorted("KEYS", "h[a-e]llo"))
	require.Equal(t, []string{"a*c"}, sorted("KEYS", `a\*c`))
	require.Equal(t, []string{"hallo", "hello", "hxllo"}, sorted("KEYS", "h?llo"))
	require.Equal(t, []string{"a", "a*c", "abc", "b", "hallo", "hello", "hxllo"}, sorted("KEYS", "*"))
	runRawCases(t, rc, []rawCase{
		{"KEYS", "-ERR wrong number of arguments for 'keys' command\r\n"},
		{"TOUCH a b nope", ":2\r\n"},
		{"TOUCH", "-ERR wrong number of arguments for 'touch' command\r\n"},
		{"EXPIRE a 100", ":1\r\n"},
		{"RENAME a z", "+OK\r\n"},
		{"TTL z", ":100\r\n"},
		{"EXISTS a", ":0\r\n"},
		{"RENAME nope x", "-ERR no such key\r\n"},
		{"RENAMENX z b", ":0\r\n"},
		{"RENAMENX z y", ":1\r\n"},
		{"RENAME y y", "+OK\r\n"},
		{"RENAMENX y y", ":0\r\n"},
		{"RENAME nope nope", "-ERR no such key\r\n"},
		{"RENAMENX nope x", "-ERR no such key\r\n"},
		{"HSET h f v", ":1\r\n"},
		{"RENAME h h2", "+OK\r\n"},
		{"TYPE h2", "+hash\r\n"},
		{"SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nh2\r\n"},
		{"SCAN x", "-ERR invalid cursor\r\n"},
		{"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
		{"SCAN 0 TYPE foo", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"SCAN 18446744073709551615", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"SCAN 18446744073709551616", "-ERR invalid cursor\r\n"},
		{"SCAN -1", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"SCAN 0 MATCH", "-ERR syntax error\r\n"},
		{"SCAN 0 foo bar", "-ERR syntax error\r\n"},
		{"TYPE", "-ERR wrong number of arguments for 'type' command\r\n"},
	})
	require.Equal(t, []string{"h2", "hallo", "hello", "hxllo"}, sorted("SCAN", "0", "COUNT", "1000", "MATCH", "h*"))
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// MULTI, EXEC, DISCARD, WATCH and UNWATCH on one node, byte for byte as
// redis-server 7.0.15, in both I/O modes.
func TestRESPMulti(t *testing.T) { forEachRESPIO(t, testRESPMulti) }

func testRESPMulti(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	other := dialRESP(t, c.nodes[0].srv.RESPAddr())
	runRawCases(t, rc, []rawCase{
		{"EXEC", "-ERR EXEC without MULTI\r\n"},
		{"DISCARD", "-ERR DISCARD without MULTI\r\n"},
		{"MULTI", "+OK\r\n"},
		{"MULTI", "-ERR MULTI calls can not be nested\r\n"},
		{"SET a 1", "+QUEUED\r\n"},
		{"WATCH a", "-ERR WATCH inside MULTI is not allowed\r\n"},
		{"UNWATCH", "+QUEUED\r\n"},
		{"NOSUCH x", "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"},
		{"GET", "-ERR wrong number of arguments for 'get' command\r\n"},
		{"INCR a", "+QUEUED\r\n"},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"GET a", "$-1\r\n"},
		{"MULTI", "+OK\r\n"},
		{"SET a 1", "+QUEUED\r\n"},
		{"INCR a", "+QUEUED\r\n"},
		{"HSET a f v", "+QUEUED\r\n"},
		{"GET a", "+QUEUED\r\n"},
		{"EXEC", "*4\r\n+OK\r\n:2\r\n" + wrongType + "$1\r\n2\r\n"},
		{"MULTI", "+OK\r\n"},
		{"DISCARD", "+OK\r\n"},
		{"UNWATCH", "+OK\r\n"},
		{"WATCH", "-ERR wrong number of arguments for 'watch' command\r\n"},
		{"WATCH a b", "+OK\r\n"},
		{"MULTI", "+OK\r\n"},
		{"PING", "+QUEUED\r\n"},
		{"EXEC", "*1\r\n+PONG\r\n"},
		{"MULTI", "+OK\r\n"},
		{"EXEC", "*0\r\n"},
	})
	// A watched key written, expired (TTL change), persisted, deleted or
	// flushed by another client aborts EXEC; one left alone does not, nor
	// does the deletion of a key that did not exist.
	for _, tc := range []struct {
		setup  []string // run by the other client after WATCH
		key    string
		before []string // run by rc before WATCH
		want   string
	}{
		{[]string{"SET", "a", "5"}, "a", nil, "*-1\r\n"},
		{[]string{"HSET", "hh", "f", "v"}, "hh", nil, "*-1\r\n"},
		{[]string{"EXPIRE", "a", "100"}, "a", nil, "*-1\r\n"},
		{[]string{"PERSIST", "a"}, "a", nil, "*-1\r\n"},
		{[]string{"DEL", "a"}, "a", nil, "*-1\r\n"},
		{[]string{"FLUSHALL"}, "x", []string{"SET", "x", "1"}, "*-1\r\n"},
		{[]string{"DEL", "nokey"}, "nokey", nil, "*1\r\n+PONG\r\n"},
		{[]string{"GET", "a"}, "a", nil, "*1\r\n+PONG\r\n"},
		{[]string{"SET", "unrelated", "1"}, "a", nil, "*1\r\n+PONG\r\n"},
	} {
		if tc.before != nil {
			rc.do(tc.before...)
		}
		require.Equal(t, "+OK\r\n", rc.raw("WATCH", tc.key))
		other.do(tc.setup...)
		require.Equal(t, "+OK\r\n", rc.raw("MULTI"))
		require.Equal(t, "+QUEUED\r\n", rc.raw("PING"))
		require.Equal(t, tc.want, rc.raw("EXEC"), "%v", tc.setup)
	}
	// WATCH is cleared by EXEC, DISCARD and UNWATCH.
	require.Equal(t, "+OK\r\n", rc.raw("WATCH", "a"))
	require.Equal(t, "+OK\r\n", rc.raw("UNWATCH"))
	other.do("SET", "a", "6")
	require.Equal(t, "+OK\r\n", rc.raw("MULTI"))
	require.Equal(t, "*0\r\n", rc.raw("EXEC"))

	// A pipeline: the whole block in one write.
	rc.wr.CommandString("MULTI")
	rc.wr.CommandString("SET", "p", "1")
	rc.wr.CommandString("INCR", "p")
	rc.wr.CommandString("EXEC")
	rc.wr.CommandString("GET", "p")
	require.NoError(t, rc.wr.Flush())
	for _, want := range []string{"OK", "QUEUED", "QUEUED", `[OK, (integer) 2]`, `"2"`} {
		rep, err := rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, want, rep.String())
	}
	require.Equal(t, "+OK\r\n", rc.raw("MULTI"))
	require.Equal(t, "+OK\r\n", rc.raw("QUIT"))
}

// HELLO answers redis-server 7's map as a RESP2 array; HELLO 3 is NOPROTO.
func TestRESPHello(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	id := rc.reply("CLIENT", "ID").Int
	hello := func(id int64) string {
		return "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:" +
			itoa(id) + "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
	}
	runRawCases(t, rc, []rawCase{
		{"HELLO", hello(id)},
		{"HELLO 2", hello(id)},
		{"HELLO 3", "-NOPROTO unsupported protocol version\r\n"},
		{"HELLO 1", "-NOPROTO unsupported protocol version\r\n"},
		{"HELLO x", "-ERR Protocol version is not an integer or out of range\r\n"},
		{"HELLO 2 SETNAME foo", hello(id)},
		{"CLIENT GETNAME", "$3\r\nfoo\r\n"},
		{"HELLO 2 AUTH default pw", hello(id)},
		{"HELLO 2 AUTH a", "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
		{"HELLO 2 FOO", "-ERR Syntax error in HELLO option 'FOO'\r\n"},
	})

	pc := newTestCluster(t, 1, func(cfg *Config) { cfg.RESPPassword = "pw" })
	rc = dialRESP(t, pc.nodes[0].srv.RESPAddr())
	noauth := "-" + errHelloNoAuth + "\r\n"
	runRawCases(t, rc, []rawCase{
		{"HELLO", noauth},
		{"HELLO 2", noauth},
		{"HELLO 2 AUTH default bad", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"HELLO 2 AUTH bob pw", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"GET k", "-NOAUTH Authentication required.\r\n"},
	})
	rep := rc.reply("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n1")
	require.Len(t, rep.Elems, 14)
	require.Equal(t, "$2\r\nn1\r\n", rc.raw("CLIENT", "GETNAME"))
	require.Equal(t, "$-1\r\n", rc.raw("GET", "k"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
