package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/lockbench"
	"cairn.dev/cairn/cluster"
)

func newBenchLockCmd() *cobra.Command {
	cfg := lockbench.DefaultConfig()
	var (
		endpoints  []string
		clusterDir string
		target     string
		output     string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "lock [uncontended|contended|many]",
		Short: "Benchmark lockd (or etcd's lock recipe, or a Redis lock) with acquire+release cycles",
		Long: `Benchmark a lock service with closed-loop clients, each with its own session.

uncontended: every client acquires and releases a lock of its own.
contended:   every client contends for one lock; reports the hand-off time (from
             a holder invoking its release to the next holder's grant).
many:        clients acquire and release locks drawn from --locks names.

--target lockd speaks lockd's API (without --endpoints, the lockd nodes of the
local cluster); etcd runs etcd's lock recipe (lease, key under the lock's prefix,
wait for the predecessor's deletion); redis uses SET NX PX and a
compare-and-delete script on a single Redis server (no fencing tokens).`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"uncontended", "contended", "many"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				cfg.Scenario = lockbench.Scenario(args[0])
			}
			cfg.Target = lockbench.Target(target)
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			eps, err := lockBenchEndpoints(endpoints, clusterDir, cfg.Target)
			if err != nil {
				return err
			}
			cfg.Endpoints = eps
			if cfg.TLS, err = benchTLS.configFor(cfg.Target == lockbench.TargetLockd, clusterDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := lockbench.Run(ctx, cfg)
			if err != nil && res.Cycles == 0 {
				return err
			}
			if output == "json" {
				b, jerr := json.Marshal(res)
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if werr := lockbench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients, each with its own session")
	f.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections shared by the clients (lockd, etcd)")
	f.IntVar(&cfg.Total, "total", cfg.Total, "acquire+release cycles, over all clients")
	f.IntVar(&cfg.Locks, "locks", cfg.Locks, "lock names of the many scenario")
	f.DurationVar(&cfg.TTL, "ttl", cfg.TTL, "session (lease, key) TTL")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each acquire and release")
	f.DurationVar(&cfg.RedisRetry, "redis-retry", cfg.RedisRetry, "how long a Redis client waits before trying a held lock again (± half)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the lock choices")
	f.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "prefix of every lock name (default: unique per run)")
	f.StringSliceVar(&endpoints, "endpoints", nil, "endpoints host:port (default: the lockd nodes of the local cluster)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(lockbench.TargetLockd), "service under test: lockd, etcd or redis")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	benchTLS = addClientTLSFlags(f)
	return cmd
}

// lockBenchEndpoints returns the explicit endpoints, or else (lockd only) those
// of the local cluster's lockd nodes.
func lockBenchEndpoints(flagValue []string, clusterDir string, target lockbench.Target) ([]string, error) {
	if target != lockbench.TargetLockd && len(nonEmpty(flagValue)) == 0 {
		return nil, fmt.Errorf("--endpoints is required with --target %s", target)
	}
	return serviceEndpoints(flagValue, clusterDir, "lockd")
}
