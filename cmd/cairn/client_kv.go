package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// kvGlobals are the persistent flags of `cairn kv`, shared by every subcommand:
// the client flags of every group, and --consistency.
type kvGlobals struct {
	*clientFlags
	consistency string
}

// newKVCmd is `cairn kv`: the raftkv command-line client.
func newKVCmd() *cobra.Command {
	g := &kvGlobals{}
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Talk to raftkv: keys, transactions, watches, leases, membership",
		Long: `Talk to raftkv, cairn's Raft-replicated key-value store (etcd semantics).

Output: --output table (default) prints raw keys and values: a single-key get
prints just the value (see 'cairn kv get --help' for the newline rule), a range
prints key and value lines. A get of a missing key prints nothing and exits 3.

Values: 'put' takes the value as an argument, '-' to read it from stdin, or
--file PATH; values up to the server's max_value_bytes (1 MiB by default).

Writes (put, del, txn, compact, lease grant/revoke, member changes) are never
retried: when one fails with Unavailable or a timeout the error says its outcome
is unknown, and it may have been applied. Reads are retried until --timeout.

` + clientFlagsHelp("raftkv"),
		Args: cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			switch g.consistency {
			case "linearizable", "serializable":
				return nil
			}
			return usageErrorf("--consistency: want linearizable or serializable, got %q", g.consistency)
		},
	}
	g.clientFlags = addClientFlags(cmd, "raftkv")
	cmd.PersistentFlags().StringVar(&g.consistency, "consistency", "linearizable", "read consistency: linearizable or serializable")

	cmd.AddCommand(
		newKVPutCmd(g), newKVGetCmd(g), newKVRangeCmd(g), newKVDelCmd(g), newKVWatchCmd(g),
		newKVTxnCmd(g), newKVCompactCmd(g), newKVLeaseCmd(g), newKVMemberCmd(g),
		newKVStatusCmd(g), newKVSnapshotCmd(g), newKVTransferLeadershipCmd(g),
	)
	return cmd
}

func (g *kvGlobals) readOpts() []client.OpOption {
	if g.consistency == "serializable" {
		return []client.OpOption{client.WithSerializable()}
	}
	return nil
}

// run opens a client, runs f under --timeout and closes the client.
func (g *kvGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	return runWith(g.clientFlags, cmd, g.dialRaftKV, f)
}

func printKVs(w io.Writer, kvs []*raftkvv1.KeyValue, keysOnly bool) {
	for _, kv := range kvs {
		fmt.Fprintf(w, "%s\n", kv.GetKey())
		if !keysOnly {
			fmt.Fprintf(w, "%s\n", kv.GetValue())
		}
	}
}

// kvRangeFlags are the flags that turn a key into a range.
type kvRangeFlags struct {
	prefix   bool
	fromKey  bool
	rangeEnd string
}

func (r *kvRangeFlags) add(cmd *cobra.Command, verb string) {
	cmd.Flags().BoolVar(&r.prefix, "prefix", false, verb+" every key with <key> as prefix")
	cmd.Flags().BoolVar(&r.fromKey, "from-key", false, verb+" every key >= <key>")
	cmd.Flags().StringVar(&r.rangeEnd, "range-end", "", verb+" the keys in [<key>, <range-end>)")
	cmd.MarkFlagsMutuallyExclusive("prefix", "from-key", "range-end")
}

func (r *kvRangeFlags) opts(cmd *cobra.Command) ([]client.OpOption, bool) {
	switch {
	case r.prefix:
		return []client.OpOption{client.WithPrefix()}, true
	case r.fromKey:
		return []client.OpOption{client.WithFromKey()}, true
	case cmd.Flags().Changed("range-end"):
		if r.rangeEnd == "" {
			return nil, false
		}
		return []client.OpOption{client.WithRange(r.rangeEnd)}, true
	}
	return nil, false
}

func newKVPutCmd(g *kvGlobals) *cobra.Command {
	var (
		lease  string
		prevKV bool
		value  *valueInput
	)
	cmd := &cobra.Command{
		Use:   "put <key> (<value> | - | --file PATH)",
		Short: "Write a key; prints OK",
		Long: `Write a key. The value is the <value> argument, or with '-' everything on
stdin, or with --file PATH the file's content (for values too large for the
command line, and binary ones):

  cairn kv put greeting hello
  head -c 800000 /dev/urandom | cairn kv put big -
  cairn kv put config --file config.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []client.OpOption
			if cmd.Flags().Changed("lease") {
				id, err := parseLeaseID(lease)
				if err != nil {
					return usageErrorf("--lease: %w", err)
				}
				opts = append(opts, client.WithLease(id))
			}
			if prevKV {
				opts = append(opts, client.WithPrevKV())
			}
			val, err := value.read(cmd, args, 1)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Put(ctx, args[0], string(val), opts...)
				if err != nil {
					return err
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					fmt.Fprintln(w, "OK")
					if prevKV && resp.GetPrevKv() != nil {
						printKVs(w, []*raftkvv1.KeyValue{resp.GetPrevKv()}, false)
					}
					return nil
				})
			})
		},
	}
	value = addValueInput(cmd)
	cmd.Args = value.valueArgs(1)
	cmd.Flags().StringVar(&lease, "lease", "", "attach the key to this lease (decimal, or hex with 0x)")
	cmd.Flags().BoolVar(&prevKV, "prev-kv", false, "print the previous key and value")
	return cmd
}

// kvGetFlags are the flags of get and range.
type kvGetFlags struct {
	rev       int64
	limit     int64
	keysOnly  bool
	countOnly bool
}

func (f *kvGetFlags) add(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.rev, "rev", 0, "read at this revision (0: latest)")
	cmd.Flags().Int64Var(&f.limit, "limit", 0, "return at most this many keys (0: no limit)")
	cmd.Flags().BoolVar(&f.keysOnly, "keys-only", false, "print keys without values")
	cmd.Flags().BoolVar(&f.countOnly, "count-only", false, "print only the number of keys")
}

func (f *kvGetFlags) opts() ([]client.OpOption, error) {
	if f.rev < 0 {
		return nil, usageErrorf("--rev: must not be negative, got %d", f.rev)
	}
	if f.limit < 0 {
		return nil, usageErrorf("--limit: must not be negative, got %d", f.limit)
	}
	opts := []client.OpOption{client.WithRev(f.rev), client.WithLimit(f.limit)}
	if f.keysOnly {
		opts = append(opts, client.WithKeysOnly())
	}
	if f.countOnly {
		opts = append(opts, client.WithCountOnly())
	}
	return opts, nil
}

func (g *kvGlobals) get(cmd *cobra.Command, key string, f *kvGetFlags, rangeOpts []client.OpOption, isRange bool) error {
	opts, err := f.opts()
	if err != nil {
		return err
	}
	opts = append(append(opts, rangeOpts...), g.readOpts()...)
	return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
		resp, err := c.Get(ctx, key, opts...)
		if err != nil {
			return err
		}
		err = g.printer(cmd).print(resp, func(w io.Writer) error {
			switch {
			case f.countOnly:
				fmt.Fprintln(w, resp.GetCount())
			case !isRange && !f.keysOnly:
				for _, kv := range resp.GetKvs() {
					if err := textValue(w, kv.GetValue()); err != nil {
						return err
					}
				}
			default:
				printKVs(w, resp.GetKvs(), f.keysOnly)
			}
			return nil
		})
		if err == nil && !isRange && !f.countOnly && len(resp.GetKvs()) == 0 {
			return withExit(exitNotFound, fmt.Errorf("key %q not found", key))
		}
		return err
	})
}

func newKVGetCmd(g *kvGlobals) *cobra.Command {
	var (
		rf kvRangeFlags
		gf kvGetFlags
	)
	cmd := &cobra.Command{
		Use:   "get <key>",
		Short: "Read a key (prints its value) or a range (prints key and value lines)",
		Long: `Read a key or a range of keys.

For a single key, prints just its value (etcdctl get --print-value-only): its
bytes exactly, then a newline unless the value already ends with one or is not
valid UTF-8, so binary values and files round-trip byte for byte
('cairn kv get k > f'); --output json gives the exact bytes in every case. A
missing key prints nothing on stdout and exits 3 (not found). With --prefix,
--from-key or --range-end, prints each key then its value, one per line (an
empty range exits 0).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rangeOpts, isRange := rf.opts(cmd)
			return g.get(cmd, args[0], &gf, rangeOpts, isRange)
		},
	}
	rf.add(cmd, "read")
	gf.add(cmd)
	return cmd
}

func newKVRangeCmd(g *kvGlobals) *cobra.Command {
	var gf kvGetFlags
	cmd := &cobra.Command{
		Use:   "range <start> <end>",
		Short: "Read the keys in [start, end); prints key and value lines",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.get(cmd, args[0], &gf, []client.OpOption{client.WithRange(args[1])}, true)
		},
	}
	gf.add(cmd)
	return cmd
}

func newKVDelCmd(g *kvGlobals) *cobra.Command {
	var (
		rf     kvRangeFlags
		prevKV bool
	)
	cmd := &cobra.Command{
		Use:     "del <key>",
		Aliases: []string{"delete"},
		Short:   "Delete a key or a range; prints the number of keys deleted",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, _ := rf.opts(cmd)
			if prevKV {
				opts = append(opts, client.WithPrevKV())
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Delete(ctx, args[0], opts...)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintln(w, resp.GetDeleted())
				printKVs(w, resp.GetPrevKvs(), false)
				return nil
			})
		},
	}
	rf.add(cmd, "delete")
	cmd.Flags().BoolVar(&prevKV, "prev-kv", false, "print the deleted keys and values")
	return cmd
}

func newKVWatchCmd(g *kvGlobals) *cobra.Command {
	var (
		rf     kvRangeFlags
		rev    int64
		prevKV bool
	)
	cmd := &cobra.Command{
		Use:   "watch <key>",
		Short: "Print the events on a key or range as they happen, until Ctrl-C",
		Long: `Print the events on a key or range as they happen, until Ctrl-C.

Each event prints as three lines: PUT or DELETE, the key, the value (empty for a
delete); with --prev-kv the previous key and value follow. A watch survives the
loss of the node it is connected to: it resumes on another one without losing or
repeating events.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rev < 0 {
				return usageErrorf("--rev: must not be negative, got %d", rev)
			}
			opts, _ := rf.opts(cmd)
			opts = append(opts, client.WithRev(rev))
			if prevKV {
				opts = append(opts, client.WithPrevKV())
			}
			c, err := g.dialRaftKV()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			w := cmd.OutOrStdout()
			for resp := range c.Watch(ctx, args[0], opts...) {
				if err := resp.Err(); err != nil {
					return err
				}
				if g.json() {
					if err := writeJSON(w, resp.WatchResponse); err != nil {
						return err
					}
					continue
				}
				for _, ev := range resp.GetEvents() {
					typ := "PUT"
					if ev.GetType() == raftkvv1.Event_EVENT_TYPE_DELETE {
						typ = "DELETE"
					}
					fmt.Fprintf(w, "%s\n%s\n%s\n", typ, ev.GetKv().GetKey(), ev.GetKv().GetValue())
					if prevKV && ev.GetPrevKv() != nil {
						printKVs(w, []*raftkvv1.KeyValue{ev.GetPrevKv()}, false)
					}
				}
			}
			return nil
		},
	}
	rf.add(cmd, "watch")
	cmd.Flags().Int64Var(&rev, "rev", 0, "start at this revision (0: after the current one)")
	cmd.Flags().BoolVar(&prevKV, "prev-kv", false, "print the previous key and value of each event")
	return cmd
}

func newKVCompactCmd(g *kvGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "compact <revision>",
		Short: "Discard the history older than a revision",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev, err := parsePositive("revision", args[0])
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Compact(ctx, rev)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "compacted revision %d\n", rev)
				return nil
			})
		},
	}
}
