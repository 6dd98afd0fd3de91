package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/raftkv"
	"cairn.dev/cairn/raftkv/sql/sqlnode"
)

// raftkvDaemonConfig is a raftkv member's configuration with its SQL
// endpoint's: one set of flags, CAIRN_RAFTKV_* variables and YAML keys.
type raftkvDaemonConfig struct {
	raftkv.Config `yaml:",inline" flag:",inline"`
	SQL           sqlnode.Config `yaml:",inline" flag:",inline"`
}

// newRaftKVCmd runs one raftkv member in the foreground.
func newRaftKVCmd() *cobra.Command {
	cfg := raftkvDaemonConfig{Config: raftkv.DefaultConfig()}
	return newDaemonCmd(daemonSpec[raftkvDaemonConfig]{
		name:  "raftkv",
		short: "Run a raftkv member (Raft-replicated key-value store)",
		long: `Run a raftkv member. A new group bootstraps from --peers when the data
directory is empty:
  cairn raftkv --id raftkv-1 --grpc-addr 127.0.0.1:7000 --admin-addr 127.0.0.1:7001 \
    --data-dir data/raftkv-1 --peers raftkv-1=127.0.0.1:7000,raftkv-2=127.0.0.1:7002,raftkv-3=127.0.0.1:7004

With --sql-addr it also serves PostgreSQL clients there (see docs/sql.md).`,
		cfg:     &cfg,
		logging: func(c *raftkvDaemonConfig) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *raftkvDaemonConfig) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg raftkvDaemonConfig, logger *slog.Logger) error {
			srv, err := raftkv.New(cfg.Config, logger)
			if err != nil {
				return err
			}
			if _, err := sqlnode.Attach(srv, cfg.SQL); err != nil {
				srv.Close()
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
