package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/cachebench"
	"cairn.dev/cairn/cluster"
)

func newBenchCacheCmd() *cobra.Command {
	cfg := cachebench.DefaultConfig()
	var (
		endpoints  []string
		clusterDir string
		target     string
		output     string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "cache [set|get|aside]",
		Short: "Benchmark cached through the smart client: sets, gets (batched with --batch) or cache-aside",
		Long: `Benchmark cached with closed-loop clients sharing one smart client, which sends
each key straight to its owner.

set:   every request writes a key.
get:   preload the --keys key space, then read (--batch N keys per MGet).
aside: cache-aside: read, and write the key on a miss. With --zipf 1.1 and a
       memory limit on the nodes (cached --max-bytes), the hit ratio shows how
       well eviction keeps the hot keys.

--target cached (default) goes through the smart gRPC client; --target resp
sends plain GET/MGET/SET over RESP, one connection per client, to one server
(a cached node's RESP port, or redis-server: the same workload against both).

Without --endpoints, the cached nodes of the local cluster are used.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"set", "get", "aside"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				cfg.Scenario = cachebench.Scenario(args[0])
			}
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			cfg.Target = cachebench.Target(target)
			if cfg.Target == cachebench.TargetRESP && len(nonEmpty(endpoints)) == 0 {
				return fmt.Errorf("--endpoints (a RESP host:port) is required with --target resp")
			}
			eps, err := serviceEndpoints(endpoints, clusterDir, "cached")
			if err != nil {
				return err
			}
			cfg.Endpoints = eps
			if cfg.TLS, err = benchTLS.configFor(cfg.Target == cachebench.TargetCached, clusterDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := cachebench.Run(ctx, cfg)
			if err != nil && res.Requests == 0 {
				return err
			}
			if output == "json" {
				b, jerr := json.Marshal(res)
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if werr := cachebench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	f.IntVar(&cfg.Total, "total", cfg.Total, "requests to send, over all clients")
	f.IntVar(&cfg.Keys, "keys", cfg.Keys, "size of the key space")
	f.IntVar(&cfg.KeySize, "key-size", cfg.KeySize, "key size in bytes")
	f.IntVar(&cfg.ValSize, "val-size", cfg.ValSize, "value size in bytes")
	f.Float64Var(&cfg.Zipf, "zipf", cfg.Zipf, "Zipf exponent of the key choice (> 1; 0: uniform)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "keys per read (MGet when > 1)")
	f.DurationVar(&cfg.TTL, "ttl", cfg.TTL, "TTL of written keys (0: none)")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the key choices")
	f.StringSliceVar(&endpoints, "endpoints", nil, "gRPC endpoints host:port (default: the cached nodes of the local cluster)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(cachebench.TargetCached), "protocol: cached (smart gRPC client) or resp (Redis protocol, --endpoints host:port)")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	benchTLS = addClientTLSFlags(f)
	return cmd
}
