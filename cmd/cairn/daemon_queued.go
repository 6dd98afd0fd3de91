package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/queued"
	"cairn.dev/cairn/queued/sqs"
)

// newQueuedCmd runs one queued member in the foreground.
func newQueuedCmd() *cobra.Command {
	cfg := queued.DefaultConfig()
	return newDaemonCmd(daemonSpec[queued.Config]{
		name:  "queued",
		short: "Run a queued member (Raft-replicated message queue with dead letters and topics)",
		long: `Run a queued member. A new group bootstraps from --peers when the data
directory is empty:
  cairn queued --id queued-1 --grpc-addr 127.0.0.1:7300 --admin-addr 127.0.0.1:7301 \
    --data-dir data/queued-1 --peers queued-1=127.0.0.1:7300,queued-2=127.0.0.1:7302,queued-3=127.0.0.1:7304

With --sqs-addr it also serves the Amazon SQS API (query protocol, SigV4
with the keys of --sqs-credentials-file, a 0600 file of lines
"ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]"), over HTTPS with the node's
certificate unless --insecure.`,
		cfg:     &cfg,
		logging: func(c *queued.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *queued.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg queued.Config, logger *slog.Logger) error {
			srv, err := queued.New(cfg, logger)
			if err != nil {
				return err
			}
			if _, err := sqs.Attach(srv); err != nil {
				srv.Close()
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
