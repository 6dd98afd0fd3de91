package cached

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRESPOversizeValues(t *testing.T) { forEachRESPIO(t, testRESPOversizeValues) }

// Regression (issue 12): a 1.5 MB SET answered an error that named no limit,
// and a bulk string over resp_max_bulk closed the connection with a message
// that named neither the size nor the limit. Both errors now name the limit
// and its config key; the first keeps the connection usable.
func testRESPOversizeValues(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	cfg := c.nodes[0].srv.cfg
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())

	// Over max_item_bytes, under resp_max_bulk: an error, and the connection
	// goes on.
	big := strings.Repeat("x", cfg.MaxItemBytes*3/2)
	require.Equal(t, fmt.Sprintf("(error) ERR item is %d bytes (key plus value), the limit (max_item_bytes) is %d", len(big)+1, cfg.MaxItemBytes), rc.do("SET", "k", big))
	require.Equal(t, "PONG", rc.do("PING"))
	require.Equal(t, "OK", rc.do("SET", "k", "small"))

	// Over resp_max_bulk: the error names the size and the limit before the
	// connection closes (only the header is sent, so nothing unread remains).
	raw := dialRESP(t, c.nodes[0].srv.RESPAddr())
	size := cfg.RESPMaxBulk + 2<<20
	_, err := fmt.Fprintf(raw.nc, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", size)
	require.NoError(t, err)
	br := bufio.NewReader(raw.nc)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("-ERR Protocol error: invalid bulk length: %d bytes, the limit (resp_max_bulk) is %d\r\n", size, cfg.RESPMaxBulk), line)
	_, err = br.ReadString('\n')
	require.ErrorIs(t, err, io.EOF)
}
