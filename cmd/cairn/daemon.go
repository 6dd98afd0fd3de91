package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/failpoint"
)

// daemonSpec describes a daemon subcommand (`cairn raftkv`, `cairn lockd`, …).
type daemonSpec[C any] struct {
	name, short, long string
	// cfg holds the defaults; flags, CAIRN_<NAME>_* variables and --config load into it.
	cfg *C
	// logging returns the log level and format from the loaded config.
	logging func(*C) (level, format string)
	// server returns the node server settings inside the loaded config. The
	// daemon refuses to serve without mutual TLS unless they say insecure.
	server func(*C) node.ServerConfig
	// serve builds the server and serves until ctx ends.
	serve func(ctx context.Context, cfg C, logger *slog.Logger) error
}

// newDaemonCmd builds the subcommand that runs one member of a daemon in the
// foreground: load config (flags over environment over YAML file), require
// mutual TLS unless --insecure (secure by default), arm
// failpoints from CAIRN_FAILPOINTS (failpoint builds only), stop gracefully on
// SIGINT/SIGTERM.
func newDaemonCmd[C any](d daemonSpec[C]) *cobra.Command {
	var configFile string
	envPrefix := "CAIRN_" + strings.ToUpper(d.name) + "_"
	cmd := &cobra.Command{
		Use:   d.name,
		Short: d.short,
		Long: d.long + `

Settings come from flags, from ` + envPrefix + `<FLAG> environment variables and from
a YAML file (--config); flags win over the environment, which wins over the file.

gRPC runs mutual TLS: --tls-cert, --tls-key and --tls-ca are required (the node
dials its peers with the same certificate), unless --insecure asks for plaintext.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := node.Load(cmd.Flags(), d.cfg, envPrefix, configFile); err != nil {
				return err
			}
			if err := d.server(d.cfg).RequireMutualTLS(); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			level, format := d.logging(d.cfg)
			logger, err := node.NewLogger(os.Stderr, level, format)
			if err != nil {
				return err
			}
			if err := failpoint.ArmFromEnv(); err != nil {
				return err
			}
			if fps := failpoint.List(); len(fps) > 0 {
				if !failpoint.Enabled {
					return fmt.Errorf("%s is set but this binary was built without -tags failpoints", failpoint.EnvVar)
				}
				logger.Warn("failpoints armed", "points", fps)
			}
			node.SetDaemonGC()
			ctx, cancel := node.SignalContext(context.Background(), logger)
			defer cancel()
			if err := d.serve(ctx, *d.cfg, logger); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file")
	if err := node.BindFlags(cmd.Flags(), d.cfg); err != nil {
		// A programming error in the Config's struct tags (the flag tests catch
		// it): report it when the command runs rather than crashing the CLI.
		cmd.RunE = func(*cobra.Command, []string) error { return err }
	}
	return cmd
}
