package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/lockd/client"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// newLockCmd is `cairn lock`: locks of lockd from the command line.
func newLockCmd() *cobra.Command {
	g := &lockdGlobals{}
	cmd := newLockdClientCmd("lock",
		"Take, hold, release and inspect lockd locks (run a command under a lock)",
		`Take, hold, release and inspect locks of lockd, cairn's Raft-replicated lock
service. Every grant carries a fencing token that only grows; pass it with every
write to the protected resource and have the resource refuse lower ones.

  cairn lock acquire inventory:item:123 --owner web-1 --ttl 30s -- ./sell-item

runs ./sell-item while holding the lock, with the token in $CAIRN_LOCK_TOKEN.`, g)
	cmd.AddCommand(
		newLockAcquireCmd(g, "acquire"),
		newLockAcquireCmd(g, "try"),
		newLockReleaseCmd(g),
		newLockDescribeCmd(g),
		newLockListCmd(g),
	)
	return cmd
}

// lockAcquireFlags are the flags of lock acquire and lock try.
type lockAcquireFlags struct {
	ttl       time.Duration
	wait      time.Duration
	owner     string
	mode      string
	lockDelay time.Duration
}

func (f *lockAcquireFlags) options() ([]client.LockOption, error) {
	var opts []client.LockOption
	switch f.mode {
	case "exclusive", "write":
	case "shared", "read":
		opts = append(opts, client.WithMode(client.Shared))
	default:
		return nil, usageErrorf("--mode: want exclusive or shared, got %q", f.mode)
	}
	if f.ttl <= 0 {
		return nil, usageErrorf("--ttl: must be positive, got %v", f.ttl)
	}
	if f.wait < 0 {
		return nil, usageErrorf("--wait: must not be negative, got %v", f.wait)
	}
	if f.lockDelay < 0 {
		return nil, usageErrorf("--lock-delay: must not be negative, got %v", f.lockDelay)
	}
	if f.lockDelay > 0 {
		opts = append(opts, client.WithLockDelay(f.lockDelay))
	}
	return opts, nil
}

func newLockAcquireCmd(g *lockdGlobals, verb string) *cobra.Command {
	f := lockAcquireFlags{}
	short := "Acquire a lock, waiting up to --wait; run a command under it or hold it until SIGINT/SIGTERM"
	if verb == "try" {
		short = "Acquire a lock only if it is free now (acquire --wait 0)"
	}
	cmd := &cobra.Command{
		Use:   verb + " <name> [-- <command> [args…]]",
		Short: short,
		Long: short + `.

Creates a session with --ttl, kept alive while cairn runs, and acquires the lock
(in FIFO order behind earlier waiters). With --wait 0 (or 'try') it does not
queue.

With a command after --, runs it with stdin, stdout and stderr passed through and
CAIRN_LOCK_TOKEN (the fencing token), CAIRN_LOCK_NAME and CAIRN_LOCK_SESSION in
its environment; SIGINT and SIGTERM are forwarded to it (a Ctrl-C at a terminal
reaches it directly as well). If the lock is lost while it runs (the session
was lost: the lockd cluster could not be reached for a TTL, or the session was
closed; or the lock was released from elsewhere with 'cairn lock release
--session', noticed within a third of the TTL), cairn says so on stderr and
sends the command SIGTERM: another session may hold the lock by then, and only
fencing tokens protect the resource from the command's late writes. When the command exits, the lock is released if the session still holds
it, and cairn exits with the command's status (128+N if signal N killed it; 6
if the lock was lost meanwhile).

Without a command, prints the token (--output json: name, token, session,
owner), holds the lock until SIGINT or SIGTERM, then releases it.

` + exitCodesHelp,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, argv, err := splitCommand(cmd, args)
			if err != nil {
				return err
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			if verb == "try" {
				f.wait = 0
			}
			owner := f.owner
			if !cmd.Flags().Changed("owner") {
				owner = defaultOwner()
			}
			return g.holdGrant(cmd, acquireSpec{
				kind: "lock", ref: lockdv1.ResourceKind_RESOURCE_KIND_LOCK, env: "CAIRN_LOCK", name: name, owner: owner, ttl: f.ttl, wait: f.wait,
				acquire: func(ctx context.Context, s *client.Session, block bool) (*client.Lock, error) {
					if block {
						return s.Acquire(ctx, name, []byte(owner), opts...)
					}
					return s.TryAcquire(ctx, name, []byte(owner), opts...)
				},
				release: func(ctx context.Context, s *client.Session) error { return s.Release(ctx, name) },
				holders: func(ctx context.Context, c *client.Client) string {
					li, err := c.Describe(ctx, name)
					if err != nil {
						return ""
					}
					if len(li.GetHolders()) == 0 {
						return ""
					}
					return "held by " + describeHolders(li.GetHolders())
				},
			}, argv)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.ttl, "ttl", 30*time.Second, "session TTL: the lock is released this long after cairn stops renewing it")
	if verb != "try" {
		fl.DurationVar(&f.wait, "wait", 10*time.Second, "how long to wait for the lock (0: try once, do not queue)")
	}
	fl.StringVar(&f.owner, "owner", "", "owner recorded with the grant, shown to others (default <hostname>:<pid>)")
	fl.StringVar(&f.mode, "mode", "exclusive", "exclusive (one holder) or shared (readers; a queued writer blocks new readers)")
	fl.DurationVar(&f.lockDelay, "lock-delay", 0, "if the session expires while holding, nobody gets the lock for this long after")
	return cmd
}

func newLockReleaseCmd(g *lockdGlobals) *cobra.Command {
	var session string
	cmd := &cobra.Command{
		Use:   "release <name> --session ID",
		Short: "Release a lock held by a session that lives elsewhere",
		Long: `Release a lock held by the session --session, such as one held by a
'cairn lock acquire' on another machine ('cairn lock describe' shows the holder's
session). The session itself stays alive. If another session holds the lock the
release is refused (permission denied, exit 1).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseSessionID(session)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.ReleaseFor(ctx, id, args[0]); err != nil {
					return lockdError("<name>", releaseError(fmt.Sprintf("lock %q", args[0]), id, err))
				}
				fmt.Fprintf(w, "released lock %q held by session %d\n", args[0], id)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&session, "session", "", "id of the session that holds the lock (required)")
	return cmd
}

func newLockDescribeCmd(g *lockdGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe <name>",
		Short: "Show a lock's holders (session, owner, token, since), waiters and lock delay",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				li, err := c.Describe(ctx, args[0])
				if err != nil {
					return lockdError("<name>", err)
				}
				v := lockViewOf(args[0], li)
				return g.printer(cmd).print(v, func(w io.Writer) error {
					printResourceView(w, "lock", v.Name, 0, v.Holders, v.Waiters, v.DelayUntil)
					return nil
				})
			})
		},
	}
}

func newLockListCmd(g *lockdGlobals) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the locks in use (held, waited for or in lock delay)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				views := []lockView{}
				err := listAll(func(after string) ([]*lockdv1.LockInfo, bool, error) {
					return c.List(ctx, prefix, after, 0)
				}, func(li *lockdv1.LockInfo) string {
					views = append(views, lockViewOf(li.GetName(), li))
					return li.GetName()
				})
				if err != nil {
					return lockdError("--prefix", err)
				}
				if g.json() {
					return writeJSON(w, map[string]any{"locks": views})
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tMODE\tSESSION\tOWNER\tTOKEN\tSINCE\tWAITERS")
				for _, v := range views {
					printHolderRows(tw, v.Name, v.Holders, len(v.Waiters), v.DelayUntil)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only locks whose name starts with this")
	return cmd
}

// holderView is a grant in the commands' output. Owner is UTF-8 text, or
// base64 with OwnerEncoding "base64" (see encodeBytes).
type holderView struct {
	Session       uint64    `json:"session"`
	Owner         string    `json:"owner"`
	OwnerEncoding string    `json:"owner_encoding,omitempty"`
	Token         uint64    `json:"token"`
	Since         time.Time `json:"since"`
	Mode          string    `json:"mode,omitempty"`
}

// waiterView is a queued session in the commands' output.
type waiterView struct {
	Session       uint64    `json:"session"`
	Owner         string    `json:"owner"`
	OwnerEncoding string    `json:"owner_encoding,omitempty"`
	Since         time.Time `json:"since"`
	Mode          string    `json:"mode,omitempty"`
}

// lockView is a lock in the commands' output (owners as text, unlike protojson's base64).
type lockView struct {
	Name       string       `json:"name"`
	Holders    []holderView `json:"holders"`
	Waiters    []waiterView `json:"waiters"`
	DelayUntil *time.Time   `json:"delay_until,omitempty"`
}

func lockViewOf(name string, li *lockdv1.LockInfo) lockView {
	v := lockView{Name: name, Holders: holderViews(li.GetHolders()), Waiters: waiterViews(li.GetWaiters())}
	if li.GetDelayUntil() != nil {
		t := li.GetDelayUntil().AsTime()
		v.DelayUntil = &t
	}
	return v
}

func holderViews(hs []*lockdv1.Holder) []holderView {
	out := []holderView{}
	for _, h := range hs {
		v := holderView{Session: h.GetSessionId(), Token: h.GetToken(), Since: h.GetSince().AsTime(), Mode: modeName(h.GetMode())}
		v.Owner, v.OwnerEncoding = encodeBytes(h.GetOwner())
		out = append(out, v)
	}
	return out
}

func waiterViews(ws []*lockdv1.Waiter) []waiterView {
	out := []waiterView{}
	for _, w := range ws {
		v := waiterView{Session: w.GetSessionId(), Since: w.GetSince().AsTime(), Mode: modeName(w.GetMode())}
		v.Owner, v.OwnerEncoding = encodeBytes(w.GetOwner())
		out = append(out, v)
	}
	return out
}

func modeName(m lockdv1.LockMode) string {
	switch m {
	case lockdv1.LockMode_LOCK_MODE_WRITE:
		return "exclusive"
	case lockdv1.LockMode_LOCK_MODE_READ:
		return "shared"
	}
	return ""
}

// describeHolders names the holders for an error message: "web-1 (session 5,
// token 12, since 3s)".
func describeHolders(hs []*lockdv1.Holder) string {
	var parts []string
	for _, h := range hs {
		owner := string(h.GetOwner())
		if owner == "" {
			owner = "(no owner)"
		}
		parts = append(parts, fmt.Sprintf("%s (session %d, token %d, for %s)", owner, h.GetSessionId(), h.GetToken(), time.Since(h.GetSince().AsTime()).Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// printResourceView prints a lock or semaphore (permits > 0) as labelled lines.
func printResourceView(w io.Writer, kind, name string, permits uint32, holders []holderView, waiters []waiterView, delayUntil *time.Time) {
	fmt.Fprintf(w, "%s: %s\n", kind, name)
	if permits > 0 {
		fmt.Fprintf(w, "permits: %d (%d held)\n", permits, len(holders))
	}
	if len(holders) == 0 {
		fmt.Fprintln(w, "holder: none")
	}
	for _, h := range holders {
		fmt.Fprintf(w, "holder: session %d, owner %q, token %d, since %s", h.Session, h.Owner, h.Token, formatSince(h.Since))
		if h.Mode != "" {
			fmt.Fprintf(w, ", %s", h.Mode)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "waiters: %d\n", len(waiters))
	for i, wt := range waiters {
		fmt.Fprintf(w, "  %d. session %d, owner %q, since %s", i+1, wt.Session, wt.Owner, formatSince(wt.Since))
		if wt.Mode != "" {
			fmt.Fprintf(w, ", %s", wt.Mode)
		}
		fmt.Fprintln(w)
	}
	if delayUntil != nil {
		fmt.Fprintf(w, "lock delay until: %s\n", delayUntil.Local().Format(time.RFC3339Nano))
	}
}

// printHolderRows prints one table row per holder of a lock or semaphore, or
// one row with dashes when nobody holds it.
func printHolderRows(tw io.Writer, name string, holders []holderView, waiters int, delayUntil *time.Time) {
	if len(holders) == 0 {
		mode := "-"
		if delayUntil != nil {
			mode = "(lock delay)"
		}
		fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t%d\n", name, mode, waiters)
		return
	}
	for _, h := range holders {
		mode := h.Mode
		if mode == "" {
			mode = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%d\n", name, mode, h.Session, h.Owner, h.Token, formatSince(h.Since), waiters)
	}
}

func formatSince(t time.Time) string {
	return fmt.Sprintf("%s (%s ago)", t.Local().Format(time.RFC3339), time.Since(t).Round(time.Second))
}
