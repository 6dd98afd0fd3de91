package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/failpoint"
	"cairn.dev/cairn/raftkv"
)

// newRaftKVCmd runs one raftkv member in the foreground.
func newRaftKVCmd() *cobra.Command {
	cfg := raftkv.DefaultConfig()
	var configFile string
	cmd := &cobra.Command{
		Use:   "raftkv",
		Short: "Run a raftkv member (Raft-replicated key-value store)",
		Long: `Run a raftkv member. Settings come from flags, from CAIRN_RAFTKV_<FLAG>
environment variables and from a YAML file (--config); flags win over the
environment, which wins over the file.

A new group bootstraps from --peers when the data directory is empty:
  cairn raftkv --id raftkv-1 --grpc-addr 127.0.0.1:7000 --admin-addr 127.0.0.1:7001 \
    --data-dir data/raftkv-1 --peers raftkv-1=127.0.0.1:7000,raftkv-2=127.0.0.1:7002,raftkv-3=127.0.0.1:7004`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := node.Load(cmd.Flags(), &cfg, "CAIRN_RAFTKV_", configFile); err != nil {
				return err
			}
			logger, err := node.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
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
			ctx, cancel := node.SignalContext(context.Background(), logger)
			defer cancel()
			srv, err := raftkv.New(cfg, logger)
			if err != nil {
				return err
			}
			if err := srv.Serve(ctx); err != nil {
				return fmt.Errorf("raftkv: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file")
	if err := node.BindFlags(cmd.Flags(), &cfg); err != nil {
		// A programming error in Config's struct tags (TestRaftKVFlags catches it):
		// report it when the command runs rather than crashing the whole CLI.
		cmd.RunE = func(*cobra.Command, []string) error { return err }
	}
	return cmd
}
