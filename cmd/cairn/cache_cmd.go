package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	cacheclient "cairn.dev/cairn/cached/client"
	"cairn.dev/cairn/cluster"
)

// cacheGlobals are the persistent flags of `cairn cache`.
type cacheGlobals struct {
	endpoints  []string
	clusterDir string
	output     string
	timeout    time.Duration
	tls        *clientTLSFlags
}

// exitCacheMiss is the exit code of `cache get` and `cache ttl` for a missing
// key, and of `cache set --nx|--xx` when nothing was stored.
const exitCacheMiss = 1

// newCacheCmd is `cairn cache`: the cached command-line client.
func newCacheCmd() *cobra.Command {
	g := &cacheGlobals{}
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Talk to cached: get, set, delete, TTLs, counters, stats, the ring",
		Long: `Talk to cached, cairn's consistent-hashed in-memory cache.

Endpoints come from --endpoints, else from the cluster state file of the local
harness (--cluster-dir, $CAIRN_CLUSTER_DIR, or .cairn). The client fetches the
ring from them and sends each key straight to its owner.

A missing key is an exit status, not output: 'get' and 'ttl' print nothing on
stdout and exit 1, so scripts can write 'if v=$(cairn cache get k); then ...'.
'set --nx' / '--xx' exit 1 when the condition fails and nothing was stored.
Reads of a key whose owner is down are misses (a cache miss is always safe);
writes to it fail.

--output json prints one JSON object per command.`,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return g.validate()
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&g.endpoints, "endpoints", nil, "comma-separated host:port of cached nodes (overrides cluster discovery)")
	pf.StringVar(&g.clusterDir, "cluster-dir", "", "cluster directory to discover endpoints from (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	pf.StringVarP(&g.output, "output", "o", kvOutputTable, "output format: table or json")
	pf.DurationVar(&g.timeout, "timeout", 5*time.Second, "timeout of each command")
	g.tls = addClientTLSFlags(pf)
	cmd.AddCommand(newCacheGetCmd(g), newCacheSetCmd(g), newCacheDelCmd(g), newCacheTTLCmd(g),
		newCacheIncrCmd(g), newCacheStatsCmd(g), newCacheRingCmd(g))
	return cmd
}

func (g *cacheGlobals) validate() error {
	if g.output != kvOutputTable && g.output != kvOutputJSON {
		return fmt.Errorf("--output: want table or json, got %q", g.output)
	}
	if g.timeout <= 0 {
		return fmt.Errorf("--timeout: must be positive, got %v", g.timeout)
	}
	return nil
}

// run opens a client, runs f under --timeout and closes the client.
func (g *cacheGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *cacheclient.Client, w io.Writer) error) error {
	eps, err := serviceEndpoints(g.endpoints, g.clusterDir, "cached")
	if err != nil {
		return err
	}
	ctx, stop := kvSignalContext(cmd)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	tc, err := g.tls.config(g.clusterDir)
	if err != nil {
		return err
	}
	c, err := cacheclient.New(cacheclient.Config{Endpoints: eps, DialTimeout: g.timeout, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return err
	}
	defer c.Close()
	return f(ctx, c, cmd.OutOrStdout())
}

func (g *cacheGlobals) json(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func cacheMiss(format string, args ...any) error {
	return &exitError{code: exitCacheMiss, err: fmt.Errorf(format, args...)}
}

// cacheItemJSON is `cache get -o json`. TTLs are in milliseconds; 0 means none.
type cacheItemJSON struct {
	Key      string `json:"key"`
	Found    bool   `json:"found"`
	Value    string `json:"value,omitempty"`
	Version  uint64 `json:"version,omitempty"`
	TTLMs    int64  `json:"ttl_ms,omitempty"`
	ServedBy string `json:"served_by,omitempty"`
}

func newCacheGetCmd(g *cacheGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "get <key>",
		Short: "Print a key's value; exit 1 if it is missing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				it, ok, err := c.GetItem(ctx, args[0])
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					out := cacheItemJSON{Key: args[0], Found: ok}
					if ok {
						out.Value, out.Version, out.TTLMs, out.ServedBy = string(it.Value), it.Version, it.TTL.Milliseconds(), it.ServedBy
					}
					if err := g.json(w, out); err != nil {
						return err
					}
				} else if ok {
					fmt.Fprintf(w, "%s\n", it.Value)
				}
				if !ok {
					return cacheMiss("%s: not found", args[0])
				}
				return nil
			})
		},
	}
}

func newCacheSetCmd(g *cacheGlobals) *cobra.Command {
	var (
		ttl    time.Duration
		nx, xx bool
		keep   bool
	)
	cmd := &cobra.Command{
		Use:   "set <key> <value>",
		Short: "Write a key; prints OK (exit 1 if --nx/--xx prevented it)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ttl < 0 {
				return fmt.Errorf("--ttl: must not be negative, got %v", ttl)
			}
			opts := []cacheclient.SetOption{cacheclient.WithTTL(ttl)}
			switch {
			case nx:
				opts = append(opts, cacheclient.IfAbsent())
			case xx:
				opts = append(opts, cacheclient.IfPresent())
			}
			if keep {
				opts = append(opts, cacheclient.KeepTTL())
			}
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				ver, err := c.Set(ctx, args[0], []byte(args[1]), opts...)
				stored := err == nil
				if err != nil && !errors.Is(err, cacheclient.ErrNotStored) {
					return err
				}
				if g.output == kvOutputJSON {
					if err := g.json(w, map[string]any{"stored": stored, "version": ver}); err != nil {
						return err
					}
				} else if stored {
					fmt.Fprintln(w, "OK")
				}
				if !stored {
					return cacheMiss("%s: not stored (--nx: the key exists, --xx: it does not)", args[0])
				}
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "time to live (e.g. 30s, 1h); 0: no expiry")
	cmd.Flags().BoolVar(&nx, "nx", false, "only set a missing key")
	cmd.Flags().BoolVar(&xx, "xx", false, "only set an existing key")
	cmd.Flags().BoolVar(&keep, "keep-ttl", false, "keep the key's current TTL")
	cmd.MarkFlagsMutuallyExclusive("nx", "xx")
	cmd.MarkFlagsMutuallyExclusive("ttl", "keep-ttl")
	return cmd
}

func newCacheDelCmd(g *cacheGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "del <key>...",
		Short: "Delete keys; prints how many existed",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				n, err := c.Delete(ctx, args...)
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					return g.json(w, map[string]int64{"deleted": n})
				}
				fmt.Fprintln(w, n)
				return nil
			})
		},
	}
}

func newCacheTTLCmd(g *cacheGlobals) *cobra.Command {
	var set time.Duration
	cmd := &cobra.Command{
		Use:   "ttl <key>",
		Short: "Print a key's remaining time to live ('none' if it does not expire), or change it with --set",
		Long: `Print a key's remaining time to live, or "none" if it never expires; exit 1 if
the key is missing. With --set d, make the key expire d from now (--set 0: never)
and print OK.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if set < 0 {
				return fmt.Errorf("--set: must not be negative, got %v", set)
			}
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				if cmd.Flags().Changed("set") {
					found, err := c.Touch(ctx, args[0], set)
					if err != nil {
						return err
					}
					if g.output == kvOutputJSON {
						if err := g.json(w, map[string]any{"key": args[0], "found": found, "ttl_ms": set.Milliseconds()}); err != nil {
							return err
						}
					} else if found {
						fmt.Fprintln(w, "OK")
					}
					if !found {
						return cacheMiss("%s: not found", args[0])
					}
					return nil
				}
				it, ok, err := c.GetItem(ctx, args[0])
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					if err := g.json(w, map[string]any{"key": args[0], "found": ok, "ttl_ms": it.TTL.Milliseconds()}); err != nil {
						return err
					}
				} else if ok {
					if it.TTL == 0 {
						fmt.Fprintln(w, "none")
					} else {
						fmt.Fprintln(w, it.TTL.Round(time.Millisecond))
					}
				}
				if !ok {
					return cacheMiss("%s: not found", args[0])
				}
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&set, "set", 0, "set the TTL to this (0: no expiry)")
	return cmd
}

func newCacheIncrCmd(g *cacheGlobals) *cobra.Command {
	var by int64
	cmd := &cobra.Command{
		Use:   "incr <key>",
		Short: "Add --by (default 1) to an integer key (missing counts as 0); prints the new value",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				v, err := c.IncrBy(ctx, args[0], by)
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					return g.json(w, map[string]int64{"value": v})
				}
				fmt.Fprintln(w, v)
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&by, "by", 1, "amount to add (may be negative)")
	return cmd
}

// cacheStatsJSON is one node of `cache stats -o json`.
type cacheStatsJSON struct {
	ID          string  `json:"id"`
	Addr        string  `json:"addr"`
	Hits        int64   `json:"hits"`
	Misses      int64   `json:"misses"`
	HitRatio    float64 `json:"hit_ratio"`
	Items       int64   `json:"items"`
	Bytes       int64   `json:"bytes"`
	MaxBytes    int64   `json:"max_bytes"`
	Evictions   int64   `json:"evictions"`
	Expirations int64   `json:"expirations"`
	Forwarded   int64   `json:"forwarded"`
	Error       string  `json:"error,omitempty"`
}

func newCacheStatsCmd(g *cacheGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print every node's counters: hits, misses, hit ratio, items, memory, evictions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				nodes, err := c.Stats(ctx)
				if err != nil {
					return err
				}
				rows := make([]cacheStatsJSON, len(nodes))
				failed := 0
				for i, n := range nodes {
					s := n.Stats
					rows[i] = cacheStatsJSON{ID: n.Member.ID, Addr: n.Member.Addr, Hits: s.GetHits(), Misses: s.GetMisses(),
						HitRatio: hitRatio(s.GetHits(), s.GetMisses()), Items: s.GetItems(), Bytes: s.GetBytes(),
						MaxBytes: s.GetMaxBytes(), Evictions: s.GetEvictions(), Expirations: s.GetExpirations(), Forwarded: s.GetForwarded()}
					if n.Err != nil {
						rows[i].Error = n.Err.Error()
						failed++
					}
				}
				if g.output == kvOutputJSON {
					if err := g.json(w, map[string]any{"nodes": rows}); err != nil {
						return err
					}
				} else if err := writeCacheStats(w, rows); err != nil {
					return err
				}
				if failed > 0 {
					return fmt.Errorf("%d of %d nodes did not answer", failed, len(rows))
				}
				return nil
			})
		},
	}
}

func hitRatio(hits, misses int64) float64 {
	if hits+misses == 0 {
		return 0
	}
	return float64(hits) / float64(hits+misses)
}

func writeCacheStats(w io.Writer, rows []cacheStatsJSON) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tHITS\tMISSES\tHIT RATIO\tITEMS\tBYTES/MAX\tEVICTIONS\tEXPIRED")
	var t cacheStatsJSON
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\terror: %s\t\t\t\t\t\t\n", r.ID, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%d\t%s\t%d\t%d\n", r.ID, r.Hits, r.Misses, 100*r.HitRatio, r.Items,
			bytesOfMax(r.Bytes, r.MaxBytes), r.Evictions, r.Expirations)
		t.Hits, t.Misses, t.Items, t.Bytes, t.MaxBytes = t.Hits+r.Hits, t.Misses+r.Misses, t.Items+r.Items, t.Bytes+r.Bytes, t.MaxBytes+r.MaxBytes
		t.Evictions, t.Expirations = t.Evictions+r.Evictions, t.Expirations+r.Expirations
	}
	if len(rows) > 1 {
		fmt.Fprintf(tw, "total\t%d\t%d\t%.1f%%\t%d\t%s\t%d\t%d\n", t.Hits, t.Misses, 100*hitRatio(t.Hits, t.Misses), t.Items,
			bytesOfMax(t.Bytes, t.MaxBytes), t.Evictions, t.Expirations)
	}
	return tw.Flush()
}

func bytesOfMax(b, max int64) string {
	if max <= 0 {
		return humanBytes(b) + "/unlimited"
	}
	return fmt.Sprintf("%s/%s (%.0f%%)", humanBytes(b), humanBytes(max), 100*float64(b)/float64(max))
}

func humanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + "B"
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

func newCacheRingCmd(g *cacheGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "ring",
		Short: "Print the ring: members with their gRPC and RESP addresses and share of the key space",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				info, err := c.Ring(ctx)
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					return g.json(w, info)
				}
				fmt.Fprintf(w, "epoch %d, %d members, %d vnodes each, %d replicas\n", info.Epoch, len(info.Members), info.VNodes, info.Replicas)
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tGRPC\tRESP\tSHARE")
				for _, m := range info.Members {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f%%\n", m.ID, m.Addr, m.RESPAddr, 100*m.Share)
				}
				return tw.Flush()
			})
		},
	}
}
