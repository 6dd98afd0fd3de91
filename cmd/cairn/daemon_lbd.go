package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/lbd"
	"cairn.dev/cairn/node"
)

// newLbdCmd runs one lbd node in the foreground.
func newLbdCmd() *cobra.Command {
	cfg := lbd.DefaultConfig()
	return newDaemonCmd(daemonSpec[lbd.Config]{
		name:  "lbd",
		short: "Run an lbd node (L4/L7 load balancer: algorithms, health checks, draining, HA pair)",
		long: `Run a load balancer node. Its frontends (TCP, UDP, HTTP) and pools are the
YAML document --lb-file (docs/lbd.md), re-read when it changes; pools with a
service take their members from the raftkv registry (--registry), where the
backends' admin state (drain, disable, weight: 'cairn lb') is shared too.
With --vip and --lockd the nodes elect one active node through lockd; only
it listens on the frontends bound to the virtual address, and a standby
takes over within about --ha-ttl when it dies:
  cairn lbd --id lbd-1 --grpc-addr 127.0.0.1:7800 --admin-addr 127.0.0.1:7801 \
    --lb-file lb.yaml --registry 127.0.0.1:7000 --lockd 127.0.0.1:7100 --vip 127.0.0.100

  cairn lbd --id lb --insecure --lb-file examples/lb.yaml`,
		cfg:     &cfg,
		logging: func(c *lbd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *lbd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg lbd.Config, logger *slog.Logger) error {
			srv, err := lbd.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
