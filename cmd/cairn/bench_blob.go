package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/blobbench"
	"cairn.dev/cairn/cluster"
)

func newBenchBlobCmd() *cobra.Command {
	cfg := blobbench.DefaultConfig()
	var (
		endpoints  []string
		sizes      []string
		ops        []string
		caFile     string
		clusterDir string
		target     string
		output     string
	)
	var grpcTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "blob",
		Short: "Benchmark an S3 object store (blobd, or any S3 server) with PUTs and GETs of whole objects",
		Long: `Benchmark an S3 object store: for each of --sizes (default 4KiB,1MiB,64MiB),
--clients concurrent clients, each with its own connection and one request in
flight, PUT new objects, then GET them back (--ops put,get): --count objects per
op, or as many as fit in --duration. Every GET is read to its last byte and
checked (length and CRC-32C of what was written): a wrong answer counts as
corrupt, never as a success. Prints objects/s, MiB/s (of object content), p50/p99
latency (to the response for PUT, to the last byte for GET) and errors.

The client is AWS's Go SDK: path-style requests to --endpoints, SigV4 with static
credentials, UNSIGNED-PAYLOAD bodies unless --sign-payload, no added checksums.
Without --endpoints it targets the local cluster's blobd: the S3 address of its
first running node (https with the cluster's CA when the cluster runs TLS) and
the cluster's access key and region. Any other S3 server works with
--endpoints, --access-key and --secret-key (default $AWS_ACCESS_KEY_ID,
$AWS_SECRET_ACCESS_KEY), --region (default $AWS_DEFAULT_REGION) and, for https,
--ca-file (default $AWS_CA_BUNDLE); what is still missing then comes from the
local cluster, if any.

--target grpc measures blobd's own gRPC API (cairn.blobd.v1) through its Go
client instead, with the same workload and checks: --endpoints are then host:port
gRPC addresses (default: every blobd node of the local cluster) and the TLS
flags --tls-ca, --tls-cert, --tls-key and --insecure apply, as for the other
cairn clients.

Objects go to --bucket (created when missing, and then removed at the end) under
a prefix unique to the run, and are deleted after each size unless --keep.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			cfg.Sizes = nil
			for _, s := range nonEmpty(sizes) {
				n, err := blobbench.ParseSize(s)
				if err != nil {
					return fmt.Errorf("--sizes: %w", err)
				}
				cfg.Sizes = append(cfg.Sizes, n)
			}
			cfg.Ops = nil
			for _, op := range nonEmpty(ops) {
				cfg.Ops = append(cfg.Ops, blobbench.Op(op))
			}
			cfg.Target = blobbench.Target(target)
			switch cfg.Target {
			case blobbench.TargetS3:
				if grpcTLS.ca != "" || grpcTLS.cert != "" || grpcTLS.key != "" || grpcTLS.insecure {
					return usageErrorf("--tls-ca, --tls-cert, --tls-key and --insecure apply to --target grpc; an S3 endpoint's scheme says http or https, and --ca-file its CA")
				}
				if err := blobTarget(&cfg, nonEmpty(endpoints), caFile, clusterDir); err != nil {
					return err
				}
			case blobbench.TargetGRPC:
				eps, err := serviceEndpoints(endpoints, clusterDir, "blobd")
				if err != nil {
					return err
				}
				cfg.Endpoints = eps
				if cfg.TLS, err = grpcTLS.config(clusterDir); err != nil {
					return err
				}
			default:
				return fmt.Errorf("--target %q: want s3 or grpc", target)
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			results, err := blobbench.Run(ctx, cfg)
			if len(results) == 0 {
				return err
			}
			out := printer{w: cmd.OutOrStdout(), json: output == "json"}
			if out.json {
				for _, r := range results {
					if werr := writeJSON(out.w, r); werr != nil {
						return werr
					}
				}
			} else if werr := blobbench.WriteTable(out.w, results...); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&sizes, "sizes", []string{"4KiB", "1MiB", "64MiB"}, "object sizes, measured one after another (bytes, or with a K, M or G binary suffix)")
	f.StringSliceVar(&ops, "ops", []string{"put", "get"}, "operations per size: put, get or both (get alone writes its objects first, unmeasured)")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients, each with its own connection and one request in flight")
	f.IntVar(&cfg.Count, "count", cfg.Count, "objects per op and size (0: run each op for --duration)")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each op per size when --count is 0")
	f.IntVar(&cfg.MaxObjects, "max-objects", cfg.MaxObjects, "most objects written per size in a --duration run")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request, its body included")
	f.StringVar(&cfg.Bucket, "bucket", cfg.Bucket, "bucket of the run's objects (created when missing, then removed)")
	f.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "key prefix of the run's objects (default: unique per run)")
	f.BoolVar(&cfg.SignPayload, "sign-payload", cfg.SignPayload, "sign each PUT body's SHA-256 instead of sending UNSIGNED-PAYLOAD")
	f.BoolVar(&cfg.Keep, "keep", cfg.Keep, "leave the run's objects (and the bucket) in place")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the object contents and of the read order")
	f.StringSliceVar(&endpoints, "endpoints", nil, "S3 endpoints http(s)://host:port of one store, client i using endpoint i mod n (default: a blobd node of the local cluster); with --target grpc, host:port of blobd nodes (default: all of the local cluster's)")
	f.StringVar(&cfg.Region, "region", "", "region requests are signed for (default: the cluster's, else us-east-1; with --endpoints $AWS_DEFAULT_REGION first)")
	f.StringVar(&cfg.AccessKey, "access-key", "", "access key id (default: the cluster's; with --endpoints $AWS_ACCESS_KEY_ID first)")
	f.StringVar(&cfg.SecretKey, "secret-key", "", "secret access key (default: the cluster's; with --endpoints $AWS_SECRET_ACCESS_KEY first)")
	f.StringVar(&caFile, "ca-file", "", "PEM CA that https endpoints' certificates chain to (default: the cluster's when it runs TLS; with --endpoints $AWS_CA_BUNDLE first; else the system's)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVar(&target, "target", string(blobbench.TargetS3), "API under test: s3 (any S3 server) or grpc (blobd's own)")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json (one line per size and op)")
	grpcTLS = addClientTLSFlags(f)
	return cmd
}

// blobTarget completes cfg's endpoints, credentials, region and TLS. Flags
// come first. Without endpoints the target is the local cluster's blobd,
// with the cluster's access key, region and CA. With explicit endpoints,
// what the flags leave open comes from the AWS_* environment
// ($AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_DEFAULT_REGION,
// $AWS_CA_BUNDLE), then from the local cluster when there is one.
func blobTarget(cfg *blobbench.Config, endpoints []string, caFile, clusterDir string) error {
	explicit := len(endpoints) > 0
	if explicit {
		if cfg.AccessKey == "" && cfg.SecretKey == "" {
			cfg.AccessKey, cfg.SecretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		}
		if cfg.Region == "" {
			cfg.Region = os.Getenv("AWS_DEFAULT_REGION")
		}
		if caFile == "" {
			caFile = os.Getenv("AWS_CA_BUNDLE")
		}
	}
	st, err := loadClusterFor(clusterDir, !explicit || cfg.AccessKey == "" || cfg.SecretKey == "")
	if err != nil {
		return err
	}
	if !explicit {
		if endpoints, err = blobdS3Endpoint(st); err != nil {
			return err
		}
	}
	cfg.Endpoints = endpoints
	if st != nil && st.AccessKey != nil {
		if cfg.AccessKey == "" && cfg.SecretKey == "" {
			if cfg.AccessKey, cfg.SecretKey, err = st.AccessKey.AccessKey(); err != nil {
				return err
			}
		}
		if cfg.Region == "" {
			cfg.Region = st.AccessKey.Region
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return usageErrorf("--access-key and --secret-key: both are needed (with --endpoints: or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY; or a local cluster with an access key)")
	}
	if caFile == "" && st != nil && st.TLS != nil {
		caFile = st.TLS.CAFile
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
		}
		cfg.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return nil
}

// loadClusterFor reads the local cluster's state file; when the cluster is
// only a fallback (need false), having none is not an error.
func loadClusterFor(clusterDir string, need bool) (*cluster.State, error) {
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return nil, usageErrorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	switch {
	case errors.Is(err, cluster.ErrNoCluster) && !need:
		return nil, nil
	case err != nil:
		return nil, withExit(exitUnavailable, fmt.Errorf("no --endpoints or credentials given and discovery failed: %w", err))
	}
	return st, nil
}

// blobdS3Endpoint is the S3 URL of the cluster's first running blobd node
// (https when the cluster runs TLS).
func blobdS3Endpoint(st *cluster.State) ([]string, error) {
	scheme := "http"
	if st.TLS != nil {
		scheme = "https"
	}
	for _, n := range st.Nodes {
		if n.Service == "blobd" && n.PID != 0 && n.Ports["s3"] != "" {
			return []string{scheme + "://" + n.Ports["s3"]}, nil
		}
	}
	return nil, withExit(exitUnavailable, fmt.Errorf("no --endpoints given and the cluster in %s has no running blobd node with an S3 address (start it with 'cairn cluster up --services blobd,…')", st.Dir))
}
