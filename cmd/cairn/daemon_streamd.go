package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/streamd"
)

// newStreamdCmd runs one streamd node in the foreground.
func newStreamdCmd() *cobra.Command {
	cfg := streamd.DefaultConfig()
	return newDaemonCmd(daemonSpec[streamd.Config]{
		name:  "streamd",
		short: "Run a streamd node (partitioned, replicated log with consumer groups)",
		long: `Run a streamd node. Every node is a member of the controller's Raft group
(topics, partition leaders, ISR, consumer-group offsets) and holds partition
replicas, which it leads or follows as the controller says. A new cluster
bootstraps from --peers when the data directory is empty:
  cairn streamd --id streamd-1 --grpc-addr 127.0.0.1:7400 --admin-addr 127.0.0.1:7401 \
    --data-dir data/streamd-1 --peers streamd-1=127.0.0.1:7400,streamd-2=127.0.0.1:7402,streamd-3=127.0.0.1:7404`,
		cfg:     &cfg,
		logging: func(c *streamd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *streamd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg streamd.Config, logger *slog.Logger) error {
			srv, err := streamd.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
