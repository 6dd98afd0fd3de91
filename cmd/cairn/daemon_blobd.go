package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/s3"
	"cairn.dev/cairn/node"
)

// newBlobdCmd runs one blobd node in the foreground.
func newBlobdCmd() *cobra.Command {
	cfg := blobd.DefaultConfig()
	return newDaemonCmd(daemonSpec[blobd.Config]{
		name:  "blobd",
		short: "Run a blobd node (replicated blob store with an S3 API, tiers and self-repair)",
		long: `Run a blobd node. Every node is a member of the metadata Raft group
(buckets, object manifests, placement, access keys), a volume server holding
chunks of objects, and a front end of the object API (gRPC; S3 with
--s3-addr). A new cluster bootstraps from --peers when the data directory is
empty:
  cairn blobd --id blobd-1 --grpc-addr 127.0.0.1:7500 --admin-addr 127.0.0.1:7501 \
    --data-dir data/blobd-1 --s3-addr 127.0.0.1:7520 \
    --peers blobd-1=127.0.0.1:7500,blobd-2=127.0.0.1:7502,blobd-3=127.0.0.1:7504

With --s3-addr it also serves the Amazon S3 API (SigV4 and presigned URLs,
with the keys of --s3-credentials-file, a 0600 file of lines
"ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]", and the keys made with
'cairn blob keys create'), over HTTPS with the node's certificate unless
--insecure.`,
		cfg:     &cfg,
		logging: func(c *blobd.Config) (string, string) { return c.LogLevel, c.LogFormat },
		server:  func(c *blobd.Config) node.ServerConfig { return c.Server },
		serve: func(ctx context.Context, cfg blobd.Config, logger *slog.Logger) error {
			srv, err := blobd.New(cfg, logger)
			if err != nil {
				return err
			}
			if _, err := s3.Attach(srv); err != nil {
				srv.Close()
				return err
			}
			return srv.Serve(ctx)
		},
	})
}
