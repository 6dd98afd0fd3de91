package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`SET k v`, []string{"SET", "k", "v"}},
		{`  SET	"a b"  ''`, []string{"SET", "a b", ""}},
		{`ECHO "x\x41\n\"\\" 'it\'s'`, []string{"ECHO", "xA\n\"\\", "it's"}},
		{`ECHO 'a\nb'`, []string{"ECHO", `a\nb`}},
	} {
		got, err := splitArgs(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{`ECHO "a`, `ECHO "a"b`} {
		_, err := splitArgs(bad)
		require.Error(t, err, bad)
	}
}

func TestParseCorpus(t *testing.T) {
	steps, err := parseCorpus("x.txt", "# c\n\nSET k v\n---\n~ TTL k\n~500 PTTL k\n? CLIENT ID\ninline ECHO a\"b c\"\n")
	require.NoError(t, err)
	require.Len(t, steps, 6)
	require.Equal(t, []string{"SET", "k", "v"}, steps[0].args)
	require.Equal(t, 3, steps[0].line)
	require.Equal(t, stepFlush, steps[1].kind)
	require.Equal(t, int64(2), steps[2].tol)
	require.Equal(t, int64(500), steps[3].tol)
	require.False(t, steps[4].compare)
	require.Equal(t, stepInline, steps[5].kind)
	require.Equal(t, `ECHO a"b c"`, steps[5].inline)
	_, err = parseCorpus("x.txt", "~x TTL k\n")
	require.Error(t, err)
}

func TestSame(t *testing.T) {
	require.True(t, same(":100\r\n", ":100\r\n", 0))
	require.False(t, same(":100\r\n", ":99\r\n", 0))
	require.True(t, same(":100\r\n", ":98\r\n", 2))
	require.False(t, same(":100\r\n", ":97\r\n", 2))
	require.False(t, same("$1\r\n1\r\n", ":1\r\n", 2))
}
