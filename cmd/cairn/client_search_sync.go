package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/searchd/cdc"
)

func newSearchSyncCmd(g *clientFlags) *cobra.Command {
	var prefix, index, kvEndpoints string
	var fromRev int64
	cmd := &cobra.Command{
		Use:   "sync --prefix <raftkv prefix> --index <index> [--from-revision N]",
		Short: "Keep an index following a raftkv prefix (change data capture) until Ctrl-C",
		Long: `Keep an index following a raftkv key prefix, in the foreground until
Ctrl-C: every key under the prefix whose value is a JSON object is a
document (id: the key without the prefix, bytes outside [A-Za-z0-9._-]
written ~XX), a put indexes it, a delete deletes it.

The last revision applied is saved in raftkv under
/cairn/searchd/sync/<index>, so a restart resumes where the last run
stopped. The first run, and a run whose revision has been compacted away,
resyncs the whole prefix first (and deletes the index's documents that are
not under it). --from-revision starts the watch at a revision instead.

  cairn search index create products
  cairn search sync --prefix /shop/products/ --index products &
  cairn kv put /shop/products/p1 '{"title":"wireless headphones"}'

raftkv is found through --kv-endpoints or the cluster state file; searchd
through --endpoints or the cluster state file. Progress lines (or, with
--output json, one Stats object per save) are printed as it goes.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if prefix == "" || index == "" {
				return usageErrorf("--prefix and --index are required")
			}
			kvFlags := *g
			kvFlags.service = "raftkv"
			kvFlags.endpoints = nonEmpty(strings.Split(kvEndpoints, ","))
			kv, err := kvFlags.dialRaftKV()
			if err != nil {
				return err
			}
			defer kv.Close()
			sc, err := g.dialSearchd()
			if err != nil {
				return err
			}
			defer sc.Close()
			p := g.printer(cmd)
			s, err := cdc.New(cdc.Config{
				Prefix: prefix, Index: index, FromRevision: fromRev,
				OnProgress: func(st cdc.Stats) {
					_ = p.print(st, func(w io.Writer) error {
						_, err := fmt.Fprintf(w, "%s synced through revision %d: %d indexed, %d deleted, %d skipped, %d resyncs\n",
							time.Now().Format(time.TimeOnly), st.Revision, st.Indexed, st.Deleted, st.Skipped, st.Resyncs)
						return err
					})
				},
			}, kv, sc.conn.ClientConn())
			if err != nil {
				return usageErrorf("%w", err)
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			return s.Run(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&prefix, "prefix", "", "raftkv key prefix to follow (required)")
	fl.StringVar(&index, "index", "", "index to keep in sync (required; it must exist)")
	fl.Int64Var(&fromRev, "from-revision", 0, "start the watch at this revision instead of the saved progress (no resync)")
	fl.StringVar(&kvEndpoints, "kv-endpoints", "", "comma-separated host:port of raftkv nodes (default: the cluster's)")
	return cmd
}
