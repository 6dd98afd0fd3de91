package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	blobdclient "cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/gatewayd/edge/cdndemo"
)

func newCDNDemoCmd(g *clientFlags) *cobra.Command {
	var o cdndemo.Options
	var timeout time.Duration
	var blobdEndpoints []string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Compare reading blobd objects with and without the CDN: hit ratio, origin requests, p50/p99",
		Long: `Store --objects objects in blobd (bucket --bucket, created when missing;
objects already there are reused), then let users in --regions regions read
them with Zipf popularity, first straight from the origin, then through
edge nodes near them, and print both runs: hit ratio, origin requests and
latency percentiles.

Distances are simulated with added delays, the same in both runs: every
request pays --edge-latency (a user to the nearest edge), every request
that reaches the origin pays --origin-latency more. The edges are real edge
servers started by this command on 127.0.<region>.1, with the cluster's
blobd as their origin and each other as their shield tier, so the origin
sees about one request per object. Needs the cluster's blobd (found like
the edges: --cluster-dir, or --blobd-endpoints).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bg := &clientFlags{service: "blobd", endpoints: blobdEndpoints, clusterDir: g.clusterDir, output: g.output, timeout: g.timeout, tls: g.tls}
			eps, tc, err := bg.target()
			if err != nil {
				return err
			}
			c, err := blobdclient.New(blobdclient.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
			if err != nil {
				return usageErrorf("blobd endpoints: %w", err)
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			o.Blob = c
			o.Logger = slog.New(slog.DiscardHandler)
			res, err := cdndemo.Run(ctx, o)
			if err != nil {
				return err
			}
			return g.printer(cmd).print(res, func(w io.Writer) error {
				fmt.Fprintf(w, "%d objects of %d bytes in %s, %d requests per run (seed %d); users %.0f ms from their edge, origin %.0f ms further\n",
					res.Objects, res.ObjectBytes, res.Bucket, res.Requests, res.Seed, res.EdgeLatencyMS, res.OriginLatencyMS)
				fmt.Fprintf(w, "without CDN: %d origin requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
					res.WithoutCDN.OriginRequests, res.WithoutCDN.P50MS, res.WithoutCDN.P90MS, res.WithoutCDN.P99MS)
				fmt.Fprintf(w, "with CDN:    %d origin requests, hit ratio %.3f, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
					res.WithCDN.OriginRequests, res.WithCDN.HitRatio, res.WithCDN.P50MS, res.WithCDN.P90MS, res.WithCDN.P99MS)
				for _, r := range res.WithCDN.Regions {
					fmt.Fprintf(w, "  %-10s %s: %d requests, %d hits, p50 %.1f ms\n", r.Region, r.Edge, r.Requests, r.Hits, r.P50MS)
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&blobdEndpoints, "blobd-endpoints", nil, "blobd nodes host:port,... (default: the cluster's)")
	fl.StringVar(&o.Bucket, "bucket", "cdn-demo", "bucket of the demo's objects")
	fl.IntVar(&o.Objects, "objects", 200, "objects read")
	fl.IntVar(&o.Size, "size", 16<<10, "bytes per object")
	fl.IntVar(&o.Requests, "requests", 2000, "requests per run")
	fl.IntVar(&o.Concurrency, "concurrency", 24, "users reading at once")
	fl.IntVar(&o.Regions, "regions", 3, "regions, each with its edge (at most 10)")
	fl.Float64Var(&o.Zipf, "zipf", 1.1, "Zipf exponent of object popularity (> 1)")
	fl.DurationVar(&o.EdgeLatency, "edge-latency", 20*time.Millisecond, "simulated distance from a user to the nearest edge")
	fl.DurationVar(&o.OriginLatency, "origin-latency", 200*time.Millisecond, "simulated extra distance to the origin")
	fl.Uint64Var(&o.Seed, "seed", 0, "seed of the requests (0: random, printed)")
	fl.DurationVar(&timeout, "run-timeout", 10*time.Minute, "bound of the whole demo")
	return cmd
}
