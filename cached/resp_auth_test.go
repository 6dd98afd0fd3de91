package cached

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// AUTH and NOAUTH with a password, over real connections, with the replies
// redis-server 7 gives (requirepass): commands before AUTH get NOAUTH, after
// unknown-command and arity errors; a failed AUTH keeps an authenticated
// connection authenticated; forwarding to the key's owner works after AUTH.
func TestRESPAuth(t *testing.T) { forEachRESPIOStaying(t, testRESPAuth) }

func testRESPAuth(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 2, func(cfg *Config) { tune(cfg); cfg.RESPPassword = "s3cret" })
	remote := c.keyOwnedBy(1, "k")
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"PING"}, "(error) NOAUTH Authentication required."},
		{[]string{"GET", remote}, "(error) NOAUTH Authentication required."},
		{[]string{"SET", remote, "v"}, "(error) NOAUTH Authentication required."},
		{[]string{"FLUSHALL"}, "(error) NOAUTH Authentication required."},
		{[]string{"FOO"}, "(error) ERR unknown command 'FOO', with args beginning with: "},
		{[]string{"GET"}, "(error) ERR wrong number of arguments for 'get' command"},
		{[]string{"AUTH"}, "(error) ERR wrong number of arguments for 'auth' command"},
		{[]string{"AUTH", "a", "b", "c"}, "(error) ERR syntax error"},
		{[]string{"AUTH", "wrong"}, "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{[]string{"AUTH", "bob", "s3cret"}, "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{[]string{"AUTH", "default", "wrong"}, "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{[]string{"AUTH", "s3cret"}, "OK"},
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", remote, "v"}, "OK"},
		{[]string{"GET", remote}, `"v"`},
		{[]string{"AUTH", "wrong"}, "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{[]string{"GET", remote}, `"v"`},
	} {
		require.Equal(t, tc.want, rc.do(tc.cmd...), "%q", tc.cmd)
	}

	// The Redis 6 form, on another node.
	rc2 := dialRESP(t, c.nodes[1].srv.RESPAddr())
	require.Equal(t, "(error) NOAUTH Authentication required.", rc2.do("GET", remote))
	require.Equal(t, "OK", rc2.do("AUTH", "default", "s3cret"))
	require.Equal(t, `"v"`, rc2.do("GET", remote))

	// Pipelined in one write: the command before AUTH is refused, the one
	// after it is forwarded and answered, in order.
	rc3 := dialRESP(t, c.nodes[0].srv.RESPAddr())
	rc3.wr.CommandString("GET", remote)
	rc3.wr.CommandString("AUTH", "s3cret")
	rc3.wr.CommandString("GET", remote)
	require.NoError(t, rc3.wr.Flush())
	for _, want := range []string{"(error) NOAUTH Authentication required.", "OK", `"v"`} {
		rep, err := rc3.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, want, rep.String())
	}

	// QUIT needs no AUTH.
	rc4 := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "OK", rc4.do("QUIT"))
}

// Without a password AUTH answers as redis-server does with no requirepass.
func TestRESPAuthWithoutPassword(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "PONG", rc.do("PING"))
	require.Equal(t, "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?", rc.do("AUTH", "x"))
	require.Equal(t, "OK", rc.do("AUTH", "default", "x"))
	require.Equal(t, "(error) WRONGPASS invalid username-password pair or user is disabled.", rc.do("AUTH", "bob", "x"))
	require.Equal(t, "PONG", rc.do("PING"))
}

// On every interface RESP needs a password (protected mode), and then AUTH.
func TestRESPProtectedMode(t *testing.T) {
	for _, tc := range []struct {
		addr, password string
		protected      bool
		ok             bool
	}{
		{"127.0.0.1:7240", "", true, true},
		{"127.0.0.2:7240", "", true, true},
		{"localhost:7240", "", true, true},
		{"[::1]:7240", "", true, true},
		{"0.0.0.0:7240", "", true, false},
		{":7240", "", true, false},
		{"[::]:7240", "", true, false},
		{"10.1.2.3:7240", "", true, false},
		{"cache.example:7240", "", true, false},
		{"0.0.0.0:7240", "pw", true, true},
		{"0.0.0.0:7240", "", false, true},
	} {
		cfg := testConfig("c1")
		cfg.RESPAddr, cfg.RESPPassword, cfg.RESPProtectedMode = tc.addr, tc.password, tc.protected
		err := cfg.Validate()
		if tc.ok {
			require.NoError(t, err, tc.addr)
			continue
		}
		require.Error(t, err, tc.addr)
		require.ErrorContains(t, err, "resp_password")
		require.ErrorContains(t, err, "--resp-protected-mode=false")
	}

	c := newTestCluster(t, 1, func(cfg *Config) { cfg.RESPAddr = "0.0.0.0:0"; cfg.RESPPassword = "pw" })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "(error) NOAUTH Authentication required.", rc.do("SET", "k", "v"))
	require.Equal(t, "OK", rc.do("AUTH", "pw"))
	require.Equal(t, "OK", rc.do("SET", "k", "v"))
}
