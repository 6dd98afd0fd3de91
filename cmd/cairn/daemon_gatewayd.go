package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/gatewayd"
	"cairn.dev/cairn/node"
)

// newGatewaydCmd runs one gateway node in the foreground.
func newGatewaydCmd() *cobra.Command {
	cfg := gatewayd.DefaultConfig()
	return newDaemonCmd(daemonSpec[gatewayd.Config]{
		name:  "gatewayd",
		short: "Run a gatewayd node (API gateway: routes, JWT and API-key auth, rate limits, caching, circuit breakers, gRPC-JSON transcoding)",
		long: `Run a gateway node. Traffic arrives on --http-addr (HTTPS with the node's
certificate unless --insecure; HTTP/2 by ALPN, or h2c with --h2c on a
plaintext listener); the admin API (cairn.gatewayd.v1.GatewayService, used
by 'cairn gateway') on --grpc-addr.

The routes, upstreams, consumers and plugins are one YAML document
(docs/gatewayd.md). With --registry it lives in raftkv, where every node
watches it and applies each new version atomically ('cairn gateway config
apply'); --config-file then seeds raftkv when it holds none. Without
--registry, --config-file is the configuration, re-read when it changes:
  cairn gatewayd --id gatewayd-1 --grpc-addr 127.0.0.1:7700 --admin-addr 127.0.0.1:7701 \
    --http-addr 127.0.0.1:7720 --registry 127.0.0.1:7000,127.0.0.1:7002,127.0.0.1:7004 \
    --cache-endpoints 127.0.0.1:7200,127.0.0.1:7202,127.0.0.1:7204 --issuer-key tls/token-key.pem

  cairn gatewayd --id gw --insecure --config-file examples/gateway.yaml --http-addr 127.0.0.1:8080`,
		cfg:     &cfg,
		logging: func(c *gatewayd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *gatewayd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg gatewayd.Config, logger *slog.Logger) error {
			srv, err := gatewayd.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
