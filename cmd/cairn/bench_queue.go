package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/queuebench"
	"cairn.dev/cairn/cluster"
)

func newBenchQueueCmd() *cobra.Command {
	cfg := queuebench.DefaultConfig()
	var (
		endpoints  []string
		clusterDir string
		target     string
		output     string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "queue [publish|consume|e2e]",
		Short: "Benchmark queued (or a RabbitMQ quorum queue, or a NATS JetStream work queue) with confirmed sends and acked receives",
		Long: `Benchmark a message queue with closed-loop producers, each waiting for every
send's confirmation, and consumers that ack every delivery with at most
--prefetch unacknowledged.

publish: producers only; send-and-confirm throughput and latency.
consume: the queue is filled with --total messages (not measured), then the
         consumers drain it (the backlog drain).
e2e:     producers and consumers together; end-to-end latency from the send
         to the delivery.

--target queued speaks queued's gRPC API (without --endpoints, the queued nodes
of the local cluster); rabbitmq declares a quorum queue and uses publisher
confirms and manual acks (--endpoints: AMQP host:port of each node); nats
creates a JetStream work-queue stream (file storage, 3 replicas) and a pull
consumer with explicit acks (--endpoints: client host:port of each node).`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"publish", "consume", "e2e"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				cfg.Scenario = queuebench.Scenario(args[0])
			}
			cfg.Target = queuebench.Target(target)
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			if cfg.Target != queuebench.TargetQueued && len(nonEmpty(endpoints)) == 0 {
				return fmt.Errorf("--endpoints is required with --target %s", cfg.Target)
			}
			eps, err := serviceEndpoints(endpoints, clusterDir, "queued")
			if err != nil {
				return err
			}
			cfg.Endpoints = eps
			if cfg.TLS, err = benchTLS.configFor(cfg.Target == queuebench.TargetQueued, clusterDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := queuebench.Run(ctx, cfg)
			if err != nil && res.Sent == 0 && res.Received == 0 {
				return err
			}
			if output == "json" {
				b, jerr := json.Marshal(res)
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if werr := queuebench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Producers, "producers", cfg.Producers, "concurrent producers, each with its own connection")
	f.IntVar(&cfg.Consumers, "consumers", cfg.Consumers, "concurrent consumers, each with its own connection")
	f.IntVar(&cfg.Prefetch, "prefetch", cfg.Prefetch, "most unacknowledged deliveries per consumer")
	f.IntVar(&cfg.MessageBytes, "message-bytes", cfg.MessageBytes, "size of every message body")
	f.IntVar(&cfg.Total, "total", cfg.Total, "messages sent (publish, e2e) or drained (consume)")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each send and of each wait for a delivery")
	f.StringVar(&cfg.Queue, "queue", cfg.Queue, "name of the run's queue (default: unique per run); deleted at the end")
	f.StringVar(&cfg.Username, "username", cfg.Username, "RabbitMQ user")
	f.StringVar(&cfg.Password, "password", cfg.Password, "RabbitMQ password")
	f.StringSliceVar(&endpoints, "endpoints", nil, "endpoints host:port (default: the queued nodes of the local cluster)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(queuebench.TargetQueued), "service under test: queued, rabbitmq or nats")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	benchTLS = addClientTLSFlags(f)
	return cmd
}
