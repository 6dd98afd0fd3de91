package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/gatewayd"
	"cairn.dev/cairn/gatewayd/edge"
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

  cairn gatewayd --id gw --insecure --config-file examples/gateway.yaml --http-addr 127.0.0.1:8080

With --role edge the process is a CDN edge node instead (docs/edge.md): it
answers --http-addr from an RFC 9111 cache in front of --origin (blobd's
objects at /<bucket>/<key>, or an http(s):// origin), takes purges from
raftkv (--registry), shares misses through the --shields tier, and with
--dns-addr answers the CDN hostname with the nearest edge:
  cairn gatewayd --role edge --id edge-1 --insecure --http-addr 127.0.0.1:8080 \
    --origin http://127.0.0.1:8081 --cache-memory 268435456`,
		cfg:     &cfg,
		logging: func(c *gatewayd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *gatewayd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg gatewayd.Config, logger *slog.Logger) error {
			switch cfg.Role {
			case gatewayd.RoleGateway:
			case gatewayd.RoleEdge:
				srv, err := edge.New(cfg.EdgeConfig(), logger)
				if err != nil {
					return err
				}
				return srv.Serve(ctx)
			default:
				return fmt.Errorf("gatewayd: role %q: want %q or %q", cfg.Role, gatewayd.RoleGateway, gatewayd.RoleEdge)
			}
			srv, err := gatewayd.New(cfg, logger)
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
