package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/blobbench"
	"cairn.dev/cairn/gatewayd/edge/edgebench"
)

func newBenchEdgeCmd() *cobra.Command {
	cfg := edgebench.DefaultConfig()
	var (
		sizes  string
		output string
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Benchmark an HTTP cache (cairn's edge, Varnish, nginx, Squid, ATS) with a Zipf workload",
		Long: `Benchmark HTTP caches in front of the benchmark origin ('cairn bench edge origin').

--concurrency workers, each with one keep-alive connection to one of the
--target URLs (round-robin), send GETs back to back for --warmup (not
measured) and then --duration. Each picks object rank k with probability
proportional to 1/(k+1)^--zipf among --objects objects (seeded by --seed),
and asks for <target><--path-prefix>/<size>/<k>, where the size comes from
the --sizes mix ("1KiB,100KiB,10MiB" or with weights "1KiB:90,100KiB:9,10MiB:1";
an object always has the same size). A 200 must carry the object's body.

It prints requests/s, bytes/s, p50/p90/p99 latency, and the hit ratio by
the caches' headers (X-Cache HIT or STALE, Cache-Status hit, or Age > 0),
overall and per size; with --origin-stats (the origin's /stats URL) also the
origin's request count during the measured phase and the hit ratio it
implies. A new --path-prefix is a key space the caches have not seen.

--storm sends one request per worker for object --storm-object, all at the
same instant, to count what reaches the origin (request coalescing).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageErrorf("--output %q: want table or json", output)
			}
			mix, err := edgebench.ParseSizes(sizes)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--sizes: %w", err))
			}
			cfg.Sizes = mix
			for _, t := range cfg.Targets {
				if strings.HasPrefix(t, "https:") {
					if cfg.TLS, err = benchTLS.configFor(false, ""); err != nil {
						return withExit(exitUsage, err)
					}
					break
				}
			}
			if err := cfg.Validate(); err != nil {
				return withExit(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := edgebench.Run(ctx, cfg)
			if res.Requests == 0 {
				if err == nil {
					err = fmt.Errorf("no request completed")
				}
				return err
			}
			if output == "json" {
				if werr := writeJSON(cmd.OutOrStdout(), res); werr != nil {
					return werr
				}
			} else if werr := edgebench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&cfg.Targets, "target", nil, "base URL of a cache under load, e.g. http://127.0.0.1:6081 (repeatable)")
	f.StringVar(&cfg.Host, "host", "", "Host header to send (default: the target's host)")
	f.StringVar(&cfg.PathPrefix, "path-prefix", "", "path before every object path, e.g. /r1 (a new one is a cold key space)")
	f.IntVar(&cfg.Objects, "objects", cfg.Objects, "number of distinct objects")
	f.Float64Var(&cfg.Zipf, "zipf", cfg.Zipf, "Zipf exponent of object popularity (0: uniform)")
	f.StringVar(&sizes, "sizes", edgebench.FormatSizes(cfg.Sizes), "object size mix: size[:weight],... (KiB, MiB, GiB suffixes)")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "workers, each with one keep-alive connection and one request in flight")
	f.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured load before --duration")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured phase")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the object choices")
	f.StringVar(&cfg.OriginStats, "origin-stats", "", "the origin's stats URL (http://host:port/stats): count the requests that reached it")
	f.BoolVar(&cfg.Storm, "storm", false, "miss storm: one simultaneous request per worker for --storm-object")
	f.IntVar(&cfg.StormObject, "storm-object", 0, "with --storm: the object asked for")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json (one line)")
	benchTLS = addClientTLSFlags(f)
	cmd.AddCommand(newBenchEdgeOriginCmd())
	return cmd
}

func newBenchEdgeOriginCmd() *cobra.Command {
	cfg := edgebench.DefaultOriginConfig()
	var (
		addr    string
		maxSize string
	)
	cmd := &cobra.Command{
		Use:   "origin",
		Short: "Serve the edge benchmark's origin: deterministic objects with Cache-Control, counted",
		Long: `Serve the origin of 'cairn bench edge' on --addr until interrupted.

GET or HEAD [/prefix]/<size>/<id> answers object id (0 <= id < --objects) of
size bytes (at most --max-size): a deterministic body, Cache-Control: public,
max-age=<--max-age>, a strong ETag (If-None-Match answers 304) and a fixed
Last-Modified. GET /stats answers the request counts as JSON (requests, gets,
heads, not_modified, not_found, body_bytes). It prints "origin <addr>" once
listening.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := blobbench.ParseSize(maxSize)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--max-size: %w", err))
			}
			cfg.MaxSize = n
			if err := cfg.Validate(); err != nil {
				return withExit(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveEdgeOrigin(ctx, addr, cfg, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8090", "host:port to listen on")
	f.IntVar(&cfg.Objects, "objects", cfg.Objects, "number of objects (ids 0..objects-1)")
	f.StringVar(&maxSize, "max-size", blobbench.FormatSize(cfg.MaxSize), "largest object size a path may ask for")
	f.DurationVar(&cfg.MaxAge, "max-age", cfg.MaxAge, "Cache-Control max-age of every object (whole seconds)")
	return cmd
}

// serveEdgeOrigin serves the benchmark origin on addr until ctx ends, after
// printing "origin <addr>" to w.
func serveEdgeOrigin(ctx context.Context, addr string, cfg edgebench.OriginConfig, w io.Writer) error {
	o, err := edgebench.StartOrigin(addr, cfg)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "origin %s\n", o.Addr()); err != nil {
		_ = o.Close()
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return o.Shutdown(sctx)
}
