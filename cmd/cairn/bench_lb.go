package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/lbbench"
)

func newBenchLBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lb",
		Short: "Load balancer benchmark helpers (lbd, HAProxy): backends and a TCP throughput client",
		Long: `Helpers of bench/lb-compare.sh, which compares lbd with HAProxy: the
backends both balance over ('cairn bench lb backends') and a TCP throughput
client ('cairn bench lb tcp'). HTTP load comes from wrk.`,
	}
	cmd.AddCommand(newBenchLBBackendsCmd(), newBenchLBTCPCmd())
	return cmd
}

func newBenchLBBackendsCmd() *cobra.Command {
	var cfg lbbench.BackendsConfig
	cmd := &cobra.Command{
		Use:   "backends",
		Short: "Serve HTTP backends (one optionally slow) and TCP sinks until interrupted",
		Long: `Serve --http fast HTTP backends, one slow one when --slow-delay is set, and
--tcp TCP sinks on --host until interrupted.

An HTTP backend answers every GET or HEAD with the same 64-byte body (the slow
one after --slow-delay); GET ` + lbbench.StatsPath + ` answers its request count.
A TCP sink discards what a connection sends and, when the client
half-closes, answers the byte count as a decimal line.

With --http-port P the fast backends listen on P, P+1, ... and the slow one
on the next port; --tcp-port likewise; 0 takes free ports. Once every
backend listens it prints one line per backend: "http <addr>", "slow <addr>"
or "tcp <addr>".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return withExit(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveLBBackends(ctx, cfg, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Host, "host", "127.0.0.1", "IP to listen on")
	f.IntVar(&cfg.HTTP, "http", 3, "fast HTTP backends")
	f.IntVar(&cfg.TCP, "tcp", 3, "TCP sinks")
	f.IntVar(&cfg.HTTPPort, "http-port", 0, "first HTTP backend port (0: free ports)")
	f.IntVar(&cfg.TCPPort, "tcp-port", 0, "first TCP sink port (0: free ports)")
	f.DurationVar(&cfg.SlowDelay, "slow-delay", 0, "add one slow HTTP backend that waits this long before answering (0: none)")
	return cmd
}

// serveLBBackends starts the backends, prints their addresses to w and
// serves until ctx ends.
func serveLBBackends(ctx context.Context, cfg lbbench.BackendsConfig, w io.Writer) error {
	b, err := lbbench.StartBackends(cfg)
	if err != nil {
		return err
	}
	for _, a := range b.HTTPAddrs() {
		fmt.Fprintf(w, "http %s\n", a)
	}
	if a := b.SlowAddr(); a != "" {
		fmt.Fprintf(w, "slow %s\n", a)
	}
	for _, a := range b.TCPAddrs() {
		fmt.Fprintf(w, "tcp %s\n", a)
	}
	return b.Wait(ctx)
}

func newBenchLBTCPCmd() *cobra.Command {
	cfg := lbbench.DefaultTCPConfig()
	var output string
	cmd := &cobra.Command{
		Use:   "tcp",
		Short: "Measure TCP throughput through a proxy to 'cairn bench lb backends' sinks",
		Long: `Open --conns connections to --addr (a proxy's TCP frontend in front of the
sinks of 'cairn bench lb backends', or a sink itself), write --chunk-byte
buffers back to back on each for --duration, half-close, and read each
sink's count of the bytes it received. Prints the throughput in Gb/s of the
acknowledged bytes (a byte lost on the way does not count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageErrorf("--output %q: want table or json", output)
			}
			if err := cfg.Validate(); err != nil {
				return withExit(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := lbbench.RunTCP(ctx, cfg)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d conns, %.3f Gb/s (%d bytes acknowledged of %d sent in %.2fs), %d failed\n",
				res.Addr, res.Conns, res.Gbps, res.Acked, res.Sent, res.Seconds, res.Failed)
			if res.FirstError != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "first error: %s\n", res.FirstError)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "", "host:port of the proxy's TCP frontend (required)")
	f.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections, each sending back to back")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long each connection sends")
	f.IntVar(&cfg.Chunk, "chunk", cfg.Chunk, "bytes per write")
	f.DurationVar(&cfg.ReplyTimeout, "reply-timeout", cfg.ReplyTimeout, "wait for each sink's count after the half-close")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json (one line)")
	return cmd
}
