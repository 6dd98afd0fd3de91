package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/kvbench"
	"cairn.dev/cairn/cluster"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark cairn daemons (and the systems they are compared with)",
	}
	cmd.AddCommand(newBenchKVCmd())
	cmd.AddCommand(newBenchLockCmd())
	cmd.AddCommand(newBenchCacheCmd())
	cmd.AddCommand(newBenchQueueCmd())
	cmd.AddCommand(newBenchStreamCmd())
	cmd.AddCommand(newBenchBlobCmd())
	cmd.AddCommand(newBenchSearchCmd())
	cmd.AddCommand(newBenchGatewayCmd())
	cmd.AddCommand(newBenchEdgeCmd())
	cmd.AddCommand(newBenchLBCmd())
	return cmd
}

func newBenchKVCmd() *cobra.Command {
	cfg := kvbench.DefaultConfig()
	var (
		endpoints   []string
		clusterDir  string
		target      string
		consistency string
		output      string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "kv [put|get|mixed]",
		Short: "Benchmark raftkv (or etcd) with puts, gets or a mix",
		Long: `Benchmark a key-value store with closed-loop clients.

--clients goroutines share --conns gRPC connections, spread round-robin over the
endpoints, and send requests back to back until --total have been sent. get and
mixed preload the --keys key space first. Without --endpoints, the raftkv nodes of
the local cluster (see 'cairn cluster up') are used.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"put", "get", "mixed"},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Scenario = kvbench.ScenarioPut
			if len(args) == 1 {
				cfg.Scenario = kvbench.Scenario(args[0])
			}
			cfg.Target = kvbench.Target(target)
			cfg.Consistency = kvbench.Consistency(consistency)
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			eps, err := benchEndpoints(endpoints, clusterDir, cfg.Target)
			if err != nil {
				return err
			}
			cfg.Endpoints = eps
			if cfg.TLS, err = benchTLS.configFor(cfg.Target == kvbench.TargetCairn, clusterDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := kvbench.Run(ctx, cfg)
			if err != nil && res.Requests == 0 {
				return err
			}
			if output == "json" {
				b, jerr := json.Marshal(res)
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if werr := kvbench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	f.IntVar(&cfg.Conns, "conns", cfg.Conns, "gRPC connections shared by the clients")
	f.IntVar(&cfg.KeySize, "key-size", cfg.KeySize, "key size in bytes")
	f.IntVar(&cfg.ValSize, "val-size", cfg.ValSize, "value size in bytes")
	f.IntVar(&cfg.Total, "total", cfg.Total, "requests to send, over all clients")
	f.IntVar(&cfg.Keys, "keys", cfg.Keys, "size of the key space")
	f.StringVar(&consistency, "consistency", string(kvbench.Linearizable), "read consistency: linearizable or serializable")
	f.Float64Var(&cfg.ReadRatio, "mixed-read-ratio", cfg.ReadRatio, "fraction of reads in the mixed scenario")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the key choices")
	f.StringSliceVar(&endpoints, "endpoints", nil, "gRPC endpoints host:port (default: the raftkv nodes of the local cluster)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(kvbench.TargetCairn), "store under test: cairn or etcd")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	benchTLS = addClientTLSFlags(f)
	return cmd
}

// benchEndpoints returns the explicit endpoints, or else those of the local
// cluster's raftkv nodes.
func benchEndpoints(flagValue []string, clusterDir string, target kvbench.Target) ([]string, error) {
	if target != kvbench.TargetCairn && len(nonEmpty(flagValue)) == 0 {
		return nil, fmt.Errorf("--endpoints is required with --target %s", target)
	}
	return serviceEndpoints(flagValue, clusterDir, "raftkv")
}
