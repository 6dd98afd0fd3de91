package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node/clusterconn"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
)

// newCDNCmd is `cairn cdn`: purges, statistics and cache inspection of the
// CDN edge nodes (gatewayd in the edge role), and the CDN demonstration.
func newCDNCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdn",
		Short: "Purge the CDN edges by URL, prefix or tag; read their stats; inspect a cached URL; run the CDN demo",
		Long: `Drive the CDN edge nodes (gatewayd --role edge) through their admin API.

  cairn cdn purge /assets/logo.png        # one URL, on every edge; waits for every live edge
  cairn cdn purge --prefix /assets/       # every URL under a path
  cairn cdn purge --tag logo              # every response that carried Surrogate-Key: logo
  cairn cdn purge --tag logo --soft       # mark stale instead: revalidated on the next request
  cairn cdn stats                         # hit ratio, bytes served, origin fetches per edge
  cairn cdn inspect /assets/logo.png      # cached variants, age and TTL on every edge
  cairn cdn demo                          # hits and misses with and without the CDN

` + clientFlagsHelp("edge"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "edge")
	cmd.AddCommand(newCDNPurgeCmd(g), newCDNStatsCmd(g), newCDNInspectCmd(g), newCDNDemoCmd(g))
	return cmd
}

func newCDNPurgeCmd(g *clientFlags) *cobra.Command {
	var prefix, tag string
	var soft bool
	cmd := &cobra.Command{
		Use:   "purge [url] [--prefix P | --tag T]",
		Short: "Purge a URL, a prefix or a surrogate-key tag on every edge, and wait until every live edge applied it",
		Long: `Publish a purge through raftkv; every edge applies it and acknowledges. The
command returns when every live edge has (exit 0), or when --timeout passes
first (exit 1, naming the edges still pending). A URL is a path with its
query (/assets/logo.png?v=2) or a full URL (its scheme and host are
ignored). --soft marks the entries stale instead of removing them: the next
request revalidates, and stale content may still be served within grace or
stale-if-error.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := &edgev1.PurgeSpec{Prefix: prefix, Tag: tag, Soft: soft}
			if len(args) == 1 {
				spec.Url = args[0]
			}
			n := 0
			for _, v := range []string{spec.Url, prefix, tag} {
				if v != "" {
					n++
				}
			}
			if n != 1 {
				return usageErrorf("give exactly one of a URL, --prefix or --tag")
			}
			return runWith(g, cmd, g.dialEdges, func(ctx context.Context, c *edgeConn, w io.Writer) error {
				resp, err := c.admin.PurgeAll(ctx, &edgev1.PurgeAllRequest{Spec: spec})
				if err != nil {
					return queuedError("", err)
				}
				if err := g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "purge %d: applied by %s; %s removed\n", resp.GetSeq(), strings.Join(resp.GetApplied(), ", "), plural(resp.GetRemoved(), "entry", "entries"))
					return err
				}); err != nil {
					return err
				}
				if len(resp.GetPending()) > 0 {
					return fmt.Errorf("purge %d not yet applied by %s (it will be: they catch up when they return)", resp.GetSeq(), strings.Join(resp.GetPending(), ", "))
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&prefix, "prefix", "", "purge every URL whose path starts with this")
	fl.StringVar(&tag, "tag", "", "purge every response that carried this Surrogate-Key tag")
	fl.BoolVar(&soft, "soft", false, "mark stale instead of removing")
	return cmd
}

func newCDNStatsCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print every edge's counters: hit ratio, bytes served, origin and shield fetches, storage",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := g.printer(cmd)
			return g.eachEdge(cmd, func(ctx context.Context, c edgev1.EdgeServiceClient, w io.Writer) error {
				s, err := c.GetStats(ctx, &edgev1.GetStatsRequest{})
				if err != nil {
					return err
				}
				return p.print(s, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "%s (%s)\thit ratio %.3f\trequests %d\thits %d\tmisses %d\tstale %d\trevalidated %d\tpass %d\n",
						s.GetNode(), s.GetRegion(), s.GetHitRatio(), s.GetRequests(), s.GetHits(), s.GetMisses(), s.GetStaleServed(), s.GetRevalidated(), s.GetPasses())
					fmt.Fprintf(tw, "  \tbytes served %d\torigin fetches %d\tshield fetches %d\tcoalesced %d\n",
						s.GetBytesServed(), s.GetOriginFetches(), s.GetShieldFetches(), s.GetCoalesced())
					fmt.Fprintf(tw, "  \tobjects %d\tmemory %d B\tdisk %d B\tevictions %d\tpurges %d (last %d)\tunder attack %v\n",
						s.GetObjects(), s.GetMemoryBytes(), s.GetDiskBytes(), s.GetEvictions(), s.GetPurgesApplied(), s.GetLastPurge(), s.GetUnderAttack())
					return tw.Flush()
				})
			})
		},
	}
}

func newCDNInspectCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect <url>",
		Short: "List the cached variants of a URL on every edge: age, TTL, tags, tier",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := g.printer(cmd)
			return g.eachEdge(cmd, func(ctx context.Context, c edgev1.EdgeServiceClient, w io.Writer) error {
				resp, err := c.Inspect(ctx, &edgev1.InspectRequest{Url: args[0]})
				if err != nil {
					return queuedError("", err)
				}
				return p.print(resp, func(w io.Writer) error {
					if len(resp.GetVariants()) == 0 {
						_, err := fmt.Fprintf(w, "%s: %s not cached\n", resp.GetNode(), resp.GetKey())
						return err
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "%s: %s\n  STATUS\tSIZE\tAGE\tTTL\tTIER\tTAGS\tVARY\tSOFT-PURGED\n", resp.GetNode(), resp.GetKey())
					for _, v := range resp.GetVariants() {
						fmt.Fprintf(tw, "  %d\t%d\t%v\t%v\t%s\t%s\t%v\t%v\n", v.GetStatus(), v.GetSize(), v.GetAge().AsDuration().Round(time.Second), v.GetTtl().AsDuration().Round(time.Second),
							v.GetTier(), strings.Join(v.GetTags(), " "), v.GetVary(), v.GetSoftPurged())
					}
					return tw.Flush()
				})
			})
		},
	}
}

// edgeConn is a connection to the edges' admin API, any node.
type edgeConn struct {
	conn  *clusterconn.Conn
	admin edgev1.EdgeServiceClient
}

func (c *edgeConn) Close() error { return c.conn.Close() }

// readOnlyEdge names the admin calls retried on any Unavailable failure
// (a purge is idempotent too: applying it twice removes nothing more).
var readOnlyEdge = map[string]bool{"GetStats": true, "Inspect": true, "Purge": true, "PurgeAll": true}

// dialEdges connects to the edge nodes of --endpoints or the cluster.
func (g *clientFlags) dialEdges() (*edgeConn, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc}, "edge")
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return &edgeConn{conn: conn, admin: edgev1.NewEdgeServiceClient(retryingConn{c: conn, readOnly: readOnlyEdge})}, nil
}

// eachEdge runs f against every edge node in turn; a node that fails is
// reported on stderr and the others still run. It returns the first error.
func (g *clientFlags) eachEdge(cmd *cobra.Command, f func(ctx context.Context, c edgev1.EdgeServiceClient, w io.Writer) error) error {
	eps, tc, err := g.target()
	if err != nil {
		return err
	}
	ctx, cancel := g.requestContext(cmd)
	defer cancel()
	var firstErr error
	for _, ep := range eps {
		conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: []string{ep}, RequestTimeout: g.timeout, TLS: tc}, "edge")
		if err != nil {
			return usageErrorf("--endpoints: %w", err)
		}
		err = f(ctx, edgev1.NewEdgeServiceClient(conn.ClientConn()), cmd.OutOrStdout())
		conn.Close()
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", ep, err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// plural is "1 entry" or "n entries".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
