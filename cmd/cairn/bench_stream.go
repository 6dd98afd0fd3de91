package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/streambench"
	"cairn.dev/cairn/cluster"
)

func newBenchStreamCmd() *cobra.Command {
	cfg := streambench.DefaultConfig()
	var (
		endpoints  []string
		clusterDir string
		target     string
		acks       string
		totalBytes int64
		output     string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "stream [produce|consume|e2e|growth]",
		Short: "Benchmark streamd (or NATS JetStream) with batched produces and consumers",
		Long: `Benchmark a partitioned log with Kreps's Kafka workload scaled to one machine:
--record-bytes 100 records without keys, a topic of --partitions 6 with
--replication 3, --producers 1.

A producer accumulates records into one batch per partition (--batch-bytes of
values; with --rate, a batch also leaves once its first record waited
--linger) and keeps one batch per partition in flight; more --producers, each
with its own connections, add more in flight.

produce: producers only; records/s, MiB/s (2^20 bytes of values) and the
         batch latency from send to ack (--acks leader: fsynced on the
         partition leader; all: on every in-sync replica).
consume: the topic is filled with --total records (not measured), then
         --consumers read it from the beginning: members of a consumer group
         (committing once a second), or with --group=false direct fetches of
         a share of the partitions each.
e2e:     producers and consumers together; the latency from a record's
         creation to its receipt (add --rate for a given load).
growth:  produce --total-bytes, printing the throughput every
         --interval-bytes, as the stored data outgrows the page cache.

--target streamd speaks streamd's gRPC API (without --endpoints, the streamd
nodes of the local cluster); nats uses one JetStream stream per partition
(file storage, --replication replicas), async publishes whose acks each batch
waits for, and ordered consumers (--endpoints: client host:port of each node).`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"produce", "consume", "e2e", "growth"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				cfg.Scenario = streambench.Scenario(args[0])
			}
			cfg.Target = streambench.Target(target)
			cfg.Acks = streambench.Acks(acks)
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			if totalBytes > 0 {
				cfg.Total = int(totalBytes / int64(max(1, cfg.RecordBytes)))
			}
			if cfg.Target != streambench.TargetStreamd && len(nonEmpty(endpoints)) == 0 {
				return fmt.Errorf("--endpoints is required with --target %s", cfg.Target)
			}
			eps, err := serviceEndpoints(endpoints, clusterDir, "streamd")
			if err != nil {
				return err
			}
			cfg.Endpoints = eps
			if err := cfg.Validate(); err != nil {
				return err
			}
			if cfg.TLS, err = benchTLS.configFor(cfg.Target == streambench.TargetStreamd, clusterDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := streambench.Run(ctx, cfg)
			if err != nil && res.Produced == 0 && res.Consumed == 0 {
				return err
			}
			if output == "json" {
				b, jerr := json.Marshal(res)
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if werr := streambench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&acks, "acks", string(cfg.Acks), "produce acks (streamd): leader or all")
	f.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the run's topic")
	f.IntVar(&cfg.Replication, "replication", cfg.Replication, "replicas of each partition")
	f.IntVar(&cfg.RecordBytes, "record-bytes", cfg.RecordBytes, "size of every record's value")
	f.IntVar(&cfg.Total, "total", cfg.Total, "records produced (produce, e2e, growth) or consumed (consume)")
	f.Int64Var(&totalBytes, "total-bytes", 0, "instead of --total: bytes of values to produce (e.g. for growth)")
	f.IntVar(&cfg.Producers, "producers", cfg.Producers, "producer clients, each with one batch in flight per partition")
	f.IntVar(&cfg.BatchBytes, "batch-bytes", cfg.BatchBytes, "bytes of values in a full batch")
	f.DurationVar(&cfg.Linger, "linger", cfg.Linger, "with --rate: how long a batch waits for more records")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "records per second over all producers (0: as fast as acks return)")
	f.IntVar(&cfg.Consumers, "consumers", cfg.Consumers, "consumer clients (at most --partitions)")
	f.BoolVar(&cfg.Group, "group", cfg.Group, "streamd consumers join one consumer group (false: direct partition fetches)")
	f.IntVar(&cfg.FetchBytes, "fetch-bytes", cfg.FetchBytes, "most bytes of one partition per fetch")
	f.Int64Var(&cfg.Interval, "interval-bytes", cfg.Interval, "growth: bytes of values between two samples")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each produce and of the consumers' wait for progress")
	f.StringVar(&cfg.Topic, "topic", cfg.Topic, "name of the run's topic (default: unique per run); deleted at the end")
	f.StringSliceVar(&endpoints, "endpoints", nil, "endpoints host:port (default: the streamd nodes of the local cluster)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(streambench.TargetStreamd), "service under test: streamd or nats")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	benchTLS = addClientTLSFlags(f)
	return cmd
}
