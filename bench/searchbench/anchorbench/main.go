// Command anchorbench runs `cairn bench search`'s workload (package
// searchbench: the same corpus, documents and query mix) against one of the
// engines searchd is compared with — Bleve v2 in-process, Sphinx 2.2's
// searchd or Xapian 1.4 (package anchors) — and prints the same table or
// JSON line. bench/search-compare.sh builds and runs it; it is a program of
// its own so that the anchors stay out of the cairn binary.
//
//	anchorbench -engine bleve|sphinx|xapian [-corpus FILE] [-docs N] [-clients N] [-duration D] [-output json] ...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"cairn.dev/cairn/bench/searchbench"
	"cairn.dev/cairn/bench/searchbench/anchors"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "anchorbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := searchbench.DefaultConfig()
	fs := flag.NewFlagSet("anchorbench", flag.ContinueOnError)
	engine := fs.String("engine", "", "engine: bleve, sphinx or xapian")
	corpus := fs.String("corpus", "", "corpus file (JSON lines, from cairn bench search --save-corpus); default: apt's lists")
	dir := fs.String("dir", "", "work directory of bleve and xapian (default a temporary one, removed after)")
	output := fs.String("output", "table", "output format: table or json (one line)")
	kinds := fs.String("kinds", "term,phrase,fuzzy,prefix,facet", "query kinds of the mix")
	fs.IntVar(&cfg.Docs, "docs", cfg.Docs, "documents to index (the corpus, replicated with new ids when smaller)")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "documents per batch")
	fs.IntVar(&cfg.Writers, "writers", cfg.Writers, "concurrent batches")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent query clients")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured querying before -duration")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured query phase")
	fs.IntVar(&cfg.Queries, "queries", cfg.Queries, "queries per client in the measured phase instead of -duration (0: run for -duration)")
	fs.IntVar(&cfg.QueriesPerKind, "queries-per-kind", cfg.QueriesPerKind, "distinct queries generated per kind")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each batch and query")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the queries and of the clients' choices")
	sphinxAddr := fs.String("sphinx-addr", "127.0.0.1:9306", "Sphinx searchd's SphinxQL listener")
	sphinxIndex := fs.String("sphinx-index", "packages", "Sphinx realtime index")
	sphinxData := fs.String("sphinx-data", "", "directory of the Sphinx index's files (its size)")
	python := fs.String("python", "/usr/bin/python3", "python3 with Xapian's bindings")
	tcpsrv := fs.String("xapian-tcpsrv", "xapian-tcpsrv", "xapian-tcpsrv binary (empty: query the database directly)")
	xport := fs.Int("xapian-port", 9307, "port xapian-tcpsrv listens on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("-output %q: want table or json", *output)
	}
	cfg.Kinds = nil
	for _, k := range strings.Split(*kinds, ",") {
		kind, err := searchbench.ParseKind(strings.TrimSpace(k))
		if err != nil {
			return fmt.Errorf("-kinds: %w", err)
		}
		cfg.Kinds = append(cfg.Kinds, kind)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "anchorbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	docs, err := searchbench.LoadCorpus(ctx, *corpus)
	if err != nil {
		return err
	}
	var t searchbench.Target
	switch *engine {
	case "bleve":
		t, err = anchors.NewBleve(filepath.Join(*dir, "bleve"))
	case "sphinx":
		if *sphinxData == "" {
			return fmt.Errorf("-sphinx-data: the Sphinx index's directory is needed for its size")
		}
		t, err = anchors.NewSphinx(ctx, anchors.SphinxConfig{Addr: *sphinxAddr, Index: *sphinxIndex, DataDir: *sphinxData,
			Conns: max(cfg.Clients, cfg.Writers)})
	case "xapian":
		t, err = anchors.NewXapian(anchors.XapianConfig{Dir: filepath.Join(*dir, "xapian"), Python: *python, TCPServer: *tcpsrv, Port: *xport})
	default:
		return fmt.Errorf("-engine %q: want bleve, sphinx or xapian", *engine)
	}
	if err != nil {
		return err
	}
	res, err := searchbench.Run(ctx, cfg, docs, t)
	if res.Docs == 0 {
		return err
	}
	if *output == "json" {
		b, jerr := json.Marshal(res)
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(stdout, string(b))
	} else if werr := searchbench.WriteTable(stdout, res); werr != nil {
		return werr
	}
	return err
}
