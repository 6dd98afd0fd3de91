package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// newClusterCmd is `cairn cluster …`: run the local cluster and drive faults into
// it. Every subcommand finds the cluster through --cluster-dir, $CAIRN_CLUSTER_DIR
// or ./.cairn.
func newClusterCmd() *cobra.Command {
	var dirFlag string
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run the local cluster, start, stop or kill its nodes and inject faults",
		Long: `Run every cairn daemon as separate processes on localhost and drive them.

The cluster directory (--cluster-dir, else $` + cluster.EnvDir + `, else ./` + cluster.DefaultDir + `)
holds the state file ` + cluster.StateFileName + ` that every client command reads,
the nodes' data (data/<node>) and their logs (logs/<node>.log).`,
	}
	cmd.PersistentFlags().StringVar(&dirFlag, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or ./"+cluster.DefaultDir+")")
	dir := func() (string, error) { return cluster.ResolveDir(dirFlag) }
	cmd.AddCommand(
		newClusterUpCmd(dir),
		newClusterStatusCmd(dir),
		newClusterDownCmd(dir),
		newClusterEnvCmd(dir),
		newClusterNodeCmd(dir, "kill", "SIGKILL a node's processes (no graceful shutdown)",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				return "killed " + name, c.Kill(name)
			}),
		newClusterNodeCmd(dir, "stop", "Stop a node gracefully (SIGTERM, SIGKILL after 15s)",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				return "stopped " + name, c.Stop(name)
			}),
		newClusterNodeCmd(dir, "start", "Start a stopped node again on its data",
			func(_ context.Context, c *cluster.Cluster, name string) (string, error) {
				if err := c.Start(name); err != nil {
					return "", err
				}
				return fmt.Sprintf("started %s (pid %d)", name, pidOf(c, name)), nil
			}),
		newClusterNodeCmd(dir, "restart", "Stop a node gracefully, start it again and wait until it serves",
			func(ctx context.Context, c *cluster.Cluster, name string) (string, error) {
				if err := c.Restart(ctx, name); err != nil {
					return "", err
				}
				return fmt.Sprintf("restarted %s (pid %d): %s", name, pidOf(c, name), roleOf(ctx, c, name)), nil
			}),
	)
	cmd.AddCommand(newClusterFaultCmds(dir)...)
	cmd.AddCommand(newClusterProxydCmd(dir))
	return cmd
}

// cliLogger logs the harness's progress to stderr.
func cliLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// openCluster attaches to the cluster in the resolved directory.
func openCluster(dir func() (string, error)) (*cluster.Cluster, error) {
	d, err := dir()
	if err != nil {
		return nil, err
	}
	return cluster.Attach(cluster.Options{Dir: d, Logger: cliLogger(slog.LevelWarn)})
}

func newClusterUpCmd(dir func() (string, error)) *cobra.Command {
	var (
		services []string
		nodes    int
		basePort int
		detach   bool
		clean    bool
		binary   string
		timeout  time.Duration
		noProxy  bool
		seed     uint64
		insecure bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local cluster and wait until it is ready",
		Long: `Start every node as its own process, wait until each serves and each replicated
service has one leader, and print the endpoints. In the foreground (the default)
it runs until interrupted, then stops every node; with --detach it returns once
the cluster is ready and the nodes keep running ('cairn cluster down' stops them).

Node i (from 1) of the s-th service in the fixed order
raftkv lockd cached queued streamd blobd searchd gatewayd lbd edge (from 0)
listens for gRPC on 127.0.0.1:<base-port + 100*s + 2*(i-1)> and for admin HTTP on the next port.

Unless --no-fault-proxy, every peer link goes through a fault proxy process
('cairn cluster partition|delay|drop|bandwidth|heal' drive it): link i→j of
service s listens on <base-port + 100*s + 50 + 10*(i-1) + (j-1)> (at most 5 nodes
per service) and the proxy's control API on <base-port + 99>.

Every gRPC link runs mutual TLS: on first start the cluster directory gets a CA
and a certificate per node and for clients in tls/ (kept on later starts; the
CA is never replaced). Client commands find the client certificate through the
state file; 'cairn cluster env' prints the paths for other tools. --insecure
runs plaintext instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := dir()
			if err != nil {
				return err
			}
			if binary == "" {
				if binary, err = os.Executable(); err != nil {
					return fmt.Errorf("find the cairn binary: %w", err)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			upCtx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			c, err := cluster.Up(upCtx, cluster.Options{
				Dir:      d,
				Binary:   binary,
				Services: services,
				Nodes:    nodes,
				BasePort: basePort,
				Clean:    clean,
				Logger:   cliLogger(slog.LevelInfo),

				NoFaultProxy: noProxy,
				Seed:         seed,
				Insecure:     insecure,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			sts, err := c.Status(ctx)
			if err != nil {
				return err
			}
			printUpTable(out, sts)
			fmt.Fprintf(out, "\ncluster dir %s; logs in %s/logs\n", d, d)
			printTLSNote(out, c.State())
			if detach {
				fmt.Fprintln(out, "nodes run in the background; stop them with 'cairn cluster down'")
				return nil
			}
			fmt.Fprintln(out, "press Ctrl-C to stop the cluster")
			<-ctx.Done()
			stop() // a second Ctrl-C kills this process; the nodes would survive it
			fmt.Fprintln(out, "\nstopping the cluster…")
			if err := c.Down(); err != nil {
				return err
			}
			fmt.Fprintln(out, "cluster stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&services, "services", nil, "services to run (default all: "+strings.Join(cluster.KnownServices(), ",")+")")
	f.IntVar(&nodes, "nodes", 0, "nodes per service (default: each service's default, 3 for raftkv)")
	f.IntVar(&basePort, "base-port", cluster.DefaultBasePort, "first port of the layout")
	f.BoolVar(&detach, "detach", false, "return once the cluster is ready and leave it running")
	f.BoolVar(&clean, "clean", false, "delete the data and logs of a previous cluster in the directory first")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the cluster to be ready")
	f.StringVar(&binary, "binary", "", "cairn binary the nodes run (default: this executable)")
	_ = f.MarkHidden("binary")
	f.BoolVar(&noProxy, "no-fault-proxy", false, "connect peers directly, without fault proxies (for benchmarks; network faults are then unavailable)")
	f.Uint64Var(&seed, "seed", 0, "seed of the fault proxies' random choices (default: from the clock, logged)")
	f.BoolVar(&insecure, "insecure", false, "run every node in plaintext, without TLS (default: mutual TLS with certificates in <cluster dir>/"+cluster.TLSDirName+")")
	return cmd
}

func newClusterStatusCmd(dir func() (string, error)) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every node: pid, address, role, health; exit 4 if any node is not serving",
		Long: `Show every node (pid, address, role, health, admin URL, other ports), the fault
proxy and the active faults. Exits 0 when every node is SERVING, and 4
(unavailable) when any node is down, paused, unreachable or not serving; the
table is printed either way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageErrorf("--output: want table or json, got %q", output)
			}
			c, err := openCluster(dir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			sts, err := c.Status(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if sts == nil {
				sts = []cluster.NodeStatus{}
			}
			report := clusterReport{Nodes: sts, Proxy: c.ProxyStatus(), Faults: c.ActiveFaults()}
			if report.Faults == nil {
				report.Faults = []cluster.Fault{}
			}
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(report)
			} else {
				err = printStatus(out, report, time.Now())
			}
			if err != nil {
				return err
			}
			return statusVerdict(sts)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newClusterDownCmd(dir func() (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop every node (the cluster directory and its data stay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := openCluster(dir)
			if err != nil {
				return err
			}
			if err := c.Down(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "cluster stopped")
			return nil
		},
	}
}

// newClusterNodeCmd builds a subcommand that acts on one node by name.
func newClusterNodeCmd(dir func() (string, error), use, short string,
	run func(ctx context.Context, c *cluster.Cluster, name string) (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " <node>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			c, err := openCluster(dir)
			if err != nil || len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, n := range c.State().Nodes {
				names = append(names, n.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := openCluster(dir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			msg, err := run(ctx, c, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
}

// statusVerdict is the result of `cluster status`: nil when every node is
// SERVING, else an exitUnavailable error naming the others.
func statusVerdict(sts []cluster.NodeStatus) error {
	var bad []string
	for _, st := range sts {
		if st.Health != cluster.HealthServing {
			bad = append(bad, fmt.Sprintf("%s (%s)", st.Name, strings.ToLower(st.Health)))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return withExit(exitUnavailable, fmt.Errorf("%d of %d nodes not serving: %s", len(bad), len(sts), strings.Join(bad, ", ")))
}

// clusterReport is the JSON form of `cairn cluster status`.
type clusterReport struct {
	Nodes []cluster.NodeStatus `json:"nodes"`
	// Proxy is the fault proxy process, null without fault proxies.
	Proxy  *cluster.ProxyStatus `json:"proxy"`
	Faults []cluster.Fault      `json:"faults"`
}

// printStatus writes the status table, then the fault proxy and the active faults.
func printStatus(w io.Writer, r clusterReport, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tADDRESS\tROLE\tHEALTH\tADMIN\tOTHER PORTS")
	for _, st := range r.Nodes {
		pid := "-"
		if st.Alive {
			pid = strconv.Itoa(st.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Name, pid, st.GRPCAddr, roleCell(st), st.Health, "http://"+st.AdminAddr, portsCell(st.Ports))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch p := r.Proxy; {
	case p == nil:
		fmt.Fprintln(w, "\nFAULT PROXY: off (started with --no-fault-proxy)")
	case p.Alive:
		fmt.Fprintf(w, "\nFAULT PROXY: pid %d, %d links, control http://%s\n", p.PID, p.Links, p.ControlAddr)
	default:
		fmt.Fprintf(w, "\nFAULT PROXY: down (log %s)\n", p.LogFile)
	}
	if len(r.Faults) == 0 {
		fmt.Fprintln(w, "FAULTS: none")
		return nil
	}
	fmt.Fprintln(w, "FAULTS:")
	for _, f := range r.Faults {
		fmt.Fprintf(w, "  %s since %s\n", f, now.Sub(f.Since).Round(time.Second))
	}
	return nil
}

func printUpTable(w io.Writer, sts []cluster.NodeStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tROLE\tADMIN\tOTHER PORTS")
	for _, st := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Name, st.GRPCAddr, roleCell(st), "http://"+st.AdminAddr, portsCell(st.Ports))
	}
	tw.Flush()
}

// portsCell lists a node's extra ports ("resp=127.0.0.1:7220"), "-" for none.
func portsCell(ports map[string]string) string {
	if len(ports) == 0 {
		return "-"
	}
	names := make([]string, 0, len(ports))
	for name := range ports {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		names[i] = name + "=" + ports[name]
	}
	return strings.Join(names, " ")
}

// roleCell is the ROLE column: the node's role, "down" when it does not run.
func roleCell(st cluster.NodeStatus) string {
	switch {
	case !st.Alive:
		return "down"
	case st.Role == "":
		return "-"
	}
	return st.Role
}

func pidOf(c *cluster.Cluster, name string) int {
	s := c.State()
	if n, ok := s.Node(name); ok {
		return n.PID
	}
	return 0
}

func roleOf(ctx context.Context, c *cluster.Cluster, name string) string {
	sts, err := c.Status(ctx)
	if err != nil {
		return "-"
	}
	for _, st := range sts {
		if st.Name == name {
			return roleCell(st)
		}
	}
	return "-"
}
