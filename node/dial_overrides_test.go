package node

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDialOverrides(t *testing.T) {
	o, err := ParseDialOverrides(" a:1=b:2, ,c:3=d:4 ")
	require.NoError(t, err)
	require.Equal(t, DialOverrides{"a:1": "b:2", "c:3": "d:4"}, o)
	o, err = ParseDialOverrides("")
	require.NoError(t, err)
	require.Empty(t, o)
	for _, bad := range []string{"a:1", "=b:2", "a:1="} {
		_, err := ParseDialOverrides(bad)
		require.ErrorContains(t, err, "is not addr=via", bad)
	}
}

func TestDialOverridesDialsTheOverride(t *testing.T) {
	o := DialOverrides{"peer.example:7000": "127.0.0.1:1"}
	conn, err := o.Dial("peer.example:7000", DialConfig{})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1", conn.Target(), "the override is dialled instead of the peer")
	require.NoError(t, conn.Close())
	conn, err = o.Dial("other:7000", DialConfig{})
	require.NoError(t, err)
	require.Equal(t, "other:7000", conn.Target())
	require.NoError(t, conn.Close())
}
