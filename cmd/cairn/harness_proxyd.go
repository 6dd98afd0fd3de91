package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// newClusterProxydCmd is the hidden `cairn cluster proxyd`: the fault proxy
// process that `cairn cluster up` starts (see cluster.RunProxyd). It runs until
// SIGTERM or SIGINT.
func newClusterProxydCmd(dir func() (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:    "proxyd",
		Short:  "Run the fault proxies of the cluster (started by 'cairn cluster up')",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := dir()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return cluster.RunProxyd(ctx, d, cliLogger(slog.LevelInfo))
		},
	}
}
