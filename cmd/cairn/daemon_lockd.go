package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/lockd"
	"cairn.dev/cairn/node"
)

// newLockdCmd runs one lockd member in the foreground.
func newLockdCmd() *cobra.Command {
	cfg := lockd.DefaultConfig()
	return newDaemonCmd(daemonSpec[lockd.Config]{
		name:  "lockd",
		short: "Run a lockd member (Raft-replicated lock service with fencing tokens)",
		long: `Run a lockd member. A new group bootstraps from --peers when the data
directory is empty:
  cairn lockd --id lockd-1 --grpc-addr 127.0.0.1:7100 --admin-addr 127.0.0.1:7101 \
    --data-dir data/lockd-1 --peers lockd-1=127.0.0.1:7100,lockd-2=127.0.0.1:7102,lockd-3=127.0.0.1:7104`,
		cfg:     &cfg,
		logging: func(c *lockd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *lockd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg lockd.Config, logger *slog.Logger) error {
			srv, err := lockd.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
