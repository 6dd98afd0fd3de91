package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// serverStateName is the CLI's name of a volume server state.
func serverStateName(s blobdv1.ServerState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "SERVER_STATE_"))
}

func newBlobRepairStatusCmd(g *clientFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the redundancy of the data: servers, degraded volumes, repairs in progress",
		Long: `Show the redundancy of the data as the metadata leader sees it: each volume
server's state, the volumes with fewer healthy copies than they should have,
those being repaired and the bytes left to copy. With --wait it first waits
(up to --timeout) until the data is fully redundant again.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				st, err := c.RepairStatus(ctx)
				for wait && err == nil && !st.GetHealthy() {
					t := time.NewTimer(250 * time.Millisecond)
					select {
					case <-ctx.Done():
						t.Stop()
						return withExit(exitUnavailable, fmt.Errorf("still not fully redundant after --timeout: %d volumes degraded, %d repairing", st.GetDegraded(), st.GetRepairing()))
					case <-t.C:
					}
					st, err = c.RepairStatus(ctx)
				}
				if err != nil {
					return err
				}
				return g.printer(cmd).print(st, func(w io.Writer) error {
					state := "healthy: every volume has its full redundancy"
					if !st.GetHealthy() {
						state = "degraded: repair in progress"
					}
					fmt.Fprintf(w, "%s\n", state)
					fmt.Fprintf(w, "volumes %d, degraded %d, repairing %d; to copy %s, copied %s\n", st.GetVolumes(), st.GetDegraded(), st.GetRepairing(),
						humanBytes(st.GetBytesToCopy()), humanBytes(st.GetBytesCopied()))
					if st.GetLastScrub() != nil || st.GetCorruptFound() > 0 {
						fmt.Fprintf(w, "last scrub %s, corrupt needles found %d\n", localTime(st.GetLastScrub()), st.GetCorruptFound())
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SERVER\tSTATE\tADDRESS\tS3\tFREE")
					for _, s := range st.GetServers() {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.GetId(), serverStateName(s.GetState()), s.GetAddr(), s.GetS3Addr(), humanBytes(int64(s.GetFreeBytes())))
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until every volume has its full redundancy (bounded by --timeout)")
	return cmd
}

func newBlobKeysCreateCmd(g *clientFlags) *cobra.Command {
	var principal string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an access key of the S3 API (the secret is printed once)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				k, err := c.CreateAccessKey(ctx, principal)
				if err != nil {
					return blobError("--principal", err)
				}
				return g.printer(cmd).print(k, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "access key id     %s\nsecret access key %s\nprincipal         %s\n", k.GetId(), k.GetSecret(), k.GetPrincipal())
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&principal, "principal", "cluster", "who the key acts as (the owner of buckets it creates)")
	return cmd
}

func newBlobKeysListCmd(g *clientFlags) *cobra.Command {
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the access keys made with 'keys create' (secrets with --show-secrets)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				ks, err := c.AccessKeys(ctx)
				if err != nil {
					return err
				}
				if !showSecrets {
					for _, k := range ks {
						k.Secret = ""
					}
				}
				p := g.printer(cmd)
				if p.json {
					for _, k := range ks {
						if err := p.print(k, nil); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ACCESS KEY ID\tPRINCIPAL\tENABLED\tCREATED\tSECRET")
				for _, k := range ks {
					secret := k.GetSecret()
					if secret == "" {
						secret = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", k.GetId(), k.GetPrincipal(), k.GetEnabled(), localTime(k.GetCreated()), secret)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print the secrets too")
	return cmd
}

func newBlobKeysDeleteCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rm <access-key-id>",
		Short: "Delete an access key",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.DeleteAccessKey(ctx, args[0]); err != nil {
					return blobError("access key id", err)
				}
				if g.json() {
					return writeJSON(w, jsonObject{{"id", args[0]}, {"deleted", true}})
				}
				_, err := fmt.Fprintf(w, "deleted access key %s\n", args[0])
				return err
			})
		},
	}
}
