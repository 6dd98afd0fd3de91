package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/clusterconn"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// newSearchCmd is `cairn search`: indexes, documents and queries of searchd.
func newSearchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Create indexes, index documents, query with fuzziness, facets and highlights; keep an index in sync with raftkv",
		Long: `Drive searchd, cairn's sharded, replicated full-text search engine.
Documents are JSON objects; queries use the Elasticsearch query DSL.

  cairn search index create products --shards 3 --replicas 1 --mappings mappings.json
  cairn search put products 1 '{"title":"wireless headphones","price":99}' --refresh
  cairn search bulk products products.ndjson
  cairn search query products 'wirless headphones' --fuzzy --facet category --highlight
  cairn search suggest products lap
  cairn search sync --prefix /shop/products/ --index products

Bodies and documents are given inline, as @file, or as "-" for stdin.
--output json prints Elasticsearch's JSON for query, and one JSON object per
result for the others.

` + clientFlagsHelp("searchd"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "searchd")
	index := &cobra.Command{Use: "index", Short: "Create, list, delete and describe indexes", Args: cobra.NoArgs}
	index.AddCommand(newSearchIndexCreateCmd(g), newSearchIndexListCmd(g), newSearchIndexDeleteCmd(g), newSearchIndexStatsCmd(g))
	cmd.AddCommand(index, newSearchPutCmd(g), newSearchGetCmd(g), newSearchDeleteCmd(g), newSearchBulkCmd(g),
		newSearchQueryCmd(g), newSearchSuggestCmd(g), newSearchSyncCmd(g))
	return cmd
}

// searchConn is a connection to the searchd nodes with the client-facing
// services.
type searchConn struct {
	conn    *clusterconn.Conn
	indexes searchdv1.IndexServiceClient
	docs    searchdv1.DocumentServiceClient
	search  searchdv1.SearchServiceClient
}

func (c *searchConn) Close() error { return c.conn.Close() }

// retryingConn runs every unary call through clusterconn.Call, as the
// daemons' Go clients do: calls that change nothing (or may safely run
// twice) are retried on any Unavailable failure — a leader election, a
// node going down — and the others only when certainly not applied, until
// the request timeout.
type retryingConn struct {
	c        *clusterconn.Conn
	readOnly map[string]bool // methods (last path element) safe to retry on any Unavailable
}

// readOnlySearch names the calls retryingConn retries on Unavailable.
var readOnlySearch = map[string]bool{
	"GetIndex": true, "ListIndexes": true, "IndexStats": true, "Refresh": true,
	"GetDocument": true, "Search": true, "Count": true, "Suggest": true,
	"Status": true, "ListNodes": true,
}

func (r retryingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	retry := clusterconn.RetryNotApplied
	if r.readOnly[path.Base(method)] {
		retry = clusterconn.RetryUnavailable
	}
	ctx, cancel := r.c.WithTimeout(ctx)
	defer cancel()
	_, err := clusterconn.Call(ctx, r.c, retry, func(ctx context.Context, co ...grpc.CallOption) (struct{}, error) {
		return struct{}{}, r.c.ClientConn().Invoke(ctx, method, args, reply, append(opts, co...)...)
	})
	return err
}

func (r retryingConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return r.c.ClientConn().NewStream(ctx, desc, method, opts...)
}

// dialSearchd connects to the searchd nodes of --endpoints or the cluster.
func (g *clientFlags) dialSearchd() (*searchConn, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc}, "searchd")
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	cc := retryingConn{c: conn, readOnly: readOnlySearch}
	return &searchConn{
		conn:    conn,
		indexes: searchdv1.NewIndexServiceClient(cc),
		docs:    searchdv1.NewDocumentServiceClient(cc),
		search:  searchdv1.NewSearchServiceClient(cc),
	}, nil
}

func runSearch(g *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *searchConn, w io.Writer) error) error {
	return runWith(g, cmd, g.dialSearchd, f)
}

// readBody reads a JSON argument: inline, @file, or "-" for stdin.
func readBody(cmd *cobra.Command, arg string) ([]byte, error) {
	switch {
	case arg == "-":
		return io.ReadAll(cmd.InOrStdin())
	case strings.HasPrefix(arg, "@"):
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, usageErrorf("%w", err)
		}
		return b, nil
	}
	return []byte(arg), nil
}

// readJSONFile reads a flag's JSON file ("-" for stdin), checking it is a
// JSON object.
func readJSONFile(cmd *cobra.Command, flag, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErrorf("%s: %w", flag, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, usageErrorf("%s: %s is not a JSON object: %w", flag, path, err)
	}
	return b, nil
}

func newSearchIndexCreateCmd(g *clientFlags) *cobra.Command {
	var shards, replicas int32
	var mappings, settings, refresh string
	cmd := &cobra.Command{
		Use:   "create <name> [--shards N] [--replicas N] [--mappings file.json] [--settings file.json]",
		Short: "Create an index",
		Long: `Create an index. --mappings is Elasticsearch's mappings object
({"properties":{"title":{"type":"text"}}}); without it fields are mapped as
documents bring them. --settings is Elasticsearch's settings object: its
"analysis" (analyzers, filters, synonyms), "similarity.default" (k1, b),
number_of_shards, number_of_replicas and refresh_interval are read; the
flags win over it.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &searchdv1.CreateIndexRequest{Name: args[0], Settings: &searchdv1.IndexSettings{}}
			if settings != "" {
				b, err := readJSONFile(cmd, "--settings", settings)
				if err != nil {
					return err
				}
				if err := settingsFromJSON(req.Settings, b); err != nil {
					return usageErrorf("--settings: %w", err)
				}
			}
			if mappings != "" {
				b, err := readJSONFile(cmd, "--mappings", mappings)
				if err != nil {
					return err
				}
				req.MappingsJson = b
			}
			if cmd.Flags().Changed("shards") {
				req.Settings.Shards = shards
			}
			if cmd.Flags().Changed("replicas") {
				req.Settings.Replicas = replicas
			}
			if refresh != "" {
				d, err := time.ParseDuration(refresh)
				if err != nil && refresh != "-1" {
					return usageErrorf("--refresh-interval: want a duration such as 1s, or -1, got %q", refresh)
				}
				if refresh == "-1" {
					d = -1
				}
				req.Settings.RefreshInterval = durationpb.New(d)
			}
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.indexes.CreateIndex(ctx, req)
				if err != nil {
					return searchError(args[0], err)
				}
				return g.printer(cmd).print(resp.GetIndex(), func(w io.Writer) error {
					ix := resp.GetIndex()
					_, err := fmt.Fprintf(w, "created index %s (%d shards, %d replicas, uuid %s)\n", ix.GetName(),
						ix.GetSettings().GetShards(), ix.GetSettings().GetReplicas(), ix.GetUuid())
					return err
				})
			})
		},
	}
	fl := cmd.Flags()
	fl.Int32Var(&shards, "shards", 1, "number of shards (fixed for the life of the index)")
	fl.Int32Var(&replicas, "replicas", 1, "copies of each shard beyond the first")
	fl.StringVar(&mappings, "mappings", "", "file of Elasticsearch's mappings object (- for stdin)")
	fl.StringVar(&settings, "settings", "", "file of Elasticsearch's settings object (- for stdin)")
	fl.StringVar(&refresh, "refresh-interval", "", "how often writes become searchable (default 1s; -1 disables)")
	return cmd
}

// settingsFromJSON reads the parts of an Elasticsearch settings object that
// searchd keeps: shards, replicas, refresh interval, analysis, BM25.
func settingsFromJSON(s *searchdv1.IndexSettings, b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if inner, ok := raw["settings"].(map[string]any); ok {
		raw = inner // a whole create body
	}
	if inner, ok := raw["index"].(map[string]any); ok {
		for k, v := range inner {
			raw[k] = v
		}
	}
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case float64:
			return x, true
		case string:
			var f float64
			_, err := fmt.Sscan(x, &f)
			return f, err == nil
		}
		return 0, false
	}
	for k, v := range raw {
		switch strings.TrimPrefix(k, "index.") {
		case "number_of_shards":
			n, ok := num(v)
			if !ok {
				return fmt.Errorf("number_of_shards: not a number: %v", v)
			}
			s.Shards = int32(n)
		case "number_of_replicas":
			n, ok := num(v)
			if !ok {
				return fmt.Errorf("number_of_replicas: not a number: %v", v)
			}
			s.Replicas = int32(n)
		case "refresh_interval":
			str := fmt.Sprint(v)
			if str == "-1" {
				s.RefreshInterval = durationpb.New(-1)
				continue
			}
			d, err := time.ParseDuration(str)
			if err != nil {
				return fmt.Errorf("refresh_interval: %w", err)
			}
			s.RefreshInterval = durationpb.New(d)
		case "analysis":
			a, err := json.Marshal(v)
			if err != nil {
				return err
			}
			s.AnalysisJson = a
		case "similarity":
			if def, ok := v.(map[string]any)["default"].(map[string]any); ok {
				if k1, ok := num(def["k1"]); ok {
					s.Bm25K1 = k1
				}
				if b, ok := num(def["b"]); ok {
					s.Bm25B = b
				}
			}
		}
	}
	return nil
}

func newSearchIndexListCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List indexes with their health, shards and document counts",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.indexes.ListIndexes(ctx, &searchdv1.ListIndexesRequest{})
				if err != nil {
					return searchError("", err)
				}
				docs := map[string]int64{}
				for _, ix := range resp.GetIndexes() {
					if st, err := c.indexes.IndexStats(ctx, &searchdv1.IndexStatsRequest{Name: ix.GetName()}); err == nil {
						docs[ix.GetName()] = st.GetDocs()
					}
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tHEALTH\tSHARDS\tREPLICAS\tDOCS\tUUID")
					for _, ix := range resp.GetIndexes() {
						fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", ix.GetName(), ix.GetHealth(), ix.GetSettings().GetShards(),
							ix.GetSettings().GetReplicas(), docs[ix.GetName()], ix.GetUuid())
					}
					return tw.Flush()
				})
			})
		},
	}
}

func newSearchIndexDeleteCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <name>",
		Short: "Delete an index and its documents",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.indexes.DeleteIndex(ctx, &searchdv1.DeleteIndexRequest{Name: args[0]})
				if err != nil {
					return searchError(args[0], err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "deleted index %s\n", args[0])
					return err
				})
			})
		},
	}
}

func newSearchIndexStatsCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats <name>",
		Short: "Show an index's settings, counts, size and shard copies",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				st, err := c.indexes.IndexStats(ctx, &searchdv1.IndexStatsRequest{Name: args[0]})
				if err != nil {
					return searchError(args[0], err)
				}
				return g.printer(cmd).print(st, func(w io.Writer) error {
					ix := st.GetIndex()
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "index\t%s\n", ix.GetName())
					fmt.Fprintf(tw, "uuid\t%s\n", ix.GetUuid())
					fmt.Fprintf(tw, "health\t%s\n", ix.GetHealth())
					fmt.Fprintf(tw, "shards\t%d\n", ix.GetSettings().GetShards())
					fmt.Fprintf(tw, "replicas\t%d\n", ix.GetSettings().GetReplicas())
					if ri := ix.GetSettings().GetRefreshInterval(); ri != nil {
						fmt.Fprintf(tw, "refresh_interval\t%s\n", ri.AsDuration())
					}
					fmt.Fprintf(tw, "docs\t%d\n", st.GetDocs())
					fmt.Fprintf(tw, "deleted_docs\t%d\n", st.GetDeletedDocs())
					fmt.Fprintf(tw, "size\t%d bytes\n", st.GetSizeBytes())
					fmt.Fprintf(tw, "segments\t%d\n", st.GetSegments())
					fmt.Fprintf(tw, "topic\t%s\n", ix.GetTopic())
					fmt.Fprintf(tw, "mapping_version\t%d\n", ix.GetMappingVersion())
					if err := tw.Flush(); err != nil {
						return err
					}
					fmt.Fprintln(w)
					tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SHARD\tNODE\tSTATE\tAPPLIED_OFFSET\tDOCS")
					for _, sh := range ix.GetShards() {
						copies := sh.GetCopies()
						sort.SliceStable(copies, func(i, j int) bool { return copies[i].GetNodeId() < copies[j].GetNodeId() })
						for _, cp := range copies {
							state := strings.ToLower(strings.TrimPrefix(cp.GetState().String(), "COPY_STATE_"))
							fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\n", sh.GetId(), cp.GetNodeId(), state, cp.GetAppliedOffset(), cp.GetDocs())
						}
					}
					return tw.Flush()
				})
			})
		},
	}
}

// searchError turns a searchd error into the command's: InvalidArgument
// (a value searchd refuses) exits with exitUsage, prefixed by what.
func searchError(what string, err error) error {
	return queuedError(what, err)
}
