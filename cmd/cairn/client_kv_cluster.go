package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv"
	"cairn.dev/cairn/raftkv/client"
)

func printMembers(w io.Writer, members []*clusterv1.Member, leader string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tADDRESS\tLEARNER\tLEADER")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%t\n", m.GetId(), m.GetAddress(), m.GetIsLearner(), m.GetId() == leader)
	}
	tw.Flush()
}

func newKVMemberCmd(g *kvGlobals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "List and change the members of the raftkv Raft group",
		Args:  cobra.NoArgs,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the members and the leader",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.MemberList(ctx)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				printMembers(w, resp.GetMembers(), resp.GetLeaderId())
				return nil
			})
		},
	}
	var learner bool
	add := &cobra.Command{
		Use:   "add <id> <addr>",
		Short: "Add a member (start its process with the same id and address)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.MemberAdd(ctx, args[0], args[1], learner)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "member %s added\n", args[0])
				printMembers(w, resp.GetMembers(), "")
				return nil
			})
		},
	}
	add.Flags().BoolVar(&learner, "learner", false, "add as a non-voting learner")
	remove := &cobra.Command{
		Use:   "remove <id>",
		Short: "Remove a member",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.MemberRemove(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "member %s removed\n", args[0])
				printMembers(w, resp.GetMembers(), "")
				return nil
			})
		},
	}
	promote := &cobra.Command{
		Use:   "promote <id>",
		Short: "Promote a learner to a voter",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.MemberPromote(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "member %s promoted\n", args[0])
				printMembers(w, resp.GetMembers(), "")
				return nil
			})
		},
	}
	cmd.AddCommand(list, add, remove, promote)
	return cmd
}

func newKVTransferLeadershipCmd(g *kvGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "transfer-leadership [<id>]",
		Short: "Ask the leader to hand leadership to a member (any voter if omitted)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.TransferLeadership(ctx, target)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				if target == "" {
					target = "any voter"
				}
				fmt.Fprintf(w, "leadership transferred to %s\n", target)
				return nil
			})
		},
	}
}

// kvEndpointStatus is the status of one endpoint, or why it has none.
type kvEndpointStatus struct {
	endpoint string
	status   *raftkvv1.StatusResponse
	err      error
}

func newKVStatusCmd(g *kvGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print each endpoint's view of the group: leader, state, term, indexes, revision, size",
		Long: `Ask every endpoint for its status, in parallel, and print one row per endpoint.
Unreachable endpoints get a row with their error and make the command exit 4
(unavailable).

--output json prints one object:
  {"leader": "<leader id>", "members": [{"id":..,"address":..}, ...],
   "endpoints": [{"endpoint": "host:port", "status": {...}} or {"endpoint":.., "error": ".."}]}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				eps := c.Endpoints()
				res := make([]kvEndpointStatus, len(eps))
				var wg sync.WaitGroup
				for i, ep := range eps {
					wg.Go(func() {
						st, err := c.Status(ctx, ep)
						res[i] = kvEndpointStatus{endpoint: ep, status: st, err: err}
					})
				}
				wg.Wait()
				var (
					leader  string
					members []*clusterv1.Member
					failed  int
				)
				for _, r := range res {
					if r.err != nil {
						failed++
						continue
					}
					if leader == "" {
						leader = r.status.GetLeaderId()
					}
					if r.status.GetState() == "leader" {
						leader = r.status.GetHeader().GetMemberId()
					}
					if len(members) == 0 {
						members = r.status.GetMembers()
					}
				}
				if len(members) == 0 && failed < len(res) {
					if ml, err := c.MemberList(ctx); err == nil {
						members = ml.GetMembers()
						if leader == "" {
							leader = ml.GetLeaderId()
						}
					}
				}
				var err error
				if g.json() {
					err = printStatusJSON(w, leader, members, res)
				} else {
					printStatusTable(w, leader, res)
				}
				if err != nil {
					return err
				}
				if failed > 0 {
					return withExit(exitUnavailable, fmt.Errorf("%d of %d endpoints did not answer", failed, len(res)))
				}
				return nil
			})
		},
	}
}

func printStatusTable(w io.Writer, leader string, res []kvEndpointStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tID\tLEADER\tSTATE\tTERM\tCOMMIT\tAPPLIED\tREVISION\tDB SIZE\tERROR")
	for _, r := range res {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\t%v\n", r.endpoint, r.err)
			continue
		}
		s := r.status
		id := s.GetHeader().GetMemberId()
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%d\t%d\t%d\t%d\t%s\t\n", r.endpoint, id, id != "" && id == leader, s.GetState(),
			s.GetRaftTerm(), s.GetCommitIndex(), s.GetAppliedIndex(), s.GetHeader().GetRevision(), kvHumanBytes(s.GetDbSize()))
	}
	tw.Flush()
}

// printStatusJSON writes `kv status --output json`: one object, leader,
// members and each endpoint's status or error.
func printStatusJSON(w io.Writer, leader string, members []*clusterv1.Member, res []kvEndpointStatus) error {
	type endpointJSON struct {
		Endpoint string     `json:"endpoint"`
		Status   jsonObject `json:"status,omitempty"`
		Error    string     `json:"error,omitempty"`
	}
	out := struct {
		Leader    string         `json:"leader"`
		Members   []jsonObject   `json:"members"`
		Endpoints []endpointJSON `json:"endpoints"`
	}{Leader: leader, Members: []jsonObject{}, Endpoints: []endpointJSON{}}
	for _, m := range members {
		out.Members = append(out.Members, protoObject(m.ProtoReflect()))
	}
	for _, r := range res {
		e := endpointJSON{Endpoint: r.endpoint}
		if r.err != nil {
			e.Error = r.err.Error()
		} else {
			e.Status = protoObject(r.status.ProtoReflect())
		}
		out.Endpoints = append(out.Endpoints, e)
	}
	return writeJSON(w, out)
}

func kvHumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func newKVSnapshotCmd(g *kvGlobals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up the store",
		Args:  cobra.NoArgs,
	}
	save := &cobra.Command{
		Use:   "save <file>",
		Short: "Stream a consistent backup into a file (written atomically)",
		Long: `Stream a consistent backup of the state machine into <file>. The data goes to
a temporary file in the same directory, fsynced and renamed over <file> once
complete, so <file> is never a partial backup. No timeout applies unless
--timeout is given explicitly; Ctrl-C aborts.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			c, err := g.dialRaftKV()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			if cmd.Flags().Changed("timeout") {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, g.timeout)
				defer cancel()
			}
			tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name()) // a no-op after the rename
			n, err := c.Snapshot(ctx, tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), path)
			}
			if err != nil {
				return fmt.Errorf("snapshot save %s: %w", path, err)
			}
			w := cmd.OutOrStdout()
			if g.json() {
				return writeJSON(w, map[string]any{"file": path, "bytes": n})
			}
			fmt.Fprintf(w, "snapshot saved to %s (%s)\n", path, kvHumanBytes(n))
			return nil
		},
	}
	var dataDir string
	restore := &cobra.Command{
		Use:   "restore <file> --data-dir <dir>",
		Short: "Seed a new member's data directory from a backup (offline)",
		Long: `Create a member's database from a backup made by 'snapshot save', to start a
new group with the backed-up data. Restore the same file into the data directory
of every member of the new group, then start each member with the same --peers:
the group bootstraps with the backed-up keys, revisions and leases.

  cairn kv snapshot restore backup.db --data-dir data/raftkv-1
  cairn raftkv --id raftkv-1 --data-dir data/raftkv-1 --peers raftkv-1=...,raftkv-2=...,raftkv-3=...

The data directory must not hold Raft state or a database yet. This command does
not talk to any server.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				return usageErrorf("--data-dir is required")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			if err := raftkv.RestoreBackup(f, dataDir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s into %s\n", args[0], dataDir)
			return nil
		},
	}
	restore.Flags().StringVar(&dataDir, "data-dir", "", "data directory of the new member (required)")
	cmd.AddCommand(save, restore)
	return cmd
}
