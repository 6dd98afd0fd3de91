package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/raftkv"
)

// newRaftKVCmd runs one raftkv member in the foreground.
func newRaftKVCmd() *cobra.Command {
	cfg := raftkv.DefaultConfig()
	return newDaemonCmd(daemonSpec[raftkv.Config]{
		name:  "raftkv",
		short: "Run a raftkv member (Raft-replicated key-value store)",
		long: `Run a raftkv member. A new group bootstraps from --peers when the data
directory is empty:
  cairn raftkv --id raftkv-1 --grpc-addr 127.0.0.1:7000 --admin-addr 127.0.0.1:7001 \
    --data-dir data/raftkv-1 --peers raftkv-1=127.0.0.1:7000,raftkv-2=127.0.0.1:7002,raftkv-3=127.0.0.1:7004`,
		cfg:     &cfg,
		logging: func(c *raftkv.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *raftkv.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg raftkv.Config, logger *slog.Logger) error {
			srv, err := raftkv.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
