package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/raftkv/client"
)

func formatLeaseID(id int64) string { return fmt.Sprintf("%d (0x%x)", id, id) }

// parsePositive parses a positive integer argument named what.
func parsePositive(what, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, usageErrorf("<%s>: want a positive integer, got %q", what, s)
	}
	return n, nil
}

func newKVLeaseCmd(g *kvGlobals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lease",
		Short: "Grant, revoke, inspect and keep alive leases",
		Long: `Grant, revoke, inspect and keep alive leases. Lease ids print in decimal with
their hex form beside; commands accept either: decimal, or hex with 0x.`,
		Args: cobra.NoArgs,
	}
	leaseArg := func(args []string) (int64, error) {
		id, err := parseLeaseID(args[0])
		if err != nil {
			return 0, usageErrorf("<id>: %w", err)
		}
		return id, nil
	}

	grant := &cobra.Command{
		Use:   "grant <ttl>",
		Short: "Grant a lease of a TTL (30s, 5m; a plain integer is seconds); prints its id",
		Long: `Grant a lease that expires <ttl> after its last renewal. <ttl> is a duration
in whole seconds (30s, 5m, 1h30m) or, as in etcdctl, a plain number of seconds
(30); the server bounds it by its max_lease_ttl.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl, err := parseSeconds("<ttl>", args[0])
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Grant(ctx, ttl)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "lease %s granted with TTL(%ds)\n", formatLeaseID(resp.GetId()), resp.GetTtl())
				return nil
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revoke a lease and delete its keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := leaseArg(args)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Revoke(ctx, id)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "lease %s revoked\n", formatLeaseID(id))
				return nil
			})
		},
	}
	var withKeys bool
	ttl := &cobra.Command{
		Use:   "ttl <id>",
		Short: "Print a lease's remaining and granted TTL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := leaseArg(args)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.TimeToLive(ctx, id, withKeys)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				if resp.GetTtl() <= 0 {
					fmt.Fprintf(w, "lease %s already expired\n", formatLeaseID(id))
					return nil
				}
				fmt.Fprintf(w, "lease %s granted with TTL(%ds), remaining(%ds)", formatLeaseID(id), resp.GetGrantedTtl(), resp.GetTtl())
				if withKeys {
					keys := make([]string, 0, len(resp.GetKeys()))
					for _, k := range resp.GetKeys() {
						keys = append(keys, string(k))
					}
					fmt.Fprintf(w, ", attached keys(%s)", strings.Join(keys, ", "))
				}
				fmt.Fprintln(w)
				return nil
			})
		},
	}
	ttl.Flags().BoolVar(&withKeys, "keys", false, "also list the keys attached to the lease")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the live leases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Leases(ctx)
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				fmt.Fprintf(w, "found %d leases\n", len(resp.GetLeases()))
				for _, l := range resp.GetLeases() {
					fmt.Fprintln(w, formatLeaseID(l.GetId()))
				}
				return nil
			})
		},
	}
	keepalive := &cobra.Command{
		Use:   "keepalive <id>",
		Short: "Keep a lease alive until Ctrl-C; fails when the lease is gone",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := leaseArg(args)
			if err != nil {
				return err
			}
			c, err := g.dialRaftKV()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			// The first renewal is bounded by --timeout (the client's RequestTimeout);
			// the following ones go on until Ctrl-C.
			ch, err := c.KeepAlive(ctx, id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for resp := range ch {
				if g.json() {
					if err := writeJSON(w, resp); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(w, "lease %s keepalived with TTL(%ds)\n", formatLeaseID(resp.GetId()), resp.GetTtl())
			}
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return fmt.Errorf("lease %s expired or revoked: %w", formatLeaseID(id), errLeaseGone)
		},
	}
	cmd.AddCommand(grant, revoke, ttl, list, keepalive)
	return cmd
}

var errLeaseGone = errors.New("lease gone")
