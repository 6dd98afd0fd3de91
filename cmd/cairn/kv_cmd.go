package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/cluster"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// kvGlobals are the persistent flags of `cairn kv`, shared by every subcommand.
type kvGlobals struct {
	endpoints   []string
	clusterDir  string
	output      string
	consistency string
	timeout     time.Duration
	tls         *clientTLSFlags
}

const (
	kvOutputTable = "table"
	kvOutputJSON  = "json"
)

// newKVCmd is `cairn kv`: the raftkv command-line client.
func newKVCmd() *cobra.Command {
	g := &kvGlobals{}
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Talk to raftkv: keys, transactions, watches, leases, membership",
		Long: `Talk to raftkv, cairn's Raft-replicated key-value store (etcd semantics).

Endpoints come from --endpoints, else from the cluster state file of the local
harness (--cluster-dir, $CAIRN_CLUSTER_DIR, or .cairn), so after 'make cluster'
no flag is needed.

Output: --output table (default) prints raw keys and values: a single-key get
prints just the value, a range prints key and value lines. A get of a missing key
prints nothing and exits 0, like etcdctl. --output json prints each response as
protojson (keys and values base64-encoded, as in etcdctl's JSON).

Writes (put, del, txn, compact, lease grant/revoke, member changes) are never
retried: when one fails with Unavailable or a timeout the error says its outcome
is unknown, and it may have been applied. Reads are retried until --timeout.`,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.validate()
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&g.endpoints, "endpoints", nil, "comma-separated host:port of raftkv nodes (overrides cluster discovery)")
	pf.StringVar(&g.clusterDir, "cluster-dir", "", "cluster directory to discover endpoints from (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	pf.StringVarP(&g.output, "output", "o", kvOutputTable, "output format: table or json")
	pf.StringVar(&g.consistency, "consistency", "linearizable", "read consistency: linearizable or serializable")
	pf.DurationVar(&g.timeout, "timeout", 10*time.Second, "timeout of each request")
	g.tls = addClientTLSFlags(pf)

	cmd.AddCommand(
		newKVPutCmd(g), newKVGetCmd(g), newKVRangeCmd(g), newKVDelCmd(g), newKVWatchCmd(g),
		newKVTxnCmd(g), newKVCompactCmd(g), newKVLeaseCmd(g), newKVMemberCmd(g),
		newKVStatusCmd(g), newKVSnapshotCmd(g), newKVTransferLeadershipCmd(g),
	)
	return cmd
}

func (g *kvGlobals) validate() error {
	switch g.output {
	case kvOutputTable, kvOutputJSON:
	default:
		return fmt.Errorf("--output: want table or json, got %q", g.output)
	}
	switch g.consistency {
	case "linearizable", "serializable":
	default:
		return fmt.Errorf("--consistency: want linearizable or serializable, got %q", g.consistency)
	}
	if g.timeout <= 0 {
		return fmt.Errorf("--timeout: must be positive, got %v", g.timeout)
	}
	return nil
}

// resolveEndpoints returns --endpoints, or the raftkv endpoints of the local cluster.
func (g *kvGlobals) resolveEndpoints() ([]string, error) {
	return serviceEndpoints(g.endpoints, g.clusterDir, "raftkv")
}

func (g *kvGlobals) newClient() (*client.Client, error) {
	eps, err := g.resolveEndpoints()
	if err != nil {
		return nil, err
	}
	tc, err := g.tls.config(g.clusterDir)
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
}

// requestContext bounds a one-shot command by --timeout and by Ctrl-C.
func (g *kvGlobals) requestContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := kvSignalContext(cmd)
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	return ctx, func() { cancel(); stop() }
}

// kvSignalContext ends on Ctrl-C or SIGTERM, for commands that run until stopped.
func kvSignalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func (g *kvGlobals) readOpts() []client.OpOption {
	if g.consistency == "serializable" {
		return []client.OpOption{client.WithSerializable()}
	}
	return nil
}

// run opens a client, runs f under --timeout and closes the client.
func (g *kvGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	c, err := g.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := g.requestContext(cmd)
	defer cancel()
	return f(ctx, c, cmd.OutOrStdout())
}

// printJSON writes m as one line of protojson.
func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
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
	)
	cmd := &cobra.Command{
		Use:   "put <key> <value>",
		Short: "Write a key; prints OK",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []client.OpOption
			if cmd.Flags().Changed("lease") {
				id, err := parseLeaseID(lease)
				if err != nil {
					return fmt.Errorf("--lease: %w", err)
				}
				opts = append(opts, client.WithLease(id))
			}
			if prevKV {
				opts = append(opts, client.WithPrevKV())
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Put(ctx, args[0], args[1], opts...)
				if err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					return printJSON(w, resp)
				}
				fmt.Fprintln(w, "OK")
				if prevKV && resp.GetPrevKv() != nil {
					printKVs(w, []*raftkvv1.KeyValue{resp.GetPrevKv()}, false)
				}
				return nil
			})
		},
	}
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
		return nil, fmt.Errorf("--rev: must not be negative, got %d", f.rev)
	}
	if f.limit < 0 {
		return nil, fmt.Errorf("--limit: must not be negative, got %d", f.limit)
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
		switch {
		case g.output == kvOutputJSON:
			return printJSON(w, resp)
		case f.countOnly:
			fmt.Fprintln(w, resp.GetCount())
		case !isRange && !f.keysOnly:
			for _, kv := range resp.GetKvs() {
				fmt.Fprintf(w, "%s\n", kv.GetValue())
			}
		default:
			printKVs(w, resp.GetKvs(), f.keysOnly)
		}
		return nil
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

For a single key, prints just its value (etcdctl get --print-value-only); a
missing key prints nothing and exits 0. With --prefix, --from-key or --range-end,
prints each key then its value, one per line.`,
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
				if g.output == kvOutputJSON {
					return printJSON(w, resp)
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
				return fmt.Errorf("--rev: must not be negative, got %d", rev)
			}
			opts, _ := rf.opts(cmd)
			opts = append(opts, client.WithRev(rev))
			if prevKV {
				opts = append(opts, client.WithPrevKV())
			}
			c, err := g.newClient()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := kvSignalContext(cmd)
			defer stop()
			w := cmd.OutOrStdout()
			for resp := range c.Watch(ctx, args[0], opts...) {
				if err := resp.Err(); err != nil {
					return err
				}
				if g.output == kvOutputJSON {
					if err := printJSON(w, resp.WatchResponse); err != nil {
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
				if g.output == kvOutputJSON {
					return printJSON(w, resp)
				}
				fmt.Fprintf(w, "compacted revision %d\n", rev)
				return nil
			})
		},
	}
}
