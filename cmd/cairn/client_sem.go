package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/lockd/client"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// newSemCmd is `cairn sem`: counting semaphores of lockd from the command line.
func newSemCmd() *cobra.Command {
	g := &lockdGlobals{}
	cmd := newLockdClientCmd("sem",
		"Take, hold, release and inspect lockd counting semaphores (run a command under a permit)",
		`Take, hold, release and inspect counting semaphores of lockd: at most --permits
sessions hold a permit of a semaphore at once, the others wait in FIFO order.

  cairn sem acquire batch-jobs --permits 4 -- ./run-job

runs ./run-job when fewer than 4 others do, with the permit's fencing token in
$CAIRN_SEM_TOKEN.`, g)
	cmd.AddCommand(newSemAcquireCmd(g, "acquire"), newSemAcquireCmd(g, "try"), newSemReleaseCmd(g), newSemDescribeCmd(g), newSemListCmd(g))
	return cmd
}

// newSemAcquireCmd is `sem acquire` or, with verb "try", `sem try`: the same
// command without --wait, which does not queue (like `lock try`).
func newSemAcquireCmd(g *lockdGlobals, verb string) *cobra.Command {
	var (
		permits uint32
		ttl     time.Duration
		wait    time.Duration
		owner   string
	)
	short := "Acquire a permit, waiting up to --wait; run a command under it or hold it until SIGINT/SIGTERM"
	if verb == "try" {
		short = "Acquire a permit only if one is free now (acquire --wait 0)"
	}
	cmd := &cobra.Command{
		Use:   verb + " <name> --permits N [-- <command> [args…]]",
		Short: short,
		Long: short + `.

Acquire one permit of semaphore <name> of size --permits (fixed by its first
user while it is in use; another size is refused), exactly like 'cairn lock
acquire': a session with --ttl kept alive while cairn runs; with a command after
--, runs it with CAIRN_SEM_TOKEN, CAIRN_SEM_NAME and CAIRN_SEM_SESSION in its
environment, forwards SIGINT and SIGTERM to it, sends it SIGTERM if the permit
is lost (the session was lost, or 'cairn sem release --session' released it),
releases the permit when it exits and exits with its status; without a
command, prints the token and holds the permit until SIGINT or SIGTERM. With
--wait 0 (or 'try') it does not queue: when no permit is free it exits 5.

` + exitCodesHelp,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, argv, err := splitCommand(cmd, args)
			if err != nil {
				return err
			}
			switch {
			case permits == 0:
				return usageErrorf("--permits: required, a positive semaphore size")
			case ttl <= 0:
				return usageErrorf("--ttl: must be positive, got %v", ttl)
			case wait < 0:
				return usageErrorf("--wait: must not be negative, got %v", wait)
			}
			if verb == "try" {
				wait = 0
			}
			if !cmd.Flags().Changed("owner") {
				owner = defaultOwner()
			}
			return g.holdGrant(cmd, acquireSpec{
				kind: "semaphore", ref: lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE, env: "CAIRN_SEM", name: name, owner: owner, ttl: ttl, wait: wait,
				acquire: func(ctx context.Context, s *client.Session, block bool) (*client.Lock, error) {
					if block {
						return s.SemaphoreAcquire(ctx, name, permits, []byte(owner))
					}
					return s.TrySemaphoreAcquire(ctx, name, permits, []byte(owner))
				},
				release: func(ctx context.Context, s *client.Session) error { return s.SemaphoreRelease(ctx, name) },
				holders: func(ctx context.Context, c *client.Client) string {
					si, err := c.SemaphoreDescribe(ctx, name)
					if err != nil || len(si.GetHolders()) == 0 {
						return ""
					}
					return fmt.Sprintf("%d of %d permits held by %s", len(si.GetHolders()), si.GetPermits(), describeHolders(si.GetHolders()))
				},
				extra: map[string]any{"permits": permits},
			}, argv)
		},
	}
	fl := cmd.Flags()
	fl.Uint32Var(&permits, "permits", 0, "size of the semaphore (required)")
	fl.DurationVar(&ttl, "ttl", 30*time.Second, "session TTL: the permit is released this long after cairn stops renewing it")
	if verb != "try" {
		fl.DurationVar(&wait, "wait", 10*time.Second, "how long to wait for a permit (0: try once, do not queue)")
	}
	fl.StringVar(&owner, "owner", "", "owner recorded with the permit, shown to others (default <hostname>:<pid>)")
	return cmd
}

func newSemReleaseCmd(g *lockdGlobals) *cobra.Command {
	var session string
	cmd := &cobra.Command{
		Use:   "release <name> --session ID",
		Short: "Release the permit of a session that lives elsewhere",
		Long: `Return the permit of semaphore <name> held by the session --session ('cairn sem
describe' shows the holders' sessions). The session itself stays alive.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseSessionID(session)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.SemaphoreReleaseFor(ctx, id, args[0]); err != nil {
					return lockdError("<name>", releaseError(fmt.Sprintf("semaphore %q", args[0]), id, err))
				}
				fmt.Fprintf(w, "released the permit of semaphore %q held by session %d\n", args[0], id)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&session, "session", "", "id of the session that holds the permit (required)")
	return cmd
}

// semView is a semaphore in the commands' output.
type semView struct {
	Name    string       `json:"name"`
	Permits uint32       `json:"permits"`
	Holders []holderView `json:"holders"`
	Waiters []waiterView `json:"waiters"`
}

func semViewOf(name string, si *lockdv1.SemaphoreInfo) semView {
	return semView{Name: name, Permits: si.GetPermits(), Holders: holderViews(si.GetHolders()), Waiters: waiterViews(si.GetWaiters())}
}

func newSemDescribeCmd(g *lockdGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe <name>",
		Short: "Show a semaphore's size, holders (session, owner, token, since) and waiters",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				si, err := c.SemaphoreDescribe(ctx, args[0])
				if err != nil {
					return lockdError("<name>", err)
				}
				v := semViewOf(args[0], si)
				return g.printer(cmd).print(v, func(w io.Writer) error {
					printResourceView(w, "semaphore", v.Name, v.Permits, v.Holders, v.Waiters, nil)
					return nil
				})
			})
		},
	}
}

func newSemListCmd(g *lockdGlobals) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the semaphores in use",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				views := []semView{}
				err := listAll(func(after string) ([]*lockdv1.SemaphoreInfo, bool, error) {
					return c.SemaphoreList(ctx, prefix, after, 0)
				}, func(si *lockdv1.SemaphoreInfo) string {
					views = append(views, semViewOf(si.GetName(), si))
					return si.GetName()
				})
				if err != nil {
					return lockdError("--prefix", err)
				}
				if g.json() {
					return writeJSON(w, map[string]any{"semaphores": views})
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tPERMITS\tSESSION\tOWNER\tTOKEN\tSINCE\tWAITERS")
				for _, v := range views {
					if len(v.Holders) == 0 {
						fmt.Fprintf(tw, "%s\t0/%d\t-\t-\t-\t-\t%d\n", v.Name, v.Permits, len(v.Waiters))
					}
					for _, h := range v.Holders {
						fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%d\t%s\t%d\n", v.Name, len(v.Holders), v.Permits, h.Session, h.Owner, h.Token, formatSince(h.Since), len(v.Waiters))
					}
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only semaphores whose name starts with this")
	return cmd
}
