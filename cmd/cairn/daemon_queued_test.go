package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueuedFlags(t *testing.T) {
	cmd := newQueuedCmd()
	for _, name := range []string{"id", "data-dir", "peers", "grpc-addr", "admin-addr", "dial-overrides", "sqs-addr", "sqs-region", "sqs-account-id", "sqs-credentials-file", "sweep-interval", "max-prefetch", "config"} {
		require.NotNil(t, cmd.Flags().Lookup(name), "flag --%s", name)
	}
	cmd.SetArgs([]string{"--id", ""})
	require.Error(t, cmd.Execute(), "an empty id is rejected by validation")
}
