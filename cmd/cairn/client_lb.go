package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node/clusterconn"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
)

// newLBCmd is `cairn lb`: pools, backends and their admin state on the lbd
// nodes, and demonstration backends.
func newLBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lb",
		Short: "List lbd's pools and backends, drain, enable or weight a backend, read stats; run demo backends",
		Long: `Drive the load balancer (lbd) through its admin API. Reads go to the active
node of the HA group (the one holding the virtual address; --node picks
another); admin changes are shared by every node through raftkv.

  cairn lb pools                      # pools, algorithms, backends and their health
  cairn lb backends [pool]            # one line per backend: state, health, load, latency
  cairn lb drain backend-2            # no new traffic; connections finish until the drain timeout
  cairn lb enable backend-2           # back into rotation
  cairn lb disable backend-2          # out of rotation, connections cut
  cairn lb weight backend-2 5         # weight override (0 restores the configured one)
  cairn lb stats --output json        # node role, frontends and every backend's counters
  cairn lb demo-backends 3            # three HTTP backends registered as service "demo"

` + clientFlagsHelp("lbd"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "lbd")
	var nodeName string
	cmd.PersistentFlags().StringVar(&nodeName, "node", "", "ask this lbd node (its id) instead of the active one")
	l := &lbFlags{g: g, node: &nodeName}
	cmd.AddCommand(l.poolsCmd(), l.backendsCmd(),
		l.stateCmd("drain", lbdv1.AdminState_ADMIN_STATE_DRAINING, "Drain a backend: no new connections or requests; existing ones finish until the pool's drain timeout"),
		l.stateCmd("enable", lbdv1.AdminState_ADMIN_STATE_ENABLED, "Put a drained or disabled backend back into rotation"),
		l.stateCmd("disable", lbdv1.AdminState_ADMIN_STATE_DISABLED, "Take a backend out of rotation and cut its connections at once"),
		l.weightCmd(), l.statsCmd(), newLBDemoBackendsCmd(g))
	return cmd
}

type lbFlags struct {
	g    *clientFlags
	node *string
}

// lbConn is a connection to one lbd node's admin API.
type lbConn struct {
	conn  *clusterconn.Conn
	admin lbdv1.LBServiceClient
}

func (c *lbConn) Close() error { return c.conn.Close() }

// dialActive connects to the active lbd node (or the one --node names): the
// node whose counters matter, since it carries the traffic.
func (l *lbFlags) dialActive() (*lbConn, error) {
	eps, tc, err := l.g.target()
	if err != nil {
		return nil, err
	}
	var fallback *lbConn
	for _, ep := range eps {
		conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: []string{ep}, RequestTimeout: l.g.timeout, TLS: tc}, "lbd")
		if err != nil {
			return nil, usageErrorf("--endpoints: %w", err)
		}
		c := &lbConn{conn: conn, admin: lbdv1.NewLBServiceClient(conn.ClientConn())}
		ctx, cancel := context.WithTimeout(context.Background(), min(l.g.timeout, 2*time.Second))
		st, err := c.admin.GetStatus(ctx, &lbdv1.GetStatusRequest{})
		cancel()
		switch {
		case err != nil:
		case *l.node != "" && st.GetNode() == *l.node,
			*l.node == "" && st.GetRole() != "standby":
			if fallback != nil {
				fallback.Close()
			}
			return c, nil
		case fallback == nil && *l.node == "":
			fallback = c
			continue
		}
		c.Close()
	}
	if *l.node != "" {
		return nil, fmt.Errorf("no lbd node named %q answered", *l.node)
	}
	if fallback == nil {
		return nil, withExit(exitUnavailable, fmt.Errorf("no lbd node answered (%v)", eps))
	}
	return fallback, nil // every node is a standby: no active one right now
}

func (l *lbFlags) poolsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pools",
		Short: "List the pools with their algorithm, source and backends",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWith(l.g, cmd, l.dialActive, func(ctx context.Context, c *lbConn, w io.Writer) error {
				resp, err := c.admin.ListPools(ctx, &lbdv1.ListPoolsRequest{})
				if err != nil {
					return queuedError("", err)
				}
				return l.g.printer(cmd).print(resp, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "POOL\tALGORITHM\tSERVICE\tBACKENDS\tHEALTHY\tMODE")
					for _, p := range resp.GetPools() {
						healthy := 0
						for _, b := range p.GetBackends() {
							if b.GetHealthy() {
								healthy++
							}
						}
						svc := p.GetService()
						if svc == "" {
							svc = "-"
						}
						mode := "normal"
						if p.GetPanic() {
							mode = "PANIC"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", p.GetName(), p.GetAlgorithm(), svc, len(p.GetBackends()), healthy, mode)
					}
					return tw.Flush()
				})
			})
		},
	}
}

func (l *lbFlags) backendsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backends [pool]",
		Short: "List every backend: admin state, health, weight, load, request rate and latency",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &lbdv1.ListPoolsRequest{}
			if len(args) == 1 {
				req.Pool = args[0]
			}
			return runWith(l.g, cmd, l.dialActive, func(ctx context.Context, c *lbConn, w io.Writer) error {
				resp, err := c.admin.ListPools(ctx, req)
				if err != nil {
					return queuedError("", err)
				}
				return l.g.printer(cmd).print(resp, func(w io.Writer) error { return writeBackends(w, resp.GetPools()) })
			})
		},
	}
}

// writeBackends prints one line per backend of pools.
func writeBackends(w io.Writer, pools []*lbdv1.Pool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tBACKEND\tADDRESS\tSTATE\tHEALTH\tWEIGHT\tACTIVE\tTOTAL\tFAILED\tREQ/S\tP50\tP99")
	for _, p := range pools {
		for _, b := range p.GetBackends() {
			weight := strconv.Itoa(int(b.GetWeight()))
			if b.GetEffectiveWeight() != b.GetWeight() {
				weight += " (" + strconv.Itoa(int(b.GetEffectiveWeight())) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.1f\t%v\t%v\n", p.GetName(), b.GetName(), b.GetAddress(),
				adminStateName(b.GetAdminState()), b.GetHealth(), weight, b.GetActive(), b.GetTotal(), b.GetFailures(),
				b.GetRequestsPerSecond(), b.GetLatencyP50().AsDuration().Round(time.Microsecond), b.GetLatencyP99().AsDuration().Round(time.Microsecond))
		}
	}
	return tw.Flush()
}

func adminStateName(s lbdv1.AdminState) string {
	switch s {
	case lbdv1.AdminState_ADMIN_STATE_DRAINING:
		return "draining"
	case lbdv1.AdminState_ADMIN_STATE_DISABLED:
		return "disabled"
	}
	return "enabled"
}

func (l *lbFlags) stateCmd(verb string, state lbdv1.AdminState, short string) *cobra.Command {
	var poolName string
	cmd := &cobra.Command{
		Use:   verb + " <backend>",
		Short: short,
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWith(l.g, cmd, l.dialActive, func(ctx context.Context, c *lbConn, w io.Writer) error {
				resp, err := c.admin.SetBackendState(ctx, &lbdv1.SetBackendStateRequest{Pool: poolName, Backend: args[0], State: state})
				if err != nil {
					return queuedError("", err)
				}
				return l.g.printer(cmd).print(resp, func(w io.Writer) error {
					b := resp.GetBackend()
					_, err := fmt.Fprintf(w, "%s/%s: %s (%s, %d active)\n", resp.GetPool(), b.GetName(), adminStateName(b.GetAdminState()), b.GetHealth(), b.GetActive())
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&poolName, "pool", "", "the backend's pool (needed when several pools have a backend of that name)")
	return cmd
}

func (l *lbFlags) weightCmd() *cobra.Command {
	var poolName string
	cmd := &cobra.Command{
		Use:   "weight <backend> <weight>",
		Short: "Override a backend's weight (1..1000; 0 restores the configured or registered weight)",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := strconv.Atoi(args[1])
			if err != nil || w < 0 || w > 1000 {
				return usageErrorf("weight: want 0..1000, got %q", args[1])
			}
			return runWith(l.g, cmd, l.dialActive, func(ctx context.Context, c *lbConn, out io.Writer) error {
				resp, err := c.admin.SetBackendWeight(ctx, &lbdv1.SetBackendWeightRequest{Pool: poolName, Backend: args[0], Weight: int32(w)})
				if err != nil {
					return queuedError("", err)
				}
				return l.g.printer(cmd).print(resp, func(w io.Writer) error {
					b := resp.GetBackend()
					_, err := fmt.Fprintf(w, "%s/%s: weight %d (effective %d)\n", resp.GetPool(), b.GetName(), b.GetWeight(), b.GetEffectiveWeight())
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&poolName, "pool", "", "the backend's pool (needed when several pools have a backend of that name)")
	return cmd
}

func (l *lbFlags) statsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print the node's role and frontends and every backend's state and counters",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWith(l.g, cmd, l.dialActive, func(ctx context.Context, c *lbConn, w io.Writer) error {
				st, err := c.admin.GetStatus(ctx, &lbdv1.GetStatusRequest{})
				if err != nil {
					return queuedError("", err)
				}
				pools, err := c.admin.ListPools(ctx, &lbdv1.ListPoolsRequest{})
				if err != nil {
					return queuedError("", err)
				}
				if l.g.json() {
					return writeJSON(w, jsonObject{{"status", protoObject(st.ProtoReflect())}, {"pools", protoList(pools)}})
				}
				fmt.Fprintf(w, "node %s: %s (active: %s, virtual address %s)\n", st.GetNode(), st.GetRole(), st.GetActive(), st.GetVirtualAddress())
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FRONTEND\tMODE\tADDRESS\tLISTENING\tACTIVE\tACCEPTED\tREQUESTS\tFAILED")
				for _, f := range st.GetFrontends() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%d\n", f.GetName(), f.GetMode(), f.GetAddress(), f.GetListening(), f.GetActiveConnections(), f.GetAccepted(), f.GetRequests(), f.GetFailed())
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(w)
				return writeBackends(w, pools.GetPools())
			})
		},
	}
}

// protoList is the pools of resp as JSON objects.
func protoList(resp *lbdv1.ListPoolsResponse) []jsonObject {
	out := make([]jsonObject, len(resp.GetPools()))
	for i, p := range resp.GetPools() {
		out[i] = protoObject(p.ProtoReflect())
	}
	return out
}
