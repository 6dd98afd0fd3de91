package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	cacheclient "cairn.dev/cairn/cached/client"
)

// cacheGlobals are the persistent flags of `cairn cache`: the client flags of
// every group.
type cacheGlobals struct {
	*clientFlags
}

// newCacheCmd is `cairn cache`: the cached command-line client.
func newCacheCmd() *cobra.Command {
	g := &cacheGlobals{}
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Talk to cached: get, set, delete, TTLs, counters, stats, the ring",
		Long: `Talk to cached, cairn's consistent-hashed in-memory cache. The client fetches
the ring from the endpoints and sends each key straight to its owner.

A missing key is an exit status, not output: 'get' and 'ttl' print nothing on
stdout and exit 3, so scripts can write 'if v=$(cairn cache get k); then ...'
and still tell a miss (3) from an outage (4). 'set --nx' / '--xx' exit 5 when
the condition fails and nothing was stored. Reads of a key whose owner is down
are misses (a cache miss is always safe); writes to it fail.

'set' takes the value as an argument, '-' to read it from stdin, or --file PATH.

` + clientFlagsHelp("cached"),
		Args: cobra.NoArgs,
	}
	g.clientFlags = addClientFlags(cmd, "cached")
	cmd.AddCommand(newCacheGetCmd(g), newCacheSetCmd(g), newCacheDelCmd(g), newCacheTTLCmd(g),
		newCacheIncrCmd(g), newCacheStatsCmd(g), newCacheRingCmd(g))
	return cmd
}

// run opens a client, runs f under --timeout and closes the client.
func (g *cacheGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *cacheclient.Client, w io.Writer) error) error {
	return runWith(g.clientFlags, cmd, g.dialCached, f)
}

// cacheMiss is a missing key: exit code exitNotFound.
func cacheMiss(format string, args ...any) error {
	return withExit(exitNotFound, fmt.Errorf(format, args...))
}

// cacheItemJSON is `cache get -o json`. TTLs are in milliseconds; 0 means none.
type cacheItemJSON struct {
	Key           string `json:"key"`
	Found         bool   `json:"found"`
	Value         string `json:"value,omitempty"`
	ValueEncoding string `json:"value_encoding,omitempty"`
	Version       uint64 `json:"version,omitempty"`
	TTLMs         int64  `json:"ttl_ms,omitempty"`
	ServedBy      string `json:"served_by,omitempty"`
}

func newCacheGetCmd(g *cacheGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "get <key>",
		Short: "Print a key's value; exit 3 if it is missing",
		Long: `Print a key's value: its bytes exactly, then a newline unless the value already
ends with one or is not valid UTF-8 (see 'cairn kv get --help'). A missing key
prints nothing on stdout and exits 3.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				it, ok, err := c.GetItem(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json() {
					out := cacheItemJSON{Key: args[0], Found: ok}
					if ok {
						out.Version, out.TTLMs, out.ServedBy = it.Version, it.TTL.Milliseconds(), it.ServedBy
						out.Value, out.ValueEncoding = encodeBytes(it.Value)
					}
					if err := writeJSON(w, out); err != nil {
						return err
					}
				} else if ok {
					if err := textValue(w, it.Value); err != nil {
						return err
					}
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
		value  *valueInput
	)
	cmd := &cobra.Command{
		Use:   "set <key> (<value> | - | --file PATH)",
		Short: "Write a key; prints OK (exit 5 if --nx/--xx prevented it)",
		Long: `Write a key. The value is the <value> argument, or with '-' everything on
stdin, or with --file PATH the file's content. Prints OK; with --nx or --xx,
exits 5 and prints nothing when the condition prevented the write.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ttl < 0 {
				return usageErrorf("--ttl: must not be negative, got %v", ttl)
			}
			val, err := value.read(cmd, args, 1)
			if err != nil {
				return err
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
				ver, err := c.Set(ctx, args[0], val, opts...)
				stored := err == nil
				if err != nil && !errors.Is(err, cacheclient.ErrNotStored) {
					return err
				}
				if g.json() {
					if err := writeJSON(w, map[string]any{"stored": stored, "version": ver}); err != nil {
						return err
					}
				} else if stored {
					fmt.Fprintln(w, "OK")
				}
				if !stored {
					return withExit(exitConflict, fmt.Errorf("%s: not stored (--nx: the key exists, --xx: it does not)", args[0]))
				}
				return nil
			})
		},
	}
	value = addValueInput(cmd)
	cmd.Args = value.valueArgs(1)
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
				if g.json() {
					return writeJSON(w, map[string]int64{"deleted": n})
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
		Long: `Print a key's remaining time to live, or "none" if it never expires; exit 3 if
the key is missing. With --set d, make the key expire d from now (--set 0: never)
and print OK.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if set < 0 {
				return usageErrorf("--set: must not be negative, got %v", set)
			}
			return g.run(cmd, func(ctx context.Context, c *cacheclient.Client, w io.Writer) error {
				if cmd.Flags().Changed("set") {
					found, err := c.Touch(ctx, args[0], set)
					if err != nil {
						return err
					}
					if g.json() {
						if err := writeJSON(w, map[string]any{"key": args[0], "found": found, "ttl_ms": set.Milliseconds()}); err != nil {
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
				if g.json() {
					if err := writeJSON(w, map[string]any{"key": args[0], "found": ok, "ttl_ms": it.TTL.Milliseconds()}); err != nil {
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
				if g.json() {
					return writeJSON(w, map[string]int64{"value": v})
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
				if g.json() {
					if err := writeJSON(w, map[string]any{"nodes": rows}); err != nil {
						return err
					}
				} else if err := writeCacheStats(w, rows); err != nil {
					return err
				}
				if failed > 0 {
					return withExit(exitUnavailable, fmt.Errorf("%d of %d nodes did not answer", failed, len(rows)))
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
				if g.json() {
					return writeJSON(w, info)
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
