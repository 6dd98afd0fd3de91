//go:build !failpoints

package failpoint

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInjectIsInertWithoutTag(t *testing.T) {
	require.False(t, Enabled)
	t.Cleanup(func() { Disarm("x") })
	require.NoError(t, Arm("x", "panic"))
	require.NotPanics(t, func() { Inject("x") })
}
