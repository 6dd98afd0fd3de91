package cached

import (
	"bytes"
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	cachedpeerv1 "cairn.dev/cairn/proto/cairn/cached/peer/v1"
)

// Bounds of one round of a pipeline: the commands held back before they are
// executed, and their argument bytes (which keeps a batch far below the gRPC
// message limit).
const (
	pipelineMaxCmds  = 256
	pipelineMaxBytes = 1 << 20
)

// pipeline holds the commands of a client's pipeline that wait to be run, so
// that the ones owned by other nodes go to each owner in one
// PeerService.Commands call, in parallel across owners. It belongs to one
// respConn and is used only by its goroutine.
//
// Ordering: replies are written in request order. The commands of one owner
// travel in one batch in request order and the owner runs a batch
// sequentially, so commands of the connection on one key apply in order.
// Commands on this node's keys run in order on the connection's goroutine
// while the batches are in flight; their keys are disjoint from the batches'.
// A command that is not a one-key command (multi-key, all-nodes, QUIT,
// unknown) is a barrier: everything queued before it runs first.
type pipeline struct {
	entries []pipeEntry
	groups  []*pipeGroup
	bytes   int
}

// pipeEntry is one queued command; args are owned copies.
type pipeEntry struct {
	args  [][]byte
	cmd   *command // forwarded entries only
	group int      // index in groups; -1: run on this node
	pos   int      // index in the group's batch
}

// pipeGroup is the batch for one owner.
type pipeGroup struct {
	m       ring.Member
	cmds    []*cachedpeerv1.CommandRequest
	replies [][]byte
	err     error
	done    chan struct{} // closed when replies and err are set
}

func (p *pipeline) empty() bool { return len(p.entries) == 0 }

func (p *pipeline) full() bool {
	return len(p.entries) >= pipelineMaxCmds || p.bytes >= pipelineMaxBytes
}

// add queues args (copied) to run on this node, or on m when cmd is non-nil.
func (p *pipeline) add(args [][]byte, cmd *command, m ring.Member) {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	p.bytes += n
	buf := make([]byte, 0, n)
	own := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		own[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	e := pipeEntry{args: own, group: -1}
	if cmd != nil {
		g := -1
		for i, q := range p.groups {
			if q.m.ID == m.ID {
				g = i
				break
			}
		}
		if g < 0 {
			g = len(p.groups)
			p.groups = append(p.groups, &pipeGroup{m: m, done: make(chan struct{})})
		}
		e.cmd, e.group, e.pos = cmd, g, len(p.groups[g].cmds)
		p.groups[g].cmds = append(p.groups[g].cmds, &cachedpeerv1.CommandRequest{Args: own})
	}
	p.entries = append(p.entries, e)
}

func (p *pipeline) reset() {
	clear(p.entries)
	p.entries, p.groups, p.bytes = p.entries[:0], nil, 0
}

// forwardTarget returns the command args name and, when it is a valid
// one-key command whose key another node owns, that owner and true.
func (s *Server) forwardTarget(args [][]byte) (*command, ring.Member, bool) {
	cmd := s.commands.lookup(args[0])
	if cmd == nil || cmd.first == 0 || cmd.merge != nil || cmd.flags&(flagAllNodes|flagOneNode) != 0 ||
		cmd.arity > 0 && len(args) != cmd.arity || cmd.arity < 0 && len(args) < -cmd.arity {
		return cmd, ring.Member{}, false
	}
	m, mine := s.owner(str(args[cmd.first]))
	return cmd, m, !mine
}

// barrier reports whether cmd must not be queued behind other commands.
func barrier(cmd *command) bool {
	return cmd == nil || cmd.merge != nil || cmd.flags&(flagAllNodes|flagOneNode|flagConn|flagGather) != 0
}

// pipelined handles one command of a pipeline (more input is buffered, or
// commands are queued): it queues it, or runs it at once when nothing is
// queued and it is this node's, or runs the queue and then it when it is a
// barrier. Replies stay in request order.
func (c *respConn) pipelined(args [][]byte) {
	s, p := c.r.s, &c.pipe
	cmd, m, fwd := s.forwardTarget(args)
	if c.x.noauth || c.x.multi != nil || fwd && c.x.redirects(m) {
		// exec answers NOAUTH or MOVED, or queues the command for EXEC, in order.
		fwd = false
	}
	if c.x.multi != nil && !barrier(cmd) {
		c.runPipeline()
		s.exec(&c.x, args)
		return
	}
	switch {
	case fwd:
		p.add(args, cmd, m)
	case p.empty():
		s.exec(&c.x, args)
		return
	case barrier(cmd):
		c.runPipeline()
		s.exec(&c.x, args)
		return
	default:
		p.add(args, nil, ring.Member{})
	}
	if p.full() {
		c.runPipeline()
	}
}

// runPipeline runs the queued commands: one Commands call per owner, in
// parallel, while the local ones run in order; then it writes every reply in
// request order and empties the queue. It returns when all calls it started
// have returned.
func (c *respConn) runPipeline() {
	p := &c.pipe
	if p.empty() {
		return
	}
	s, x := c.r.s, &c.x
	for _, g := range p.groups {
		go func() {
			defer close(g.done)
			g.replies, g.err = s.callCommands(x.ctx, g.m, g.cmds)
		}()
	}
	for _, e := range p.entries {
		if e.group < 0 {
			s.exec(x, e.args)
			continue
		}
		g := p.groups[e.group]
		<-g.done
		s.writeForwarded(x, e.cmd, e.args, g, e.pos)
	}
	p.reset()
}

// writeForwarded writes the reply of the pos-th command of g's batch.
func (s *Server) writeForwarded(x *execCtx, cmd *command, args [][]byte, g *pipeGroup, pos int) {
	if status.Code(g.err) == codes.Unimplemented { // an owner without Commands
		s.execRemote(x, cmd, args, g.m)
		return
	}
	if g.err != nil {
		s.forwardFailed(x, cmd, args, g.m, g.err)
		return
	}
	rep, err := parseReply(g.replies[pos])
	if err != nil {
		x.w.Error("ERR " + err.Error())
		return
	}
	x.w.Reply(rep)
}

// callCommands runs cmds, in order, on member m (another node) in one call
// and returns one encoded reply per command.
func (s *Server) callCommands(ctx context.Context, m ring.Member, cmds []*cachedpeerv1.CommandRequest) ([][]byte, error) {
	c, err := s.peerClient(m)
	if err != nil {
		return nil, err
	}
	s.metrics.forwarded.Add(int64(len(cmds)))
	fctx, cancel := s.forwardContext(ctx)
	defer cancel()
	out, err := c.Commands(fctx, &cachedpeerv1.CommandsRequest{Commands: cmds})
	if err != nil {
		return nil, err
	}
	if got := len(out.GetReplies()); got != len(cmds) {
		return nil, fmt.Errorf("cached: %s answered %d replies to %d commands", m.ID, got, len(cmds))
	}
	return out.GetReplies(), nil
}

// execBatchToBytes runs cmds locally, in order, and returns their encoded
// replies (PeerService.Commands).
func (s *Server) execBatchToBytes(ctx context.Context, cmds []*cachedpeerv1.CommandRequest) [][]byte {
	var buf bytes.Buffer
	x := &execCtx{s: s, ctx: ctx, w: resp.NewWriter(&buf), local: true}
	ends := make([]int, len(cmds))
	for i, c := range cmds {
		s.exec(x, c.GetArgs())
		_ = x.w.Flush()
		ends[i] = buf.Len()
	}
	b := buf.Bytes()
	out := make([][]byte, len(cmds))
	start := 0
	for i, end := range ends {
		out[i] = b[start:end:end]
		start = end
	}
	return out
}
