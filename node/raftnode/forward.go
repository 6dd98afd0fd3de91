package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// forwarder coalesces the commands a follower forwards to the leader: concurrent
// Apply calls share ApplyBatch RPCs, at most maxForwardInflight at a time, so a
// busy follower sends one RPC per batch rather than one per write. A lone command
// is sent at once, so an idle follower adds no latency.
type forwarder struct {
	n *Node

	mu       sync.Mutex // protects the fields below
	queue    []*forwardCall
	inflight int
}

const (
	maxForwardInflight = 4
	maxForwardBatch    = 256
	// forwardConnectWait is how long a forward waits for its connection to
	// the leader to be ready before it reports no leader, so that Apply waits
	// for a new leader and tries again. A leader that was just killed leaves a
	// connection that is reconnecting; a call sent on it would fail before
	// reaching anyone, and only a call on a ready connection can have been
	// applied when it fails.
	forwardConnectWait = 100 * time.Millisecond
)

type forwardCall struct {
	ctx  context.Context
	cmd  []byte
	done chan struct{}
	res  []byte
	err  error
}

func newForwarder(n *Node) *forwarder { return &forwarder{n: n} }

// apply forwards one command and waits for its result.
func (f *forwarder) apply(ctx context.Context, cmd []byte) ([]byte, error) {
	call := &forwardCall{ctx: ctx, cmd: cmd, done: make(chan struct{})}
	f.mu.Lock()
	f.queue = append(f.queue, call)
	f.mu.Unlock()
	f.kick()
	select {
	case <-call.done:
		return call.res, call.err
	case <-ctx.Done():
		// The command may already be on its way to the leader.
		return nil, fmt.Errorf("%w: %w", ErrUnknownOutcome, ctx.Err())
	}
}

// kick starts a sender if there is queued work and a free slot.
func (f *forwarder) kick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.queue) > 0 && f.inflight < maxForwardInflight {
		n := len(f.queue)
		if n > maxForwardBatch {
			n = maxForwardBatch
		}
		batch := f.queue[:n:n]
		f.queue = append([]*forwardCall(nil), f.queue[n:]...)
		f.inflight++
		if !f.n.goFunc(func() { f.send(batch) }) {
			f.inflight--
			for _, c := range batch {
				c.err = ErrShutdown
				close(c.done)
			}
		}
	}
}

func (f *forwarder) send(batch []*forwardCall) {
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
		f.kick()
	}()
	// Drop callers that gave up before anything was sent: not applied.
	live := batch[:0]
	deadline := time.Now().Add(f.n.cfg.ApplyTimeout)
	for _, c := range batch {
		if c.ctx.Err() != nil {
			c.err = fmt.Errorf("%w: %w", ErrNoLeader, c.ctx.Err())
			close(c.done)
			continue
		}
		if dl, ok := c.ctx.Deadline(); ok && dl.After(deadline) {
			deadline = dl
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	fail := func(err error) {
		for _, c := range live {
			c.err = err
			close(c.done)
		}
	}
	conn, err := f.n.LeaderConn()
	if err != nil {
		fail(err)
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := awaitReady(ctx, conn, forwardConnectWait); err != nil {
		// Nothing was sent: not applied, and Apply tries again.
		fail(fmt.Errorf("%w: leader %s: %w", ErrNoLeader, conn.Target(), err))
		return
	}
	client := raftv1.NewRaftNodeServiceClient(conn)
	req := &raftv1.ApplyBatchRequest{Commands: make([][]byte, len(live))}
	for i, c := range live {
		req.Commands[i] = c.cmd
	}
	resp, err := client.ApplyBatch(ctx, req)
	if err != nil {
		fail(errorFromStatus(err, true))
		return
	}
	if len(resp.GetResults()) != len(live) {
		fail(fmt.Errorf("%w: leader returned %d results for %d commands", ErrUnknownOutcome, len(resp.GetResults()), len(live)))
		return
	}
	for i, c := range live {
		r := resp.GetResults()[i]
		c.res, c.err = r.GetResult(), applyResultError(r)
		close(c.done)
	}
}

// awaitReady waits until conn is ready, at most wait and not past ctx, asking it
// to connect if it is idle.
func awaitReady(ctx context.Context, conn *grpc.ClientConn, wait time.Duration) error {
	st := conn.GetState()
	if st == connectivity.Ready {
		return nil
	}
	conn.Connect()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for st != connectivity.Ready {
		if !conn.WaitForStateChange(wctx, st) {
			return fmt.Errorf("connection %s, not ready", st)
		}
		st = conn.GetState()
	}
	return nil
}

// applyBatchLocal proposes every command, then waits for each; it runs on the leader.
func (n *Node) applyBatchLocal(ctx context.Context, cmds [][]byte) []*raftv1.ApplyResult {
	res, errs := n.applyAllLocal(ctx, cmds)
	out := make([]*raftv1.ApplyResult, len(cmds))
	for i := range cmds {
		out[i] = applyResultFromError(errs[i])
		out[i].Result = res[i]
	}
	return out
}

// applyAllLocal hands cmds to Raft one after another without waiting, so that
// the leader loop usually takes them in one batch (one append, one fsync, one
// message per follower), then waits for each.
func (n *Node) applyAllLocal(ctx context.Context, cmds [][]byte) ([][]byte, []error) {
	if err := n.awaitQuorum(ctx); err != nil {
		errs := make([]error, len(cmds))
		for i := range errs {
			errs[i] = err
		}
		return make([][]byte, len(cmds)), errs
	}
	futures := make([]raft.ApplyFuture, len(cmds))
	timeout := n.applyTimeout(ctx)
	start := time.Now()
	for i, cmd := range cmds {
		futures[i] = n.raft.Apply(cmd, timeout)
	}
	res := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	for i, f := range futures {
		res[i], errs[i] = n.futureResult(f)
		if errs[i] == nil {
			observe(n.metrics.proposeDuration, start)
		}
	}
	return res, errs
}

// futureResult waits for an apply future and decodes the state machine's answer.
func (n *Node) futureResult(f raft.ApplyFuture) ([]byte, error) {
	// A leader that cannot reach a quorum steps down within LeaderLeaseTimeout, which
	// fails the future with ErrLeadershipLost, so this wait is bounded.
	if err := f.Error(); err != nil {
		return nil, mapRaftError(err)
	}
	switch r := f.Response().(type) {
	case []byte:
		return r, nil
	case error:
		return nil, fmt.Errorf("%w: %w", ErrUnknownOutcome, r)
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("raftnode: unexpected apply response %T", r)
	}
}

// Result codes of ApplyResult.error.
const (
	codeNotLeader      = "not_leader"
	codeNoLeader       = "no_leader"
	codeNoQuorum       = "no_quorum"
	codeUnknownOutcome = "unknown_outcome"
	codeShutdown       = "shutdown"
	codeInternal       = "internal"
)

func applyResultFromError(err error) *raftv1.ApplyResult {
	if err == nil {
		return &raftv1.ApplyResult{}
	}
	code := codeInternal
	switch {
	case errors.Is(err, ErrUnknownOutcome):
		code = codeUnknownOutcome
	case errors.Is(err, ErrNoQuorum):
		code = codeNoQuorum
	case errors.Is(err, ErrNotLeader):
		code = codeNotLeader
	case errors.Is(err, ErrNoLeader):
		code = codeNoLeader
	case errors.Is(err, ErrShutdown):
		code = codeShutdown
	}
	return &raftv1.ApplyResult{Error: code, Message: err.Error()}
}

func applyResultError(r *raftv1.ApplyResult) error {
	switch r.GetError() {
	case "":
		return nil
	case codeNotLeader:
		return fmt.Errorf("%w (forwarded): %s", ErrNotLeader, r.GetMessage())
	case codeNoLeader:
		return fmt.Errorf("%w (forwarded): %s", ErrNoLeader, r.GetMessage())
	case codeNoQuorum:
		return fmt.Errorf("%w (forwarded): %s", ErrNoQuorum, r.GetMessage())
	case codeShutdown:
		// The leader was shutting down: the command may have been proposed.
		return fmt.Errorf("%w: leader shutting down: %s", ErrUnknownOutcome, r.GetMessage())
	case codeUnknownOutcome:
		return fmt.Errorf("%w (forwarded): %s", ErrUnknownOutcome, r.GetMessage())
	default:
		return errors.New(r.GetMessage())
	}
}
