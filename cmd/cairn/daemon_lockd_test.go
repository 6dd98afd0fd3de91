package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLockdFlags(t *testing.T) {
	cmd := newLockdCmd()
	for _, name := range []string{"id", "data-dir", "peers", "grpc-addr", "admin-addr", "dial-overrides", "max-session-ttl", "config"} {
		require.NotNil(t, cmd.Flags().Lookup(name), "flag --%s", name)
	}
	cmd.SetArgs([]string{"--id", ""})
	require.Error(t, cmd.Execute(), "an empty id is rejected by validation")
}
