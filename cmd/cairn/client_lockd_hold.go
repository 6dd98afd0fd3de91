package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/lockd/client"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// acquireSpec is one `cairn lock acquire` or `cairn sem acquire`: what to take,
// and how, for holdGrant.
type acquireSpec struct {
	// kind is "lock" or "semaphore", for messages.
	kind string
	// ref is the kind of resource, to tell whether the session still holds it.
	ref lockdv1.ResourceKind
	// env prefixes the variables given to the command: CAIRN_LOCK, CAIRN_SEM.
	env   string
	name  string
	owner string
	ttl   time.Duration
	// wait bounds a blocking acquire; 0 tries once.
	wait time.Duration
	// acquire takes the grant for s, blocking in the queue if block.
	acquire func(ctx context.Context, s *client.Session, block bool) (*client.Lock, error)
	// release gives the grant up.
	release func(ctx context.Context, s *client.Session) error
	// holders says who holds name now, for the not-acquired message: "held by
	// …" ("" if unknown).
	holders func(ctx context.Context, c *client.Client) string
	// extra fields of the --output json line of a hold.
	extra map[string]any
}

// childWaitDelay bounds how long, after the command exits, cairn waits for
// output that its own children still write to pipes it holds.
const childWaitDelay = 2 * time.Second

// holdGrant is the whole life of `acquire`: create a session with the TTL (kept
// alive throughout), acquire (waiting up to --wait), then either run argv under
// the grant or, without argv, print the token and hold until SIGINT or SIGTERM;
// finally release if the session still holds the grant, and close the session.
//
// While argv runs, SIGINT and SIGTERM are forwarded to it, and if the session
// is lost cairn says so on stderr and sends it SIGTERM: the grant may already
// belong to another session. The result is nil or an *exitError: the command's
// exit status, exitConflict, exitLost, exitUsage, or 1.
func (g *lockdGlobals) holdGrant(cmd *cobra.Command, spec acquireSpec, argv []string) error {
	// Before the session is created: a bad name must have no side effect.
	if err := client.ValidateName("name", spec.name); err != nil {
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
	tctx, cancel := context.WithTimeout(ctx, g.timeout)
	s, err := c.NewSession(tctx, spec.ttl)
	cancel()
	stop()
	if err != nil {
		return lockdError("--ttl", fmt.Errorf("create session: %w", err))
	}
	defer func() {
		cctx, cancel := g.cleanupContext(base)
		defer cancel()
		// Closing releases whatever is still held, e.g. after a failed acquire
		// whose outcome is unknown; after a loss it fails harmlessly.
		_ = s.Close(cctx)
	}()

	l, err := g.acquireOnce(base, sigs, c, s, spec)
	if err != nil {
		return err
	}
	if len(argv) == 0 {
		return g.hold(cmd, sigs, s, l, spec)
	}
	return g.runUnder(cmd, sigs, s, l, spec, argv, stderr)
}

// acquireOnce takes the grant, waiting up to spec.wait, and turns a timeout or
// a held lock into exitConflict with the holders named.
func (g *lockdGlobals) acquireOnce(base context.Context, sigs *lockdSignals, c *client.Client, s *client.Session, spec acquireSpec) (*client.Lock, error) {
	ctx, stop := sigs.until(base)
	defer stop()
	limit := g.timeout // a try does not block
	if spec.wait > 0 {
		limit = spec.wait
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	l, err := spec.acquire(actx, s, spec.wait > 0)
	cancel()
	switch {
	case err == nil:
		return l, nil
	case errors.Is(context.Cause(ctx), errInterrupted):
		return nil, fmt.Errorf("interrupted while waiting for %s %q", spec.kind, spec.name)
	case errors.Is(err, client.ErrLocked),
		spec.wait > 0 && status.Code(err) == codes.DeadlineExceeded && base.Err() == nil:
		when := "now"
		if spec.wait > 0 {
			when = "within " + spec.wait.String()
		}
		msg := fmt.Sprintf("%s %q not acquired %s", spec.kind, spec.name, when)
		dctx, cancel := g.cleanupContext(base)
		defer cancel()
		if h := spec.holders(dctx, c); h != "" {
			msg += ": " + h
		}
		return nil, &exitError{code: exitConflict, err: errors.New(msg)}
	}
	return nil, lockdError("", err)
}

// hold prints the grant and keeps it until a signal, the end of the command's
// context or the loss of the session.
func (g *lockdGlobals) hold(cmd *cobra.Command, sigs *lockdSignals, s *client.Session, l *client.Lock, spec acquireSpec) error {
	out := cmd.OutOrStdout()
	if g.json() {
		v := map[string]any{"name": l.Name, "token": l.Token, "session": l.Session}
		owner, enc := encodeBytes(l.Owner)
		v["owner"] = owner
		if enc != "" {
			v["owner_encoding"] = enc
		}
		for k, x := range spec.extra {
			v[k] = x
		}
		if err := writeJSON(out, v); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(out, l.Token)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "holding %s %q (token %d, session %d); SIGINT or SIGTERM releases it\n", spec.kind, spec.name, l.Token, l.Session)
	revoked, stopWatch := watchHeld(cmd.Context(), s, spec.ref, spec.name)
	defer stopWatch()
	select {
	case <-sigs.ch:
	case <-cmd.Context().Done():
	case <-s.Done():
		return &exitError{code: exitLost, err: fmt.Errorf("%s %q (token %d) lost: %v", spec.kind, spec.name, l.Token, s.Err())}
	case <-revoked:
		return &exitError{code: exitLost, err: fmt.Errorf("%s %q (token %d) lost: released by another client", spec.kind, spec.name, l.Token)}
	}
	return g.releaseIfHeld(cmd, s, spec)
}

// runUnder runs argv while holding l and returns its exit status.
func (g *lockdGlobals) runUnder(cmd *cobra.Command, sigs *lockdSignals, s *client.Session, l *client.Lock, spec acquireSpec, argv []string, stderr io.Writer) error {
	child := exec.Command(argv[0], argv[1:]...)
	child.Stdin = cmd.InOrStdin()
	child.Stdout = cmd.OutOrStdout()
	child.Stderr = stderr
	child.WaitDelay = childWaitDelay
	child.Env = append(os.Environ(),
		spec.env+"_TOKEN="+strconv.FormatUint(l.Token, 10),
		spec.env+"_NAME="+spec.name,
		spec.env+"_SESSION="+strconv.FormatUint(l.Session, 10),
	)
	if err := child.Start(); err != nil {
		rerr := g.releaseIfHeld(cmd, s, spec)
		code := 126 // found but could not be run, as in a shell
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = 127
		}
		return &exitError{code: code, err: errors.Join(fmt.Errorf("run %s: %w", argv[0], err), rerr)}
	}
	waited := make(chan error, 1)
	go func() { waited <- child.Wait() }()

	revoked, stopWatch := watchHeld(cmd.Context(), s, spec.ref, spec.name)
	defer stopWatch()
	var (
		lost     bool
		waitErr  error
		ctxDone  = cmd.Context().Done()
		sessDone = s.Done()
	)
	lose := func(why string) {
		sessDone, revoked, lost = nil, nil, true
		fmt.Fprintf(stderr, "cairn: %s %q lost (%s): another session may hold it now; sending SIGTERM to %s (pid %d)\n",
			spec.kind, spec.name, why, argv[0], child.Process.Pid)
		_ = child.Process.Signal(syscall.SIGTERM)
	}
loop:
	for {
		select {
		case sig := <-sigs.ch:
			_ = child.Process.Signal(sig)
		case <-ctxDone:
			ctxDone = nil
			_ = child.Process.Signal(syscall.SIGTERM)
		case <-sessDone:
			lose(s.Err().Error())
		case <-revoked:
			lose("released by another client")
		case waitErr = <-waited:
			break loop
		}
	}
	code, err := exitStatus(argv[0], waitErr)
	if err != nil {
		return err
	}
	if lost {
		return &exitError{code: exitLost, err: fmt.Errorf("%s %q was lost while %s ran (it exited with status %d)", spec.kind, spec.name, argv[0], code)}
	}
	if rerr := g.releaseIfHeld(cmd, s, spec); rerr != nil {
		fmt.Fprintf(stderr, "cairn: %v\n", rerr)
	}
	if code != 0 {
		return &exitError{code: code, err: fmt.Errorf("%s exited with status %d", argv[0], code)}
	}
	return nil
}

// exitStatus is the shell-style exit status of a finished command: its exit
// code, or 128+N when signal N killed it.
func exitStatus(name string, err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if errors.Is(err, exec.ErrWaitDelay) {
			return 0, nil // it exited 0; a child of its own kept the output open
		}
		return 0, fmt.Errorf("wait for %s: %w", name, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}

// releaseIfHeld releases the grant unless the session was lost; a grant that is
// gone already (released from elsewhere) is not an error.
func (g *lockdGlobals) releaseIfHeld(cmd *cobra.Command, s *client.Session, spec acquireSpec) error {
	if s.Err() != nil {
		return nil
	}
	ctx, cancel := g.cleanupContext(cmd.Context())
	defer cancel()
	err := spec.release(ctx, s)
	if err == nil || errors.Is(err, client.ErrNotHolder) || errors.Is(err, client.ErrNotHeld) {
		return nil
	}
	return fmt.Errorf("release %s %q: %w (closing the session releases it)", spec.kind, spec.name, err)
}

// watchHeld polls, every third of the session's TTL (as often as it is
// renewed), whether the session still holds the resource, and closes revoked
// when it does not: someone released it with an explicit session id ('cairn
// lock release --session'). Failed polls are ignored: losing the session is
// reported by Session.Done. stop ends the poller and waits for it.
func watchHeld(ctx context.Context, s *client.Session, kind lockdv1.ResourceKind, name string) (revoked <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(s.TTL()/3, 50*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			info, err := s.Describe(ctx)
			if err != nil {
				continue
			}
			if !holds(info, kind, name) {
				close(ch)
				return
			}
		}
	}()
	return ch, func() {
		cancel()
		<-done
	}
}

func holds(info *lockdv1.SessionInfo, kind lockdv1.ResourceKind, name string) bool {
	for _, r := range info.GetHeld() {
		if r.GetKind() == kind && r.GetName() == name {
			return true
		}
	}
	return false
}
