package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/node"
)

// newCachedCmd runs one cached node in the foreground.
func newCachedCmd() *cobra.Command {
	cfg := cached.DefaultConfig()
	return newDaemonCmd(daemonSpec[cached.Config]{
		name:  "cached",
		short: "Run a cached node (consistent-hashed in-memory cache, gRPC and Redis protocol)",
		long: `Run a cached node. Membership comes from --peers (static) and, with
--registry, from raftkv: the node registers under a lease and the ring follows
the registry, so a dead node leaves within the lease TTL.
  cairn cached --id cached-1 --grpc-addr 127.0.0.1:7200 --admin-addr 127.0.0.1:7201 \
    --resp-addr 127.0.0.1:7220 --peers cached-1=127.0.0.1:7200/127.0.0.1:7220,cached-2=127.0.0.1:7202/127.0.0.1:7221`,
		cfg:     &cfg,
		logging: func(c *cached.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *cached.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg cached.Config, logger *slog.Logger) error {
			srv, err := cached.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
