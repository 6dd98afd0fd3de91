package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// newClusterFaultCmds returns the fault subcommands of `cairn cluster`: pause,
// resume, wipe, partition, heal, delay, drop and bandwidth.
func newClusterFaultCmds(dir func() (string, error)) []*cobra.Command {
	return []*cobra.Command{
		newClusterNodeCmd(dir, "pause", "Freeze a node (SIGSTOP) until 'cairn cluster resume'",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				return "paused " + name, c.Pause(name)
			}),
		newClusterNodeCmd(dir, "resume", "Continue a paused node (SIGCONT); says so when it was not paused",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				paused, err := c.Paused(name)
				if err != nil {
					return "", err
				}
				// SIGCONT either way: harmless, and it also continues a node
				// stopped by hand.
				if err := c.Resume(name); err != nil {
					return "", err
				}
				if !paused {
					return name + " was not paused; nothing to resume", nil
				}
				return "resumed " + name, nil
			}),
		newClusterNodeCmd(dir, "wipe", "Delete a stopped node's data; it rejoins the group (empty --peers) when started",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				return "wiped " + name + "; 'cairn cluster start " + name + "' starts it empty, waiting to be added (cairn kv member add)", c.Wipe(name)
			}),
		newClusterPartitionCmd(dir),
		{
			Use:   "heal",
			Short: "Return the cluster to normal: remove every partition, delay, drop and bandwidth cap, resume paused nodes",
			Long: `Return the cluster to normal: remove every network fault (partitions, delays,
drops, bandwidth caps) and resume every paused node, then print one line per
fault removed ("healed: partition raftkv-1 <-> raftkv-2,raftkv-3"), or "nothing
to heal". Stopped and killed nodes stay down: 'cairn cluster start' starts them.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := openCluster(dir)
				if err != nil {
					return err
				}
				removed, err := c.HealAll()
				out := cmd.OutOrStdout()
				for _, f := range removed {
					what := f.String()
					if f.Kind == cluster.FaultPause {
						what = "pause " + strings.Join(f.Nodes, ",") + " (resumed)"
					}
					fmt.Fprintln(out, "healed:", what)
				}
				if err != nil {
					return err
				}
				if len(removed) == 0 {
					fmt.Fprintln(out, "nothing to heal")
				}
				return nil
			},
		},
		newClusterDelayCmd(dir),
		newClusterValueCmd(dir, "drop <node> <percent>", "Reset a share (0..100) of new connections to and from a node; 0 removes it",
			func(c *cluster.Cluster, name, arg string) (string, error) {
				pct, err := strconv.ParseFloat(strings.TrimSuffix(arg, "%"), 64)
				if err != nil {
					return "", fmt.Errorf("percent %q: %w", arg, err)
				}
				return fmt.Sprintf("dropping %g%% of new connections to and from %s", pct, name), c.DropConnections(name, pct)
			}),
		newClusterValueCmd(dir, "bandwidth <node> <bytes-per-sec>", "Cap every connection to and from a node, each direction; 0 removes it",
			func(c *cluster.Cluster, name, arg string) (string, error) {
				bps, err := strconv.ParseInt(arg, 10, 64)
				if err != nil {
					return "", fmt.Errorf("bytes per second %q: %w", arg, err)
				}
				return fmt.Sprintf("capped links to and from %s at %d B/s", name, bps), c.Bandwidth(name, bps)
			}),
	}
}

func newClusterPartitionCmd(dir func() (string, error)) *cobra.Command {
	var (
		from   []string
		oneway bool
	)
	cmd := &cobra.Command{
		Use:   "partition <node> [<node>…] [--from <node>…] [--oneway]",
		Short: "Cut the network links between nodes and the rest (or --from nodes)",
		Long: `Cut every peer link between the given nodes and the nodes after --from (default:
every other node of the same service), in both directions, or with --oneway only
what the given nodes send. Connections stay open; what is sent across the cut is
lost. Partitions add up; 'cairn cluster heal' removes them all.

  cairn cluster partition raftkv-1                      # isolate raftkv-1
  cairn cluster partition raftkv-1 --from raftkv-2 raftkv-3
  cairn cluster partition raftkv-1 --from raftkv-2 --oneway   # raftkv-1 cannot reach raftkv-2

Every argument after --from names a node on the other side.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nodes, more, ow, err := parsePartitionArgs(args)
			if err != nil {
				return err
			}
			c, err := openCluster(dir)
			if err != nil {
				return err
			}
			from = append(from, more...)
			oneway = oneway || ow
			if err := c.Partition(nodes, from, oneway); err != nil {
				return err
			}
			faults := c.ActiveFaults()
			fmt.Fprintln(cmd.OutOrStdout(), faults[len(faults)-1].String())
			return nil
		},
	}
	// Flags end at the first node name; parsePartitionArgs reads --from and
	// --oneway among the node names, so "--from a b" takes both.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringSliceVar(&from, "from", nil, "nodes on the other side (default: every other node of the service)")
	cmd.Flags().BoolVar(&oneway, "oneway", false, "cut only what the given nodes send to the other side")
	return cmd
}

// parsePartitionArgs splits "a b --from c d --oneway" into the nodes, the from
// nodes and the oneway switch. --from=c,d and comma lists are accepted too.
func parsePartitionArgs(args []string) (nodes, from []string, oneway bool, err error) {
	inFrom := false
	for _, a := range args {
		switch {
		case a == "--oneway":
			oneway = true
		case a == "--from":
			inFrom = true
		case strings.HasPrefix(a, "--from="):
			inFrom = true
			from = append(from, splitList(strings.TrimPrefix(a, "--from="))...)
		case strings.HasPrefix(a, "-"):
			return nil, nil, false, fmt.Errorf("partition: unexpected flag %q among node names (only --from and --oneway may follow them)", a)
		case inFrom:
			from = append(from, splitList(a)...)
		default:
			nodes = append(nodes, splitList(a)...)
		}
	}
	if len(nodes) == 0 {
		return nil, nil, false, fmt.Errorf("partition: no node given before --from")
	}
	if inFrom && len(from) == 0 {
		return nil, nil, false, fmt.Errorf("partition: --from names no node")
	}
	return nodes, from, oneway, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newClusterDelayCmd(dir func() (string, error)) *cobra.Command {
	var jitter time.Duration
	cmd := newClusterValueCmd(dir, "delay <node> <duration>", "Add latency (± --jitter) to every link to and from a node; 0 removes it",
		func(c *cluster.Cluster, name, arg string) (string, error) {
			d, err := time.ParseDuration(arg)
			if err != nil {
				return "", fmt.Errorf("delay %q: %w", arg, err)
			}
			msg := fmt.Sprintf("delaying links to and from %s by %v", name, d)
			if jitter > 0 {
				msg += fmt.Sprintf(" ±%v", jitter)
			}
			return msg, c.Delay(name, d, jitter)
		})
	cmd.Flags().DurationVar(&jitter, "jitter", 0, "uniform jitter around the delay")
	return cmd
}

// newClusterValueCmd builds a subcommand taking a node name and one value.
func newClusterValueCmd(dir func() (string, error), use, short string,
	run func(c *cluster.Cluster, name, arg string) (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := openCluster(dir)
			if err != nil {
				return err
			}
			msg, err := run(c, args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
}
