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

	"cairn.dev/cairn/bench/gatewaybench"
	"cairn.dev/cairn/cluster"
)

func newBenchGatewayCmd() *cobra.Command {
	cfg := gatewaybench.DefaultConfig()
	spec := gatewaybench.GatewaySpec{Secret: gatewaybench.BenchSecret, Issuer: gatewaybench.BenchIssuer,
		Consumer: gatewaybench.BenchConsumer, RateLimit: 1_000_000}
	var (
		clusterDir    string
		output        string
		serveUpstream string
		printConfig   bool
		printToken    bool
		tokenTTL      time.Duration
	)
	var benchTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "gateway [plain|auth|cached]",
		Short: "Benchmark gatewayd (or any HTTP proxy) with keep-alive connections: plain, JWT + rate limit, cached",
		Long: `Benchmark an HTTP gateway with --conns keep-alive connections, each sending
requests back to back for --warmup (not measured) and then --duration; print
requests per second, p50/p90/p99 latency, the cache hit ratio and the errors
(any answer but 200).

plain:  GET /plain, proxied as is.
auth:   GET /auth/plain with a bearer JWT (HS256): the gateway verifies it and
        takes a per-consumer rate-limit token (a limit far above the load).
cached: GET /cache/cacheable, answered by the gateway's response cache after
        the first request (the hit ratio counts X-Cache: HIT / Cache-Status hit).

--url is the gateway's base URL (default: the HTTP port of the local cluster's
first gatewayd node, over HTTPS with the cluster's CA unless it runs
--insecure; the TLS flags as for the other cairn clients). The gateway must run the benchmark's configuration in
front of the benchmark's upstream; two helpers set that up, and
bench/gateway-compare.sh uses them to compare gatewayd with nginx, Caddy and
Traefik:

  --serve-upstream ADDR  serve the fixed upstream (a 100-byte JSON body; paths
                         ending in /cacheable add Cache-Control: public,
                         max-age=60) until interrupted.
  --print-config         print the gatewayd YAML of the benchmark for
                         --upstream ADDR (routes /, /auth, /cache).
  --print-token          print the bearer token the auth scenario sends.

The JWT key, issuer and consumer default to fixed benchmark values, which
protect nothing.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"plain", "auth", "cached"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageErrorf("--output %q: want table or json", output)
			}
			modes := 0
			for _, on := range []bool{serveUpstream != "", printConfig, printToken} {
				if on {
					modes++
				}
			}
			if modes > 1 {
				return usageErrorf("--serve-upstream, --print-config and --print-token exclude each other")
			}
			if modes == 1 && len(args) > 0 {
				return usageErrorf("a scenario applies to a benchmark run only")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			switch {
			case serveUpstream != "":
				return serveBenchUpstream(ctx, serveUpstream, cmd.OutOrStdout())
			case printConfig:
				if spec.Upstream == "" {
					return usageErrorf("--print-config needs --upstream host:port")
				}
				b, err := gatewaybench.GatewayConfig(spec)
				if err != nil {
					return withExit(exitUsage, err)
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			token, err := gatewaybench.SignHS256(spec.Secret, spec.Issuer, spec.Consumer, time.Now(), tokenTTL)
			if err != nil {
				return withExit(exitUsage, err)
			}
			if printToken {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), token)
				return err
			}
			if len(args) == 1 {
				if cfg.Scenario, err = gatewaybench.ParseScenario(args[0]); err != nil {
					return withExit(exitUsage, err)
				}
			}
			if cfg.Token == "" && cfg.Scenario == gatewaybench.ScenarioAuth {
				cfg.Token = token
			}
			if cfg.URL == "" {
				if cfg.URL, err = gatewayURL(clusterDir); err != nil {
					return err
				}
			}
			if strings.HasPrefix(cfg.URL, "https:") {
				if cfg.TLS, err = benchTLS.config(clusterDir); err != nil {
					return err
				}
			}
			if err := cfg.Validate(); err != nil {
				return withExit(exitUsage, err)
			}
			res, err := gatewaybench.Run(ctx, cfg)
			if res.Requests == 0 {
				if err == nil {
					err = fmt.Errorf("no request completed in %v", cfg.Duration)
				}
				return err
			}
			if output == "json" {
				if werr := writeJSON(cmd.OutOrStdout(), res); werr != nil {
					return werr
				}
			} else if werr := gatewaybench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.URL, "url", "", "gateway base URL, e.g. http://127.0.0.1:8080 (default: the local cluster's first gatewayd node)")
	f.StringVar(&cfg.Host, "host", "", "Host header to send (default: the URL's host)")
	f.IntVar(&cfg.Conns, "conns", cfg.Conns, "keep-alive connections, one request in flight on each")
	f.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured load before --duration")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured phase")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request")
	f.StringVar(&cfg.Token, "token", "", "bearer token to send (default for auth: one signed with --jwt-secret)")
	f.StringVar(&spec.Secret, "jwt-secret", spec.Secret, "HS256 key, base64 of at least 32 bytes")
	f.StringVar(&spec.Issuer, "jwt-issuer", spec.Issuer, "the token's iss and the provider's issuer")
	f.StringVar(&spec.Consumer, "jwt-subject", spec.Consumer, "the token's sub and the configured consumer")
	f.DurationVar(&tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the signed token")
	f.StringVar(&serveUpstream, "serve-upstream", "", "serve the fixed upstream on this host:port until interrupted")
	f.BoolVar(&printConfig, "print-config", false, "print the benchmark's gatewayd YAML for --upstream and exit")
	f.StringVar(&spec.Upstream, "upstream", "", "with --print-config: the upstream's host:port")
	f.Int64Var(&spec.RateLimit, "rate-limit", spec.RateLimit, "with --print-config: the auth route's per-consumer limit per second")
	f.BoolVar(&printToken, "print-token", false, "print the auth scenario's bearer token and exit")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json (one line)")
	benchTLS = addClientTLSFlags(f)
	return cmd
}

// serveBenchUpstream serves the fixed upstream on addr until ctx ends, after
// printing "upstream <addr>" to w.
func serveBenchUpstream(ctx context.Context, addr string, w io.Writer) error {
	up, err := gatewaybench.StartUpstream(addr)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "upstream %s\n", up.Addr()); err != nil {
		up.Close()
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return up.Shutdown(sctx)
}

// gatewayURL is the base URL of the local cluster's first gatewayd node: its
// "http" port in the cluster state file, https unless the cluster runs
// without TLS.
func gatewayURL(clusterDir string) (string, error) {
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return "", usageErrorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if err != nil {
		return "", withExit(exitUnavailable, fmt.Errorf("no --url given and discovery failed: %w", err))
	}
	scheme := "https://"
	if st.TLS == nil {
		scheme = "http://"
	}
	for _, n := range st.Nodes {
		if n.Service == "gatewayd" && n.Ports["http"] != "" {
			return scheme + n.Ports["http"], nil
		}
	}
	return "", withExit(exitUnavailable, fmt.Errorf("no --url given and the cluster in %s has no gatewayd node with an http port", dir))
}
