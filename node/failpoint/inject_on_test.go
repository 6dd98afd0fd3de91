//go:build failpoints

package failpoint

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInjectFiresWithTag(t *testing.T) {
	require.True(t, Enabled)
	t.Cleanup(func() { Disarm("x") })
	require.NoError(t, Arm("x", "panic"))
	require.Panics(t, func() { Inject("x") })
}
