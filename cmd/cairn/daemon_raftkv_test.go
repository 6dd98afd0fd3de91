package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRaftKVFlags(t *testing.T) {
	cmd := newRaftKVCmd()
	for _, name := range []string{"id", "data-dir", "peers", "grpc-addr", "admin-addr", "dial-overrides", "max-key-bytes", "election-timeout", "tls-cert", "config", "sql-addr"} {
		require.NotNil(t, cmd.Flags().Lookup(name), "flag --%s", name)
	}
	cmd.SetArgs([]string{"--id", ""})
	require.Error(t, cmd.Execute(), "an empty id is rejected by validation")
}
