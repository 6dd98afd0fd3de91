package cached

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
)

// raw sends one command and returns its reply as RESP bytes (the encoding
// of a RESP2 reply is unique, so re-encoding the parsed reply gives the
// bytes the server sent).
func (c *respClient) raw(args ...string) string {
	c.t.Helper()
	rep := c.reply(args...)
	var b bytes.Buffer
	w := resp.NewWriter(&b)
	w.Reply(rep)
	require.NoError(c.t, w.Flush())
	return b.String()
}

// rawCase is a command and the exact reply redis-server 7.0 gives to it (on
// a clock frozen at frozenMS, where the reply depends on the time).
type rawCase struct {
	cmd  string // split on spaces; `""` is an empty argument
	want string
}

const frozenMS = 1_700_000_000_000

func runRawCases(t *testing.T, rc *respClient, cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		args := strings.Split(tc.cmd, " ")
		for i, a := range args {
			if a == `""` {
				args[i] = ""
			}
		}
		require.Equal(t, tc.want, rc.raw(args...), tc.cmd)
	}
}

func ok() string         { return "+OK\r\n" }
func null() string       { return "$-1\r\n" }
func num(n int64) string { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func bulk(s string) string {
	return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
}
func errReply(s string) string { return "-" + s + "\r\n" }

// frozenNode is a one-node cluster whose store clock stands at frozenMS.
func frozenNode(t *testing.T, tune func(*Config)) *respClient {
	frozen := time.UnixMilli(frozenMS)
	c := newTestCluster(t, 1, func(cfg *Config) {
		if tune != nil {
			tune(cfg)
		}
		cfg.clock = func() time.Time { return frozen }
	})
	return dialRESP(t, c.nodes[0].srv.RESPAddr())
}

// Expiry times as redis-server 7.0 computes them: in milliseconds, refused
// only when the absolute time overflows int64, kept beyond 2262 (where
// nanoseconds end) to the millisecond.
func TestRESPExpiryRange(t *testing.T) {
	rc := frozenNode(t, nil)
	const maxI = "9223372036854775807"
	invalid := func(cmd string) string { return errReply("ERR invalid expire time in '" + cmd + "' command") }
	runRawCases(t, rc, []rawCase{
		{"SET k v EX 10000000000", ok()},
		{"TTL k", num(10000000000)},
		{"SET k v PX 10000000000000", ok()},
		{"PTTL k", num(10000000000000)},
		{"SET k v EX " + maxI, invalid("set")},
		{"SET k v EX 9223372036854775", invalid("set")}, // now + that many ms overflows
		{"SET k v EX 9223372036854", ok()},
		{"TTL k", num(9223372036854)},
		{"SET k v PX " + maxI, invalid("set")},
		{"SET k v PX 9223372036854775", ok()},
		{"PTTL k", num(9223372036854775)},
		{"SET k v EXAT 9223372036854775", ok()},
		{"EXPIRETIME k", num(9223372036854775)},
		{"SET k v PXAT " + maxI, ok()},
		{"PEXPIRETIME k", num(9223372036854775807)},
		{"EXPIRETIME k", num(9223372036854776)},
		{"PTTL k", num(9223372036854775807 - frozenMS)},
		{"SET k v EX 0", invalid("set")},
		{"SET k v EX -1", invalid("set")},
		{"EXPIRE k 10000000000", num(1)},
		{"TTL k", num(10000000000)},
		{"EXPIRE k " + maxI, invalid("expire")},
		{"EXPIRE k 9223372036854775", invalid("expire")},
		{"EXPIRE k 9223372036854", num(1)},
		{"TTL k", num(9223372036854)},
		{"PEXPIRE k " + maxI, invalid("pexpire")},
		{"PEXPIRE k 9223372036854775", num(1)},
		{"PEXPIRETIME k", num(9223372036854775 + frozenMS)},
		{"EXPIRE k -100000000000", num(1)},
		{"EXISTS k", num(0)},
		{"SET k v", ok()},
		{"PEXPIRE k -9223372036854775808", num(1)},
		{"EXISTS k", num(0)},
		{"SET k v", ok()},
		{"EXPIRE k -9223372036854775808", invalid("expire")},
		{"EXPIRE k -9223372036854775", num(1)},
		{"EXISTS k", num(0)},
		{"SET k v", ok()},
		{"EXPIREAT k " + maxI, invalid("expireat")},
		{"EXPIREAT k 9223372036854775", num(1)},
		{"PEXPIREAT k " + maxI, num(1)},
		{"EXPIRETIME k", num(9223372036854776)},
		{"EXPIREAT k -5", num(1)},
		{"EXISTS k", num(0)},
		{"EXPIRE nokey 10000000000", num(0)},
		{"EXPIRE nokey " + maxI, invalid("expire")},
		{"EXPIRETIME nokey", num(-2)},
		{"PEXPIRETIME nokey", num(-2)},
		{"SET k v", ok()},
		{"EXPIRETIME k", num(-1)},
		{"SET k v PX 1500", ok()},
		{"TTL k", num(2)}, // seconds round half up, as Redis's (ttl+500)/1000
		{"PEXPIRETIME k", num(frozenMS + 1500)},
	})
}

// The options of SET, EXPIRE and GETEX, and the commands built on SET.
func TestRESPSetOptions(t *testing.T) {
	rc := frozenNode(t, nil)
	syntax := errReply("ERR syntax error")
	runRawCases(t, rc, []rawCase{
		{"SET k v EX 10 EX 100", ok()},
		{"TTL k", num(100)},
		{"SET k v KEEPTTL KEEPTTL", ok()},
		{"TTL k", num(100)},
		{"SET k v EX 10 PX 100", syntax},
		{"SET k v NX XX", syntax},
		{"SET k v NX NX", null()},
		{"SET k v XX XX", ok()},
		{"SET k v KEEPTTL EX 10", syntax},
		{"SET k v EX 10 KEEPTTL", syntax},
		{"SET k v PX 100 PX 200000", ok()},
		{"PTTL k", num(200000)},
		{"SET k v EXAT 100 EX 10", syntax},
		{"SET k v GET GET", bulk("v")},
		{"SET k v EX abc NX XX", syntax},
		{"SET k v EX abc", errReply("ERR value is not an integer or out of range")},
		{"SET k v EX", syntax},
		{"SET k v PERSIST", syntax},
		{"SET k v NX GET", bulk("v")},
		{"SET k2 v2 NX GET", null()},
		{"SET k2 v3 XX GET", bulk("v2")},
		{"GET k2", bulk("v3")},
		{"SET k v EX 0 GET", errReply("ERR invalid expire time in 'set' command")},
		{"SET k v EXAT 1", ok()},
		{"EXISTS k", num(0)},
		{"SET k v EXAT 1 GET", null()},
		{"SETEX k 10 v", ok()},
		{"TTL k", num(10)},
		{"SETEX k 0 v", errReply("ERR invalid expire time in 'setex' command")},
		{"SETEX k abc v", errReply("ERR value is not an integer or out of range")},
		{"SETEX k 9223372036854775 v", errReply("ERR invalid expire time in 'setex' command")},
		{"PSETEX k 0 v", errReply("ERR invalid expire time in 'psetex' command")},
		{"PSETEX k 100000 v", ok()},
		{"PTTL k", num(100000)},
		{"SETNX k v", num(0)},
		{"SETNX k9 v", num(1)},
		{"GETEX k9 EX 100", bulk("v")},
		{"TTL k9", num(100)},
		{"GETEX k9 PERSIST", bulk("v")},
		{"TTL k9", num(-1)},
		{"GETEX k9 PERSIST EX 10", syntax},
		{"GETEX k9 EX 10 PERSIST", syntax},
		{"GETEX k9 KEEPTTL", syntax},
		{"GETEX k9 NX", syntax},
		{"GETEX k9 EX 0", errReply("ERR invalid expire time in 'getex' command")},
		{"GETEX k9 EX 10 EX 20", bulk("v")},
		{"TTL k9", num(20)},
		{"GETEX nokey EX 10", null()},
		{"GETEX nokey EX 0", null()}, // a missing key answers before the time is checked
		{"GETEX nokey EX abc", null()},
		{"GETEX nokey FOO", syntax},
		{"GETEX k9 EXAT 1", bulk("v")},
		{"EXISTS k9", num(0)},
		{"GETEX k9", null()},
		{"GETSET k9 x", null()},
		{"GETSET k9 y", bulk("x")},
		{"SET t 1 EX 100", ok()},
		{"GETSET t 2", bulk("1")},
		{"TTL t", num(-1)},
		{"SET e 1 EX 100", ok()},
		{"EXPIRE e 200 NX", num(0)},
		{"EXPIRE e 200 XX", num(1)},
		{"EXPIRE e 50 GT", num(0)},
		{"EXPIRE e 300 GT", num(1)},
		{"EXPIRE e 300 LT", num(0)},
		{"EXPIRE e 50 LT", num(1)},
		{"EXPIRE e 50 NX XX", errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{"EXPIRE e 50 GT LT", errReply("ERR GT and LT options at the same time are not compatible")},
		{"EXPIRE e 60 XX GT", num(1)},
		{"EXPIRE e 50 FOO", errReply("ERR Unsupported option FOO")},
		{"EXPIRE e abc FOO", errReply("ERR Unsupported option FOO")},
		{"EXPIRE e abc NX XX", errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{"SET a 1", ok()},
		{"EXPIRE a 50 XX", num(0)},
		{"EXPIRE a 50 GT", num(0)},
		{"EXPIRE a 50 LT", num(1)},
		{"TTL a", num(50)},
		{"EXPIRE nokey 10 NX", num(0)},
		{"EXPIREAT e 100 GT", num(0)},
		{"PEXPIREAT e 100", num(1)},
		{"EXISTS e", num(0)},
	})
}

func TestRESPStringCommands(t *testing.T) {
	rc := frozenNode(t, func(cfg *Config) { cfg.MaxItemBytes = 1000 })
	notFloat := errReply("ERR value is not a valid float")
	nanInf := errReply("ERR increment would produce NaN or Infinity")
	runRawCases(t, rc, []rawCase{
		{"INCRBYFLOAT f 10.5", bulk("10.5")},
		{"INCRBYFLOAT f 0.1", bulk("10.6")},
		{"INCRBYFLOAT f 3.0e3", bulk("3010.60000000000000009")}, // long double, as Redis
		{"INCRBYFLOAT f -3010.6", bulk("0")},
		{"INCRBYFLOAT f inf", nanInf},
		{"INCRBYFLOAT f abc", notFloat},
		{"INCRBYFLOAT f 1e5000", notFloat},
		{"INCRBYFLOAT f 0x10", bulk("16")},
		{"SET f abc", ok()},
		{"INCRBYFLOAT f 1", notFloat},
		{"SET f 5", ok()},
		{"EXPIRE f 100", num(1)},
		{"INCRBYFLOAT f 1.5", bulk("6.5")},
		{"TTL f", num(100)},
		{"INCRBYFLOAT g 0.1", bulk("0.1")},
		{"INCRBYFLOAT g 0.2", bulk("0.3")},
		{"INCRBYFLOAT h -0", bulk("0")},
		{"INCRBYFLOAT h2 1.23456789012345678901234", bulk("1.23456789012345679")},
		{"INCRBYFLOAT h4 nan", notFloat},
		{"INCRBYFLOAT h5 infinity", nanInf},
		{"INCRBYFLOAT h6 +5", bulk("5")},
		{"INCRBYFLOAT h7 .5", bulk("0.5")},
		{"INCRBYFLOAT h9 1_0", notFloat},
		{"INCRBYFLOAT h13 \"\"", notFloat},
		{"SET q 1", ok()},
		{"INCRBYFLOAT q 1e-17", bulk("1.00000000000000001")},
		{"SET q 7", ok()},
		{"INCRBYFLOAT q 0x1p-2", bulk("7.25")},
		{"SET q 1e4932", ok()},
		{"INCRBYFLOAT q 1e4932", nanInf},
		{"SET s Hello_World", ok()},
		{"GETRANGE s 0 4", bulk("Hello")},
		{"GETRANGE s -5 -1", bulk("World")},
		{"GETRANGE s -1 -5", bulk("")},
		{"GETRANGE s 5 1000", bulk("_World")},
		{"GETRANGE s 100 200", bulk("")},
		{"GETRANGE s 0 -1", bulk("Hello_World")},
		{"GETRANGE s -100 2", bulk("Hel")},
		{"GETRANGE s 0 9223372036854775807", bulk("Hello_World")},
		{"GETRANGE nokey 0 1", bulk("")},
		{"GETRANGE s abc 1", errReply("ERR value is not an integer or out of range")},
		{"SUBSTR s 0 3", bulk("Hell")},
		{"SETRANGE s 6 Redis", num(11)},
		{"GET s", bulk("Hello_Redis")},
		{"SETRANGE s -1 x", errReply("ERR offset is out of range")},
		{"SETRANGE nokey2 5 \"\"", num(0)},
		{"EXISTS nokey2", num(0)},
		{"SETRANGE s 1 \"\"", num(11)},
		{"SETRANGE nokey3 3 ab", num(5)},
		{"GET nokey3", bulk("\x00\x00\x00ab")},
		{"SETRANGE s abc x", errReply("ERR value is not an integer or out of range")},
		// The item limit (here 1000 bytes, key plus value) in place of Redis's 512 MB.
		{"SETRANGE s 998 x", num(999)},
		{"SETRANGE s 999 x", errReply("ERR item is 1001 bytes (key plus value), the limit (max_item_bytes) is 1000")},
		{"SETRANGE s 9223372036854775807 x", errReply("ERR item is 9223372036854775807 bytes (key plus value), the limit (max_item_bytes) is 1000")},
		{"MSETNX m1 1 m2 2", num(1)},
		{"MSETNX m2 3 m3 4", num(0)},
		{"EXISTS m3", num(0)},
		{"MSETNX m1 1 m2", errReply("ERR wrong number of arguments for 'msetnx' command")},
		{"MSETNX m4 1 m4 2", num(1)},
		{"GET m4", bulk("2")},
		{"MSET a 1 b", errReply("ERR wrong number of arguments for 'mset' command")},
		{"MSET x1 1 x2 " + strings.Repeat("v", 1000), errReply("ERR item is 1002 bytes (key plus value), the limit (max_item_bytes) is 1000")},
		{"EXISTS x1", num(0)},
	})
}

func TestRESPAdminReplies(t *testing.T) {
	rc := frozenNode(t, nil)
	runRawCases(t, rc, []rawCase{
		{"COMMAND INFO nosuchcommand", "*1\r\n$-1\r\n"},
		{"COMMAND DOCS nosuch", "*0\r\n"},
		{"COMMAND FOO", errReply("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")},
		{"CLIENT FOO", errReply("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")},
		{"CLIENT KILL ID 999999", num(0)},
		{"CLIENT KILL 1.2.3.4:5", errReply("ERR No such client")},
		{"CLIENT KILL", errReply("ERR wrong number of arguments for 'client|kill' command")},
		{"CLIENT KILL ID abc", errReply("ERR client-id should be greater than 0")},
		{"CLIENT KILL FOO bar", errReply("ERR syntax error")},
		{"CLIENT SETNAME a", ok()},
		{"CLIENT GETNAME", bulk("a")},
		{"CLIENT SETNAME a b", errReply("ERR wrong number of arguments for 'client|setname' command")},
		{"CLIENT NO-EVICT on", ok()},
		{"CLIENT REPLY on", ok()},
		{"CLIENT SETINFO lib-name x", ok()},
		{"CONFIG SET foo bar", errReply("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")},
		{"CONFIG SET foo", errReply("ERR wrong number of arguments for 'config|set' command")},
		{"CONFIG GET", errReply("ERR wrong number of arguments for 'config|get' command")},
		{"CONFIG GET foo", "*0\r\n"},
		{"CONFIG GET databases", "*2\r\n" + bulk("databases") + bulk("1")},
		{"CONFIG RESETSTAT", ok()},
		{"CONFIG FOO", errReply("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")},
	})
	id := rc.reply("CLIENT", "ID").Int
	require.Positive(t, id)
}

// DBSIZE counts the keys of the whole cluster, each key once even when
// replicas hold copies; MSET and MSETNX over several owners.
func TestRESPClusterStrings(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *Config) { cfg.Replicas = replicas; cfg.MaxItemBytes = 1000 })
			rcs := []*respClient{}
			for _, nd := range c.nodes {
				rcs = append(rcs, dialRESP(t, nd.srv.RESPAddr()))
			}
			k0, k1, k2 := c.keyOwnedBy(0, "a"), c.keyOwnedBy(1, "b"), c.keyOwnedBy(2, "c")
			k0b := c.keyOwnedBy(0, "z")
			// An oversize value anywhere refuses the whole MSET before any owner writes.
			require.Equal(t, errReply("ERR item is 1002 bytes (key plus value), the limit (max_item_bytes) is 1000"),
				rcs[1].raw("MSET", k0, "1", k1, "1", "xx", strings.Repeat("v", 1000)))
			for _, rc := range rcs {
				require.Equal(t, num(0), rc.raw("DBSIZE"))
			}
			require.Equal(t, ok(), rcs[1].raw("MSET", k0, "1", k1, "1", k2, "1"))
			for _, rc := range rcs {
				require.Equal(t, num(3), rc.raw("DBSIZE"))
			}
			require.Equal(t, errReply("CROSSSLOT Keys in request don't hash to the same slot"),
				rcs[0].raw("MSETNX", k0b, "1", k1, "2"))
			// In a pipeline too, MSETNX is not forwarded by its first key.
			rc := rcs[2]
			rc.wr.CommandString("MSETNX", k0b, "1", k1, "2")
			rc.wr.CommandString("GET", k0b)
			require.NoError(t, rc.wr.Flush())
			for _, want := range []string{"(error) CROSSSLOT Keys in request don't hash to the same slot", "(nil)"} {
				rep, err := rc.rd.ReadReply()
				require.NoError(t, err)
				require.Equal(t, want, rep.String())
			}
			// All keys on node 0, sent to node 2: forwarded whole.
			require.Equal(t, num(1), rcs[2].raw("MSETNX", k0b, "1", c.keyOwnedBy(0, "y"), "2"))
			require.Equal(t, num(0), rcs[2].raw("MSETNX", k0b, "3", k0, "4"))
			require.Equal(t, bulk("1"), rcs[1].raw("GET", k0b))
			require.Equal(t, bulk("2.5"), rcs[1].raw("INCRBYFLOAT", k2, "1.5"))
			require.Equal(t, bulk("1"), rcs[0].raw("GETSET", k1, "x"))
			require.Equal(t, bulk("x"), rcs[2].raw("GETEX", k1, "EX", "100"))
			require.Equal(t, num(100), rcs[0].raw("TTL", k1))
			require.Equal(t, num(5), rcs[0].raw("DBSIZE"))
			require.Equal(t, ok(), rcs[0].raw("FLUSHALL"))
			require.Equal(t, num(0), rcs[2].raw("DBSIZE"))
		})
	}
}

// Read-modify-write commands run under the shard lock: concurrent clients
// lose no update.
func TestRESPConcurrentUpdates(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	const clients, each = 8, 50
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				rc.raw("INCRBYFLOAT", "f", "0.5")
				rc.raw("SETRANGE", fmt.Sprintf("r%d", j), strconv.Itoa(i), "x")
				rc.raw("MSETNX", fmt.Sprintf("once%d", j), strconv.Itoa(i))
			}
		}()
	}
	wg.Wait()
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, bulk(strconv.Itoa(clients*each/2)), rc.raw("GET", "f"))
	for j := 0; j < each; j++ {
		require.Equal(t, bulk(strings.Repeat("x", clients)), rc.raw("GET", fmt.Sprintf("r%d", j)))
		require.Equal(t, num(1), rc.raw("EXISTS", fmt.Sprintf("once%d", j)))
	}
}
