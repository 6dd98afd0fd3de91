package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/bench/searchbench"
	"cairn.dev/cairn/cluster"
)

func newBenchSearchCmd() *cobra.Command {
	cfg := searchbench.DefaultConfig()
	ccfg := searchbench.ClusterConfig{Index: "cairn-bench-search", Shards: 3, Replicas: 1}
	var (
		inProcess  bool
		dir        string
		kinds      []string
		corpus     string
		saveCorpus string
		endpoints  []string
		clusterDir string
		output     string
	)
	var grpcTLS *clientTLSFlags // set below, with the other flags
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Benchmark searchd: indexing throughput, query latency per query kind, index size",
		Long: `Benchmark searchd with a corpus of Debian package descriptions (apt-cache
dumpavail, long descriptions from apt's Translation-en lists when present),
replicated with new ids up to --docs: index them in --batch documents per bulk
request from --writers writers (documents per second, to the end of a refresh),
then run a query mix — term, phrase, fuzzy, prefix and faceted (terms
aggregation on section) — from --clients concurrent clients for --duration
after a --warmup, and print p50/p99 per query kind, overall QPS and the index's
size on disk.

The target is a running searchd cluster over gRPC (--endpoints, default the
local cluster's searchd nodes; the TLS flags as for the other cairn clients):
the run creates --index with --shards and --replicas (deleting one of that name
first) and deletes it at the end; the size is one copy's (size of every copy /
(1 + replicas)). With --in-process the target is searchd's engine as a library
(searchd/engine) in --dir (default a temporary directory, removed after).

--save-corpus FILE writes the corpus (not replicated) as JSON lines and exits;
--corpus FILE reads it back, so that runs compare on the same documents
(bench/search-compare.sh does this).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			cfg.Kinds = nil
			for _, k := range nonEmpty(kinds) {
				kind, err := searchbench.ParseKind(k)
				if err != nil {
					return fmt.Errorf("--kinds: %w", err)
				}
				cfg.Kinds = append(cfg.Kinds, kind)
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if dir != "" && !inProcess {
				return usageErrorf("--dir applies to --in-process only")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			docs, err := searchbench.LoadCorpus(ctx, corpus)
			if err != nil {
				return err
			}
			if saveCorpus != "" {
				return writeCorpusFile(saveCorpus, docs)
			}
			var t searchbench.Target
			if inProcess {
				if !cmd.Flags().Changed("shards") {
					ccfg.Shards = 1 // one index, as the in-process anchors have
				}
				if dir == "" {
					tmp, err := os.MkdirTemp("", "cairn-bench-search-")
					if err != nil {
						return err
					}
					defer os.RemoveAll(tmp)
					dir = tmp
				}
				if t, err = searchbench.NewInProcess(dir, ccfg.Shards); err != nil {
					return err
				}
			} else {
				if ccfg.Endpoints, err = serviceEndpoints(endpoints, clusterDir, "searchd"); err != nil {
					return err
				}
				if ccfg.TLS, err = grpcTLS.config(clusterDir); err != nil {
					return err
				}
				if t, err = searchbench.NewCluster(ctx, ccfg); err != nil {
					return err
				}
			}
			res, err := searchbench.Run(ctx, cfg, docs, t)
			if res.Docs == 0 {
				return err
			}
			if output == "json" {
				if werr := writeJSON(cmd.OutOrStdout(), res); werr != nil {
					return werr
				}
			} else if werr := searchbench.WriteTable(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Docs, "docs", cfg.Docs, "documents to index (the corpus, replicated with new ids when smaller)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "documents per bulk request")
	f.IntVar(&cfg.Writers, "writers", cfg.Writers, "concurrent bulk requests")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent query clients, each with one query in flight")
	f.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured querying before --duration")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured query phase")
	f.IntVar(&cfg.Queries, "queries", cfg.Queries, "queries per client in the measured phase instead of --duration (0: run for --duration)")
	f.StringSliceVar(&kinds, "kinds", []string{"term", "phrase", "fuzzy", "prefix", "facet"}, "query kinds of the mix")
	f.IntVar(&cfg.QueriesPerKind, "queries-per-kind", cfg.QueriesPerKind, "distinct queries generated per kind")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each bulk request and query")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the queries and of the clients' choices")
	f.StringVar(&corpus, "corpus", "", "read the corpus from this JSON-lines file (from --save-corpus) instead of apt")
	f.StringVar(&saveCorpus, "save-corpus", "", "write the corpus to this file as JSON lines and exit")
	f.BoolVar(&inProcess, "in-process", false, "benchmark searchd's engine as a library instead of a cluster")
	f.StringVar(&dir, "dir", "", "with --in-process: the index directory (default a temporary one, removed after)")
	f.IntVar(&ccfg.Shards, "shards", ccfg.Shards, "shards of the index (default 1 with --in-process)")
	f.IntVar(&ccfg.Replicas, "replicas", ccfg.Replicas, "replicas of each shard (cluster only)")
	f.StringVar(&ccfg.Index, "index", ccfg.Index, "index the run creates and deletes (cluster only)")
	f.StringSliceVar(&endpoints, "endpoints", nil, "searchd gRPC endpoints host:port (default: the local cluster's searchd nodes)")
	f.StringVar(&clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json (one line)")
	grpcTLS = addClientTLSFlags(f)
	return cmd
}

// writeCorpusFile writes docs to path as JSON lines.
func writeCorpusFile(path string, docs []searchbench.Doc) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := searchbench.WriteCorpus(f, docs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
