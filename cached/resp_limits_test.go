package cached

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRESPOversizeValues(t *testing.T) { forEachRESPIOStaying(t, testRESPOversizeValues) }

// Regression (issue 12, bug 7): a 1.5 MB SET answered an error that named no
// limit, and a 10 MB one reset the connection: a bulk string over
// resp_max_bulk was answered with an error and the connection closed without
// reading the payload, so a client still sending it saw a reset instead of
// the error. Now such a command is read to its end, its payload discarded,
// and refused with an error naming the limit; the connection goes on. Only
// a bulk string over resp_max_discard closes the connection (after the
// error), as one over proto-max-bulk-len does in redis-server.
func testRESPOversizeValues(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 2, func(cfg *Config) {
		tune(cfg)
		cfg.RESPMaxBulk, cfg.RESPMaxDiscard = 2<<20, 16<<20
	})
	cfg := c.nodes[0].srv.cfg
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	local, remote := c.keyOwnedBy(0, "lim-"), c.keyOwnedBy(1, "lim-")

	// Over max_item_bytes, under resp_max_bulk: an error, and the connection
	// goes on.
	big := strings.Repeat("x", cfg.MaxItemBytes*3/2)
	require.Equal(t, fmt.Sprintf("(error) ERR item is %d bytes (key plus value), the limit (max_item_bytes) is %d", len(local)+len(big), cfg.MaxItemBytes), rc.do("SET", local, big))
	require.Equal(t, "PONG", rc.do("PING"))

	// Over resp_max_bulk: the whole command is read and refused; the value
	// before stays, and the same connection serves the next commands, for a
	// key of this node and one of the other (a hand-off to a worker in loop
	// mode).
	huge := strings.Repeat("y", 5<<20)
	refused := fmt.Sprintf("(error) ERR argument is %d bytes, the limit (resp_max_bulk) is %d", len(huge), cfg.RESPMaxBulk)
	for _, key := range []string{local, remote} {
		require.Equal(t, "OK", rc.do("SET", key, "small"))
		require.Equal(t, refused, rc.do("SET", key, huge, "EX", "100"))
		require.Equal(t, "PONG", rc.do("PING"))
		require.Equal(t, `"small"`, rc.do("GET", key))
	}

	// In a pipeline, each refusal takes its place among the replies.
	require.Equal(t, []string{"OK", refused, "OK", refused, "PONG", `"v1"`, `"v2"`}, rc.pipeline(
		[]string{"SET", remote, "v1"},
		[]string{"SET", local, huge},
		[]string{"SET", local, "v2"},
		[]string{"SET", remote, huge},
		[]string{"PING"},
		[]string{"GET", remote},
		[]string{"GET", local},
	))

	// Over resp_max_discard: the error names the size and that limit, then
	// the connection closes (only the header is sent, so nothing unread
	// remains to turn the close into a reset).
	raw := dialRESP(t, c.nodes[0].srv.RESPAddr())
	size := cfg.RESPMaxDiscard + 1
	_, err := fmt.Fprintf(raw.nc, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", size)
	require.NoError(t, err)
	br := bufio.NewReader(raw.nc)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("-ERR Protocol error: invalid bulk length: %d bytes, the limit (resp_max_discard) is %d\r\n", size, cfg.RESPMaxDiscard), line)
	_, err = br.ReadString('\n')
	require.ErrorIs(t, err, io.EOF)
}
