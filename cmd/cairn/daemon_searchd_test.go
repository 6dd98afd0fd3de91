package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSearchdFlags(t *testing.T) {
	cmd := newSearchdCmd()
	for _, name := range []string{"id", "data-dir", "peers", "grpc-addr", "admin-addr", "dial-overrides", "http-addr",
		"streamd-endpoints", "streamd-tls-ca", "refresh-interval", "commit-interval", "node-timeout", "max-bulk-items", "config"} {
		require.NotNil(t, cmd.Flags().Lookup(name), "flag --%s", name)
	}
	require.Equal(t, "", cmd.Flags().Lookup("http-addr").DefValue, "the HTTP API is off unless asked")
	cmd.SetArgs([]string{"--id", "searchd-1", "--data-dir", t.TempDir(), "--insecure"})
	require.Error(t, cmd.Execute(), "no --streamd-endpoints is rejected by validation")
}
