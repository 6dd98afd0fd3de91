package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/lockd/client"
)

// Exit codes of `cairn lock`, `cairn sem` and `cairn election`, beside 0 (done)
// and 1 (connection and other errors). A command run under a lock or permit
// exits with the command's own status instead.
const (
	// exitUsage: a bad flag, flag value or argument (also a value lockd refuses
	// as invalid, such as a TTL out of its range).
	exitUsage = 2
	// exitSessionLost (EX_UNAVAILABLE): a lock, permit or leadership was lost
	// while held (the session was lost, or another client released it with an
	// explicit --session); anything done under it may have overlapped with the
	// next holder.
	exitSessionLost = 69
	// exitNotAcquired (EX_TEMPFAIL): the lock or permit was not acquired within
	// --wait (or at once, for try); trying again later may succeed.
	exitNotAcquired = 75
)

// lockdHelpExitCodes is the exit code section of the commands' help.
const lockdHelpExitCodes = `Exit codes: 0 done; 1 connection or server error; 2 bad flag or argument;
69 the lock, permit or leadership was lost while held; 75 not acquired within --wait (held by
another session). A command run under a lock exits with its own status.`

const (
	lockdOutputTable = "table"
	lockdOutputJSON  = "json"
)

// lockdGlobals are the persistent flags of `cairn lock`, `cairn sem` and
// `cairn election`.
type lockdGlobals struct {
	endpoints  []string
	clusterDir string
	output     string
	timeout    time.Duration
	tls        *clientTLSFlags
}

// newLockdClientCmd builds a parent command (lock, sem, election) with the
// global flags; bad flags of it and of its subcommands exit with exitUsage.
func newLockdClientCmd(use, short, long string, g *lockdGlobals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: long + `

Endpoints come from --endpoints, else from the cluster state file of the local
harness (--cluster-dir, $` + cluster.EnvDir + `, or ` + cluster.DefaultDir + `): the nodes of its
lockd service.

` + lockdHelpExitCodes,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return g.validate()
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&g.endpoints, "endpoints", nil, "comma-separated host:port of lockd nodes (overrides cluster discovery)")
	pf.StringVar(&g.clusterDir, "cluster-dir", "", "cluster directory to discover endpoints from (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	pf.StringVarP(&g.output, "output", "o", lockdOutputTable, "output format: table or json")
	pf.DurationVar(&g.timeout, "timeout", 10*time.Second, "timeout of each request that does not wait for a lock")
	g.tls = addClientTLSFlags(pf)
	return cmd
}

func (g *lockdGlobals) validate() error {
	switch g.output {
	case lockdOutputTable, lockdOutputJSON:
	default:
		return usageErrorf("--output: want table or json, got %q", g.output)
	}
	if g.timeout <= 0 {
		return usageErrorf("--timeout: must be positive, got %v", g.timeout)
	}
	return nil
}

func (g *lockdGlobals) json() bool { return g.output == lockdOutputJSON }

// newClient opens a client to the endpoints of --endpoints or of the local cluster.
func (g *lockdGlobals) newClient() (*client.Client, error) {
	eps, err := serviceEndpoints(g.endpoints, g.clusterDir, "lockd")
	if err != nil {
		return nil, err
	}
	tc, err := g.tls.config(g.clusterDir)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	c, err := client.New(client.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--endpoints: %w", err)}
	}
	return c, nil
}

// run opens a client, runs f under --timeout and Ctrl-C, and closes the client.
func (g *lockdGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	c, err := g.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	return f(ctx, c, cmd.OutOrStdout())
}

// cleanupContext bounds the release and close that end a command, which must
// happen even when the command's context has ended.
func (g *lockdGlobals) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
}

// usageErrorf is a bad flag or argument: exit code exitUsage.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// usageArgs wraps a cobra argument check so that its failure exits with exitUsage.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("%w (usage: %s)", err, cmd.UseLine())}
		}
		return nil
	}
}

// splitCommand splits the arguments of `<name> [-- <command> [args…]]` into the
// name and the command to run (nil without one).
func splitCommand(cmd *cobra.Command, args []string) (string, []string, error) {
	dash := cmd.ArgsLenAtDash()
	switch {
	case dash == -1 && len(args) == 1:
		return args[0], nil, nil
	case dash == 1 && len(args) > 1:
		return args[0], args[1:], nil
	case dash == 1:
		return "", nil, usageErrorf("no command after --")
	case dash == -1 && len(args) > 1:
		return "", nil, usageErrorf("want one <name>, got %d arguments; put the command to run after -- (usage: %s)", len(args), cmd.UseLine())
	default:
		return "", nil, usageErrorf("want one <name> before -- (usage: %s)", cmd.UseLine())
	}
}

// parseSessionID parses --session.
func parseSessionID(s string) (uint64, error) {
	if s == "" {
		return 0, usageErrorf("--session: required (the session id printed by the holder, or listed by 'describe')")
	}
	id, err := strconv.ParseUint(s, 0, 64)
	if err != nil || id == 0 {
		return 0, usageErrorf("--session: want a positive session id, got %q", s)
	}
	return id, nil
}

// defaultOwner is the owner recorded with a grant when --owner is not given.
func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// lockdError turns a client error into the command's error: InvalidArgument
// (a value lockd refuses) exits with exitUsage, prefixed by what, which names
// the flag or argument at fault if known.
func lockdError(what string, err error) error {
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.InvalidArgument {
		if what != "" {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", what, err)}
		}
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

// releaseError explains a failed release or resign of what (`lock "x"`) by
// an explicit --session.
func releaseError(what string, session uint64, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrSessionNotFound):
		return fmt.Errorf("session %d not found: it was closed or has expired, and holds nothing", session)
	case errors.Is(err, client.ErrNotHolder):
		return fmt.Errorf("permission denied: session %d does not hold %s, another session does (see 'describe'): %w", session, what, err)
	case errors.Is(err, client.ErrNotHeld):
		return fmt.Errorf("%s is not held by anyone: %w", what, err)
	}
	return err
}

// errInterrupted is the cause of a context ended by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted")

// lockdSignals relays SIGINT and SIGTERM for the whole life of a command that
// holds something: first to end a wait, then to forward to a child or to end a
// hold. Register it first thing, so that no signal kills the process with the
// default action between the phases.
type lockdSignals struct {
	ch chan os.Signal
}

func notifySignals() (*lockdSignals, func()) {
	s := &lockdSignals{ch: make(chan os.Signal, 4)}
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	return s, func() { signal.Stop(s.ch) }
}

// until returns a context that ends with ctx or at the first signal (cause
// errInterrupted); stop, idempotent, releases it and stops consuming signals.
func (s *lockdSignals) until(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-s.ch:
			cancel(errInterrupted)
		case <-quit:
		case <-ctx.Done():
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			close(quit)
			<-done
			cancel(nil)
		})
	}
}

// listAll pages through a lockd List RPC: list returns the page after a name and
// whether more follow; visit handles one item and returns its name, the cursor
// for the next page.
func listAll[T any](list func(after string) ([]T, bool, error), visit func(T) string) error {
	after := ""
	for {
		page, more, err := list(after)
		if err != nil {
			return err
		}
		for _, item := range page {
			after = visit(item)
		}
		if !more || len(page) == 0 {
			return nil
		}
	}
}
