package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/lockd/client"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// newElectionCmd is `cairn election`: lockd leader elections from the command line.
func newElectionCmd() *cobra.Command {
	g := &lockdGlobals{}
	cmd := newLockdClientCmd("election",
		"Campaign in, read, observe and resign lockd leader elections",
		`Campaign in, read, observe and resign leader elections of lockd. An election is
a lock whose holder publishes a value (typically its address); candidates queue
in FIFO order, and the leadership carries a fencing token like a lock.

  cairn election campaign svc node-a --ttl 10s &   # blocks until elected, then leads
  cairn election leader svc                        # node-a`, g)
	cmd.AddCommand(newElectionCampaignCmd(g), newElectionLeaderCmd(g), newElectionObserveCmd(g), newElectionResignCmd(g))
	return cmd
}

// leaderView is an election's leader in the commands' output. Value is UTF-8
// text, or base64 with ValueEncoding "base64" (see encodeBytes).
type leaderView struct {
	Election      string    `json:"election"`
	Value         string    `json:"value"`
	ValueEncoding string    `json:"value_encoding,omitempty"`
	Token         uint64    `json:"token"`
	Session       uint64    `json:"session"`
	Since         time.Time `json:"since"`
}

func leaderViewOf(l *client.Leader) leaderView {
	v := leaderView{Election: l.Election, Token: l.Token, Session: l.Session, Since: l.Since}
	v.Value, v.ValueEncoding = encodeBytes(l.Value)
	return v
}

func newElectionCampaignCmd(g *lockdGlobals) *cobra.Command {
	var (
		ttl   time.Duration
		value *valueInput
	)
	cmd := &cobra.Command{
		Use:   "campaign <election> (<value> | - | --file PATH)",
		Short: "Block until elected, print 'elected: <value> (token N)', then lead until SIGINT/SIGTERM",
		Long: `Campaign in <election> with <value>: block (in FIFO order behind earlier
candidates) until elected, print "elected: <value> (token N)" (--output json: election,
value, token, session, since), then keep the leadership, renewing the session,
until SIGINT or SIGTERM, which resign it (exit 0). If the session is lost, or
'cairn election resign --session' ends the leadership from elsewhere (noticed
within a third of the TTL), the leadership is gone: cairn exits with 6. The
session id is printed on stderr, for 'cairn election resign --session'.

The value is the <value> argument, or with '-' everything on stdin, or with
--file PATH the file's content.

` + exitCodesHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ttl <= 0 {
				return usageErrorf("--ttl: must be positive, got %v", ttl)
			}
			if args[0] == "" {
				return usageErrorf("<election>: must not be empty")
			}
			val, err := value.read(cmd, args, 1)
			if err != nil {
				return err
			}
			return g.campaign(cmd, args[0], val, ttl)
		},
	}
	value = addValueInput(cmd)
	cmd.Args = value.valueArgs(1)
	cmd.Flags().DurationVar(&ttl, "ttl", 10*time.Second, "session TTL: the leadership ends this long after cairn stops renewing it")
	return cmd
}

func (g *lockdGlobals) campaign(cmd *cobra.Command, election string, value []byte, ttl time.Duration) error {
	// Before the session is created: a bad name must have no side effect.
	if err := client.ValidateName("election", election); err != nil {
		return lockdError("", err)
	}
	sigs, stopSignals := notifySignals()
	defer stopSignals()
	c, err := g.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	base := cmd.Context()
	stderr := cmd.ErrOrStderr()

	ctx, stop := sigs.until(base)
	defer stop()
	tctx, cancel := context.WithTimeout(ctx, g.timeout)
	s, err := c.NewSession(tctx, ttl)
	cancel()
	if err != nil {
		return lockdError("--ttl", fmt.Errorf("create session: %w", err))
	}
	defer func() {
		cctx, cancel := g.cleanupContext(base)
		defer cancel()
		_ = s.Close(cctx)
	}()
	fmt.Fprintf(stderr, "campaigning in election %q as %q (session %d)\n", election, abbreviate(value), s.ID())

	// The campaign ends with a signal, the command's context or the session.
	cctx, cancelCampaign := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.Done():
			cancelCampaign()
		case <-cctx.Done():
		}
	}()
	l, err := s.Campaign(cctx, election, value)
	cancelCampaign()
	switch {
	case err == nil:
	case s.Err() != nil:
		return &exitError{code: exitLost, err: fmt.Errorf("session %d lost while campaigning in %q: %v", s.ID(), election, s.Err())}
	case ctx.Err() != nil:
		return fmt.Errorf("stopped campaigning in %q before being elected", election)
	default:
		return lockdError("<election>", err)
	}
	stop() // from now on signals resign, through sigs.ch

	err = g.printer(cmd).print(leaderViewOf(l), func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "elected: %s (token %d)\n", abbreviate(l.Value), l.Token)
		return err
	})
	if err != nil {
		return err
	}
	revoked, stopWatch := watchHeld(base, s, lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, election)
	defer stopWatch()
	select {
	case <-sigs.ch:
	case <-base.Done():
	case <-s.Done():
		return &exitError{code: exitLost, err: fmt.Errorf("leadership of %q (token %d) lost: %v", election, l.Token, s.Err())}
	case <-revoked:
		return &exitError{code: exitLost, err: fmt.Errorf("leadership of %q (token %d) lost: resigned by another client", election, l.Token)}
	}
	rctx, rcancel := g.cleanupContext(base)
	defer rcancel()
	if err := s.Resign(rctx, election); err != nil && !errors.Is(err, client.ErrNotHolder) && !errors.Is(err, client.ErrNotHeld) {
		return fmt.Errorf("resign %q: %w (closing the session ends the leadership)", election, err)
	}
	fmt.Fprintf(stderr, "resigned from election %q\n", election)
	return nil
}

func newElectionLeaderCmd(g *lockdGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "leader <election>",
		Short: "Print the leader's value (--output json: value, token, session); exit 3 if there is none",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				l, err := c.Leader(ctx, args[0])
				if err != nil {
					return lockdError("<election>", err)
				}
				if l == nil {
					return withExit(exitNotFound, fmt.Errorf("election %q: no leader", args[0]))
				}
				return g.printer(cmd).print(leaderViewOf(l), func(w io.Writer) error {
					return textValue(w, l.Value)
				})
			})
		},
	}
}

// observationView is one line of `election observe --output json`; Leader is
// null when the election has none.
type observationView struct {
	Election string      `json:"election"`
	Leader   *leaderView `json:"leader"`
	Index    uint64      `json:"index"`
}

func newElectionObserveCmd(g *lockdGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "observe <election>",
		Short: "Print the leadership of an election, then every change, until Ctrl-C",
		Long: `Print the current leadership of <election>, then each change as it happens,
until SIGINT or SIGTERM: "leader: <value> (session S, token N)" or "no leader"
(--output json: one object per line, leader null when none). When the node it
reads from goes away it resumes on another one; changes in between may be
skipped, but lines are never repeated or out of order.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.newClient()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			w := cmd.OutOrStdout()
			for o := range c.Observe(ctx, args[0]) {
				if err := printObservation(w, g.json(), args[0], o); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func printObservation(w io.Writer, asJSON bool, election string, o client.Observation) error {
	if asJSON {
		v := observationView{Election: election, Index: o.Index}
		if o.Leader != nil {
			lv := leaderViewOf(o.Leader)
			v.Leader = &lv
		}
		return writeJSON(w, v)
	}
	var err error
	if o.Leader == nil {
		_, err = fmt.Fprintln(w, "no leader")
	} else {
		_, err = fmt.Fprintf(w, "leader: %s (session %d, token %d)\n", abbreviate(o.Leader.Value), o.Leader.Session, o.Leader.Token)
	}
	return err
}

func newElectionResignCmd(g *lockdGlobals) *cobra.Command {
	var session string
	cmd := &cobra.Command{
		Use:   "resign <election> --session ID",
		Short: "End the leadership of a session that lives elsewhere",
		Long: `End the leadership of <election> held by the session --session (printed on
stderr by 'cairn election campaign', and in 'leader --output json'); the next
candidate is elected. The session itself stays alive.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseSessionID(session)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.ResignFor(ctx, id, args[0]); err != nil {
					return lockdError("<election>", releaseError(fmt.Sprintf("election %q", args[0]), id, err))
				}
				fmt.Fprintf(w, "session %d resigned from election %q\n", id, args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&session, "session", "", "id of the leading session (required)")
	return cmd
}

// abbreviate shows a value inside a message: as text when it is short UTF-8
// without line breaks, else as its size ("<2048 bytes>").
func abbreviate(b []byte) string {
	if len(b) <= 80 && utf8.Valid(b) && !bytes.ContainsAny(b, "\r\n") {
		return string(b)
	}
	return fmt.Sprintf("<%d bytes>", len(b))
}
