package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/searchd"
	"cairn.dev/cairn/searchd/es"
)

// newSearchdCmd runs one searchd node in the foreground.
func newSearchdCmd() *cobra.Command {
	cfg := searchd.DefaultConfig()
	return newDaemonCmd(daemonSpec[searchd.Config]{
		name:  "searchd",
		short: "Run a searchd node (sharded, replicated full-text search with an Elasticsearch-compatible API)",
		long: `Run a searchd node. Every node is a member of the metadata Raft group
(indexes, mappings, shard placement), holds shard copies fed from the
indexes' streamd topics, and answers every search and document call. A new
cluster bootstraps from --peers when the data directory is empty; writes go
to the streamd nodes of --streamd-endpoints (with the node's TLS files):
  cairn searchd --id searchd-1 --grpc-addr 127.0.0.1:7600 --admin-addr 127.0.0.1:7601 \
    --data-dir data/searchd-1 --http-addr 127.0.0.1:7620 \
    --streamd-endpoints 127.0.0.1:7400,127.0.0.1:7402,127.0.0.1:7404 \
    --peers searchd-1=127.0.0.1:7600,searchd-2=127.0.0.1:7602,searchd-3=127.0.0.1:7604

With --http-addr it also serves the Elasticsearch REST API (indexes,
_doc, _bulk, _search, _count, _refresh, _mapping), over HTTPS with the
node's certificate unless --insecure.`,
		cfg:     &cfg,
		logging: func(c *searchd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *searchd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg searchd.Config, logger *slog.Logger) error {
			srv, err := searchd.New(cfg, logger)
			if err != nil {
				return err
			}
			if cfg.HTTPAddr != "" {
				conn, err := srv.SelfConn()
				if err != nil {
					srv.Close()
					return err
				}
				api, err := es.Attach(srv, es.ServeConfig{Addr: cfg.HTTPAddr, TLS: cfg.Server.TLS, ShutdownTimeout: cfg.Server.ShutdownTimeout}, conn, es.Options{}, logger)
				if err != nil {
					srv.Close()
					return err
				}
				srv.SetHTTPAddr(api.Addr())
			}
			return srv.Serve(ctx)
		},
	})
}
