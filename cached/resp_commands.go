package cached

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	cachedpeerv1 "cairn.dev/cairn/proto/cairn/cached/peer/v1"
)

// Redis error texts, exactly as Redis writes them.
const (
	errNotInteger = "ERR value is not an integer or out of range"
	errSyntax     = "ERR syntax error"
	errOverflow   = "ERR increment or decrement would overflow"
	errDBIndex    = "ERR DB index is out of range"
	errOOM        = "OOM command not allowed when used memory > 'maxmemory'."
	errTooLarge   = "ERR string exceeds maximum allowed size"
	errNoAuth     = "NOAUTH Authentication required."
	errWrongPass  = "WRONGPASS invalid username-password pair or user is disabled."
	errNotFloat   = "ERR value is not a valid float"
	errNaNOrInf   = "ERR increment would produce NaN or Infinity"
	errNoPassword = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errCrossSlot  = "CROSSSLOT Keys in request don't hash to the same slot"
)

// execCtx is the state of one RESP client (or of one peer Command call).
type execCtx struct {
	s     *Server
	ctx   context.Context
	w     *resp.Writer
	local bool // serve every key from the local store (a peer's Command)
	id    int64
	addr  string
	name  string // CLIENT SETNAME
	quit  bool
	// noauth says the client has yet to AUTH (Config.RESPPassword is set):
	// every command but AUTH and QUIT gets NOAUTH. Only RESP client
	// connections set it; contexts made for peers and split commands do not.
	noauth bool
	// clusterAware: a RESP client that is a Redis Cluster client, or any
	// with resp_cluster_redirect always (see resp_cluster.go).
	clusterAware bool

	// MULTI state (resp_multi.go): the queued transaction, nil outside
	// MULTI, and the keys WATCHed with the stamps they had.
	multi   *multiState
	watches []watchedKey
	// repl holds the keys written by the command running, to copy to their
	// replicas once it has released the transaction gate (see runLocal).
	repl []string
}

// cmdFlags describe a command for routing.
type cmdFlags uint16

const (
	flagWrite cmdFlags = 1 << iota
	flagRead
	flagAllNodes // run on every member (FLUSHALL; with merge, DBSIZE)
	// flagOneNode: a multi-key command that runs whole on the one node
	// owning all its keys (MSETNX), refused with a CROSSSLOT error when
	// its keys have several owners.
	flagOneNode
	// flagNoGate: run without the transaction gate (see runLocal): the
	// command takes it itself (EXEC) or calls other nodes (KEYS, SCAN).
	flagNoGate
	// flagConn: a connection-state command that is never queued by MULTI
	// (MULTI, EXEC, DISCARD, WATCH, QUIT).
	flagConn
	// flagInternal: node-to-node only (x.local); unknown to clients.
	flagInternal
	// flagGather: reads every member's keys (KEYS, SCAN); in a transaction
	// it counts as spanning every node.
	flagGather
)

// command is one entry of the command table. Keys are at argument positions
// first, first+step, … up to last (-1: the last argument); first 0 means the
// command has no keys and runs where it was received.
type command struct {
	name              string
	arity             int // Redis convention: n exact, -n at least n (the name counts)
	first, last, step int
	flags             cmdFlags
	run               func(x *execCtx, args [][]byte)
	// miss writes the reply for a read whose owner and replicas did not answer.
	miss func(w *resp.Writer)
	// merge combines the replies of a multi-key command split by owner; nil
	// for single-key commands.
	merge func(x *execCtx, nkeys int, parts []splitPart)
	// check, if set, validates a multi-key command on the node that splits
	// it by owner, before any part runs; it writes the error and reports
	// false to refuse the whole command.
	check func(x *execCtx, args [][]byte) bool
}

// commandTable maps lower-case names to commands.
type commandTable struct {
	byName map[string]*command
	list   []*command // the commands clients see (not flagInternal)
}

func newCommandTable() *commandTable {
	nilMiss := func(w *resp.Writer) { w.NullBulk() }
	zeroMiss := func(w *resp.Writer) { w.Integer(0) }
	minus2Miss := func(w *resp.Writer) { w.Integer(-2) }
	emptyMiss := func(w *resp.Writer) { w.BulkString("") }
	list := []*command{
		{name: "get", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdGet, miss: nilMiss},
		{name: "set", arity: -3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdSet},
		{name: "setnx", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdSetNX},
		{name: "setex", arity: 4, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdSetEx(time.Second)},
		{name: "psetex", arity: 4, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdSetEx(time.Millisecond)},
		{name: "getset", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdGetSet},
		{name: "getex", arity: -2, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdGetEx},
		{name: "del", arity: -2, first: 1, last: -1, step: 1, flags: flagWrite, run: cmdDel, merge: mergeSum},
		{name: "unlink", arity: -2, first: 1, last: -1, step: 1, flags: flagWrite, run: cmdDel, merge: mergeSum},
		{name: "exists", arity: -2, first: 1, last: -1, step: 1, flags: flagRead, run: cmdExists, miss: zeroMiss, merge: mergeSum},
		{name: "expire", arity: -3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdExpire("expire", time.Second, false)},
		{name: "pexpire", arity: -3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdExpire("pexpire", time.Millisecond, false)},
		{name: "expireat", arity: -3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdExpire("expireat", time.Second, true)},
		{name: "pexpireat", arity: -3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdExpire("pexpireat", time.Millisecond, true)},
		{name: "ttl", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdTTL(time.Second, false), miss: minus2Miss},
		{name: "pttl", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdTTL(time.Millisecond, false), miss: minus2Miss},
		{name: "expiretime", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdTTL(time.Second, true), miss: minus2Miss},
		{name: "pexpiretime", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdTTL(time.Millisecond, true), miss: minus2Miss},
		{name: "persist", arity: 2, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdPersist},
		{name: "incr", arity: 2, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdIncr(1, false)},
		{name: "decr", arity: 2, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdIncr(-1, false)},
		{name: "incrby", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdIncr(1, true)},
		{name: "decrby", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdIncr(-1, true)},
		{name: "incrbyfloat", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdIncrByFloat},
		{name: "mget", arity: -2, first: 1, last: -1, step: 1, flags: flagRead, run: cmdMGet, miss: nilMiss, merge: mergeArray},
		{name: "mset", arity: -3, first: 1, last: -1, step: 2, flags: flagWrite, run: cmdMSet, merge: mergeOK, check: (*execCtx).checkMSet},
		{name: "msetnx", arity: -3, first: 1, last: -1, step: 2, flags: flagWrite | flagOneNode, run: cmdMSetNX},
		{name: "append", arity: 3, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdAppend},
		{name: "strlen", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdStrlen, miss: zeroMiss},
		{name: "getrange", arity: 4, first: 1, last: 1, step: 1, flags: flagRead, run: cmdGetRange, miss: emptyMiss},
		{name: "substr", arity: 4, first: 1, last: 1, step: 1, flags: flagRead, run: cmdGetRange, miss: emptyMiss},
		{name: "setrange", arity: 4, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdSetRange},
		{name: "getdel", arity: 2, first: 1, last: 1, step: 1, flags: flagWrite, run: cmdGetDel},
		{name: "ping", arity: -1, run: cmdPing},
		{name: "echo", arity: 2, run: func(x *execCtx, a [][]byte) { x.w.Bulk(a[1]) }},
		{name: "info", arity: -1, run: cmdInfo},
		{name: "dbsize", arity: 1, flags: flagAllNodes, run: cmdDBSize, merge: mergeSum},
		{name: "flushall", arity: -1, flags: flagAllNodes, run: cmdFlush},
		{name: "flushdb", arity: -1, flags: flagAllNodes, run: cmdFlush},
		{name: "select", arity: 2, run: cmdSelect},
		{name: "command", arity: -1, run: cmdCommand},
		{name: "client", arity: -2, run: cmdClient},
		{name: "config", arity: -2, run: cmdConfig},
		{name: "quit", arity: -1, flags: flagConn, run: func(x *execCtx, _ [][]byte) { x.quit = true; x.w.SimpleString("OK") }},
		{name: "auth", arity: -2, run: cmdAuth},
		{name: "hello", arity: -1, run: cmdHello},
	}
	list = append(list, clusterCommands()...)
	list = append(list, hashCommands()...)
	list = append(list, keyspaceCommands()...)
	list = append(list, multiCommands()...)
	t := &commandTable{byName: make(map[string]*command, len(list))}
	for _, c := range list {
		t.byName[c.name] = c
		if c.flags&flagInternal == 0 {
			t.list = append(t.list, c)
		}
	}
	return t
}

// lookup finds a command by name, case-insensitively, without allocating.
func (t *commandTable) lookup(name []byte) *command {
	var buf [16]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return t.byName[string(buf[:len(name)])]
}

// exec runs one command and writes its reply to x.w. Keys owned by another
// node are executed there (PeerService.Command) unless x.local.
func (s *Server) exec(x *execCtx, args [][]byte) { s.execMay(x, args, true) }

// execNoWait is exec for the commands that wait for no other node: it runs
// args and reports true unless that means a call to another node
// (forwarding, a split multi-key command, FLUSHALL, or, with Replicas > 1,
// the copy of a write); then it writes nothing and reports false. The RESP
// event loop runs what it can this way and hands the rest to a goroutine.
func (s *Server) execNoWait(x *execCtx, args [][]byte) bool { return s.execMay(x, args, false) }

func (s *Server) execMay(x *execCtx, args [][]byte, wait bool) bool {
	cmd := s.commands.lookup(args[0])
	if cmd == nil || cmd.flags&flagInternal != 0 && !x.local {
		x.queueFailed()
		x.w.Error(unknownCommand(args))
		return true
	}
	if cmd.arity > 0 && len(args) != cmd.arity || cmd.arity < 0 && len(args) < -cmd.arity {
		x.queueFailed()
		x.w.Error("ERR wrong number of arguments for '" + cmd.name + "' command")
		return true
	}
	if x.noauth && cmd.name != "auth" && cmd.name != "quit" && cmd.name != "hello" {
		x.queueFailed()
		x.w.Error(errNoAuth)
		return true
	}
	if x.multi != nil && cmd.flags&flagConn == 0 {
		x.queue(args)
		return true
	}
	if cmd.flags&flagConn != 0 {
		if !wait && !s.connNoWait(x, cmd, args) {
			return false
		}
		cmd.run(x, args)
		return true
	}
	if x.local {
		s.runLocal(x, cmd, args)
		return true
	}
	if !wait && cmd.flags&flagWrite != 0 && s.cfg.Replicas > 1 {
		return false
	}
	if cmd.flags&flagAllNodes != 0 {
		if !wait {
			return false
		}
		s.execEverywhere(x, cmd, args)
		return true
	}
	if cmd.flags&flagGather != 0 && !wait && s.memberCount() > 1 {
		return false
	}
	if cmd.first == 0 {
		s.runLocal(x, cmd, args)
		return true
	}
	if cmd.flags&flagOneNode != 0 {
		if cmd.step == 2 && len(args)%2 == 0 {
			x.w.Error("ERR wrong number of arguments for '" + cmd.name + "' command")
			return true
		}
		m, _ := s.owner(str(args[cmd.first]))
		for i := cmd.first + cmd.step; i < len(args); i += cmd.step {
			if o, _ := s.owner(str(args[i])); o.ID != m.ID {
				x.w.Error(errCrossSlot)
				return true
			}
		}
		// All its keys have one owner: routed by the first, as a one-key command.
	}
	if cmd.merge == nil { // one key, or flagOneNode's keys of one owner
		if m, mine := s.owner(str(args[cmd.first])); !mine {
			if x.redirects(m) {
				x.moved(args[cmd.first], m)
				return true
			}
			if !wait {
				return false
			}
			s.execRemote(x, cmd, args, m)
			return true
		}
		s.runLocal(x, cmd, args)
		return true
	}
	if cmd.step == 2 && len(args)%2 == 0 {
		x.w.Error("ERR wrong number of arguments for '" + cmd.name + "' command")
		return true
	}
	for i := cmd.first; i < len(args); i += cmd.step {
		if _, mine := s.owner(str(args[i])); !mine {
			if x.clusterAware && s.movedMulti(x, cmd, args) {
				return true
			}
			if !wait {
				return false
			}
			s.execSplit(x, cmd, args)
			return true
		}
	}
	s.runLocal(x, cmd, args)
	return true
}

// runLocal runs cmd on this node's store under the transaction gate's read
// side, so that it never interleaves with an EXEC (see resp_multi.go), then
// copies the keys it wrote to their replicas, after releasing the gate.
func (s *Server) runLocal(x *execCtx, cmd *command, args [][]byte) {
	if cmd.flags&flagNoGate != 0 {
		cmd.run(x, args)
		return
	}
	s.gate.RLock()
	cmd.run(x, args)
	s.gate.RUnlock()
	x.flushReplication()
}

// memberCount returns the number of ring members (1 before the first ring).
func (s *Server) memberCount() int {
	if v := s.view.Load(); v != nil && v.ring.Len() > 1 {
		return v.ring.Len()
	}
	return 1
}

// unknownCommand formats Redis's unknown-command error.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	b.Write(name)
	b.WriteString("', with args beginning with: ")
	for _, a := range args[1:] {
		if b.Len() >= 128+len(name)+50 {
			break
		}
		b.WriteByte('\'')
		b.Write(a[:min(len(a), 128)])
		b.WriteString("' ")
	}
	return b.String()
}

// execToBytes runs args locally and returns the encoded reply (PeerService.Command).
func (s *Server) execToBytes(ctx context.Context, args [][]byte) []byte {
	var buf bytes.Buffer
	x := &execCtx{s: s, ctx: ctx, w: resp.NewWriter(&buf), local: true}
	s.exec(x, args)
	_ = x.w.Flush()
	return buf.Bytes()
}

// callCommand runs args on member m and returns its reply.
func (s *Server) callCommand(ctx context.Context, m ring.Member, args [][]byte) (resp.Reply, error) {
	if m.ID == s.cfg.ID {
		return parseReply(s.execToBytes(ctx, args))
	}
	c, err := s.peerClient(m)
	if err != nil {
		return resp.Reply{}, err
	}
	s.metrics.forwarded.Add(1)
	fctx, cancel := s.forwardContext(ctx)
	defer cancel()
	out, err := c.Command(fctx, &cachedpeerv1.CommandRequest{Args: args})
	if err != nil {
		return resp.Reply{}, err
	}
	return parseReply(out.GetReply())
}

func parseReply(b []byte) (resp.Reply, error) {
	return resp.NewReader(bytes.NewReader(b)).ReadReply()
}

// execRemote runs a one-key command on the key's owner m (see forwardFailed
// for an owner that fails).
func (s *Server) execRemote(x *execCtx, cmd *command, args [][]byte, m ring.Member) {
	rep, err := s.callCommand(x.ctx, m, args)
	if err == nil {
		x.w.Reply(rep)
		return
	}
	s.forwardFailed(x, cmd, args, m, err)
}

// forwardFailed writes the reply of a one-key command whose owner m failed
// with err: a read whose owner did not answer goes to the key's replicas,
// then counts as a miss; anything else is an error reply.
func (s *Server) forwardFailed(x *execCtx, cmd *command, args [][]byte, m ring.Member, err error) {
	if !unreachable(x.ctx, err) || cmd.flags&flagRead == 0 {
		x.w.Error("ERR " + ownerErr(x.ctx, m, err).Error())
		return
	}
	others, self := s.fallbacks(str(args[cmd.first]))
	if self {
		s.runLocal(x, cmd, args)
		return
	}
	for _, r := range others {
		if rep, err := s.callCommand(x.ctx, r, args); err == nil {
			x.w.Reply(rep)
			return
		}
	}
	s.metrics.unreachable.Add(1)
	cmd.miss(x.w)
}

// splitPart is the reply of the keys one member owns in a split command.
type splitPart struct {
	idx []int // key numbers (0-based, in request order) of this part
	rep resp.Reply
}

// execSplit runs a multi-key command whose keys have several owners: one
// sub-command per owner, in turn, then merges the replies.
func (s *Server) execSplit(x *execCtx, cmd *command, args [][]byte) {
	type part struct {
		m    ring.Member
		idx  []int
		args [][]byte
	}
	if cmd.check != nil && !cmd.check(x, args) {
		return
	}
	var parts []*part
	nkeys := 0
	for i := cmd.first; i < len(args); i += cmd.step {
		m, _ := s.owner(str(args[i]))
		var p *part
		for _, q := range parts {
			if q.m.ID == m.ID {
				p = q
			}
		}
		if p == nil {
			p = &part{m: m, args: [][]byte{args[0]}}
			parts = append(parts, p)
		}
		p.idx = append(p.idx, nkeys)
		p.args = append(p.args, args[i:i+cmd.step]...)
		nkeys++
	}
	out := make([]splitPart, 0, len(parts))
	for _, p := range parts {
		rep, err := s.callCommand(x.ctx, p.m, p.args)
		if err != nil && unreachable(x.ctx, err) && cmd.flags&flagRead != 0 {
			// Key by key: replicas, then a miss.
			elems := make([]resp.Reply, len(p.idx))
			for j := range p.idx {
				one := [][]byte{args[0], p.args[1+j]}
				var buf bytes.Buffer
				sub := &execCtx{s: s, ctx: x.ctx, w: resp.NewWriter(&buf)}
				s.execRemote(sub, cmd, one, p.m)
				_ = sub.w.Flush()
				r, perr := parseReply(buf.Bytes())
				if perr != nil {
					r = resp.Reply{Kind: resp.KindError, Str: "ERR " + perr.Error()}
				}
				elems[j] = r
			}
			out = append(out, splitPart{idx: p.idx, rep: flatten(cmd, elems)})
			continue
		}
		if err != nil {
			x.w.Error("ERR " + ownerErr(x.ctx, p.m, err).Error())
			return
		}
		if rep.Kind == resp.KindError {
			x.w.Reply(rep)
			return
		}
		out = append(out, splitPart{idx: p.idx, rep: rep})
	}
	cmd.merge(x, nkeys, out)
}

// flatten turns per-key replies of a read (MGET: one bulk each; EXISTS: one
// integer each) into the reply of the whole part.
func flatten(cmd *command, elems []resp.Reply) resp.Reply {
	if cmd.name == "mget" {
		out := make([]resp.Reply, len(elems))
		for i, e := range elems {
			if e.Kind == resp.KindArray && len(e.Elems) == 1 {
				e = e.Elems[0]
			}
			out[i] = e
		}
		return resp.Reply{Kind: resp.KindArray, Elems: out}
	}
	var n int64
	for _, e := range elems {
		n += e.Int
	}
	return resp.Reply{Kind: resp.KindInteger, Int: n}
}

func mergeSum(x *execCtx, _ int, parts []splitPart) {
	var n int64
	for _, p := range parts {
		n += p.rep.Int
	}
	x.w.Integer(n)
}

func mergeOK(x *execCtx, _ int, _ []splitPart) { x.w.SimpleString("OK") }

func mergeArray(x *execCtx, nkeys int, parts []splitPart) {
	out := make([]resp.Reply, nkeys)
	for i := range out {
		out[i] = resp.Reply{Kind: resp.KindNull}
	}
	for _, p := range parts {
		for j, i := range p.idx {
			if j < len(p.rep.Elems) {
				out[i] = p.rep.Elems[j]
			}
		}
	}
	x.w.Reply(resp.Reply{Kind: resp.KindArray, Elems: out})
}

// execEverywhere runs a command on this node and on every other member. The
// reply is this node's, or, for a command with merge (DBSIZE), the merge of
// every member's; an error from any member is the reply.
func (s *Server) execEverywhere(x *execCtx, cmd *command, args [][]byte) {
	var buf bytes.Buffer
	local := &execCtx{s: s, ctx: x.ctx, w: resp.NewWriter(&buf), local: true}
	s.runLocal(local, cmd, args)
	_ = local.w.Flush()
	rep, err := parseReply(buf.Bytes())
	parts := []splitPart{{rep: rep}}
	if err == nil && rep.Kind != resp.KindError {
		if v := s.currentView(); v != nil {
			for _, m := range v.ring.Members() {
				if m.ID == s.cfg.ID {
					continue
				}
				r, err := s.callCommand(x.ctx, m, args)
				if err != nil {
					rep = resp.Reply{Kind: resp.KindError, Str: "ERR " + ownerErr(x.ctx, m, err).Error()}
					break
				}
				if r.Kind == resp.KindError {
					rep = r
					break
				}
				parts = append(parts, splitPart{rep: r})
			}
		}
	}
	if err != nil {
		rep = resp.Reply{Kind: resp.KindError, Str: "ERR " + err.Error()}
	}
	if rep.Kind != resp.KindError && cmd.merge != nil {
		cmd.merge(x, 0, parts)
		return
	}
	x.w.Reply(rep)
}

// writeStoreErr writes a store error in Redis's words.
func writeStoreErr(w *resp.Writer, err error) {
	switch {
	case errors.Is(err, store.ErrNotInteger):
		w.Error(errNotInteger)
	case errors.Is(err, store.ErrOverflow):
		w.Error(errOverflow)
	case errors.Is(err, store.ErrOutOfMemory):
		w.Error(errOOM)
	case errors.Is(err, store.ErrTooLarge):
		var tl *store.TooLargeError
		if errors.As(err, &tl) {
			w.Error(fmt.Sprintf("ERR item is %d bytes (key plus value), the limit (max_item_bytes) is %d", tl.Size, tl.Limit))
		} else {
			w.Error(errTooLarge)
		}
	case errors.Is(err, store.ErrNotFloat):
		w.Error(errNotFloat)
	case errors.Is(err, store.ErrNaNOrInf):
		w.Error(errNaNOrInf)
	case errors.Is(err, store.ErrBadOptions):
		w.Error(errSyntax)
	case errors.Is(err, store.ErrWrongType):
		w.Error(errWrongType)
	default:
		w.Error("ERR " + err.Error())
	}
}

// parseInt parses a base-10 int64 argument as Redis does (its string2ll): an
// optional '-' and digits, with no '+', no leading zeros and no "-0"; anything
// else, or a value out of int64's range, is not an integer. It does not
// allocate on success.
func parseInt(b []byte) (int64, bool) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	switch {
	case len(digits) == 0:
		return 0, false
	case digits[0] == '0' && (len(digits) > 1 || len(b) > 1):
		return 0, false // leading zero, or "-0"
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(str(b), 10, 64)
	return n, err == nil
}

// replicated notes keys to copy to their replicas after a local write
// (Replicas > 1); runLocal and EXEC copy them once the command is done.
func (x *execCtx) replicated(keys ...string) {
	if x.s.cfg.Replicas > 1 {
		x.repl = append(x.repl, keys...)
	}
}

// flushReplication copies the keys noted by replicated.
func (x *execCtx) flushReplication() {
	if len(x.repl) > 0 {
		keys := x.repl
		x.repl = nil
		x.s.replicate(x.ctx, keys...)
	}
}

func cmdGet(x *execCtx, a [][]byte) {
	it, ok, err := x.s.store.Get(str(a[1]))
	switch {
	case err != nil:
		writeStoreErr(x.w, err)
	case !ok:
		x.w.NullBulk()
	default:
		x.w.Bulk(it.Value)
	}
}

func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func cmdDel(x *execCtx, a [][]byte) {
	keys := make([]string, len(a)-1)
	for i, k := range a[1:] {
		keys[i] = string(k)
	}
	n := x.s.store.Delete(keys...)
	x.replicated(keys...)
	x.w.Integer(int64(n))
}

func cmdExists(x *execCtx, a [][]byte) {
	n := 0
	for _, k := range a[1:] {
		n += x.s.store.Exists(str(k))
	}
	x.w.Integer(int64(n))
}

func cmdPersist(x *execCtx, a [][]byte) {
	key := string(a[1])
	if x.s.store.Persist(key) {
		x.replicated(key)
		x.w.Integer(1)
		return
	}
	x.w.Integer(0)
}

func cmdIncr(sign int64, withArg bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		delta := sign
		if withArg {
			n, ok := parseInt(a[2])
			if !ok {
				x.w.Error(errNotInteger)
				return
			}
			if sign < 0 {
				if n == math.MinInt64 {
					x.w.Error("ERR decrement would overflow")
					return
				}
				n = -n
			}
			delta = n
		}
		key := string(a[1])
		n, err := x.s.store.IncrBy(key, delta)
		if err != nil {
			writeStoreErr(x.w, err)
			return
		}
		x.replicated(key)
		x.w.Integer(n)
	}
}

func cmdMGet(x *execCtx, a [][]byte) {
	x.w.ArrayHeader(len(a) - 1)
	for _, k := range a[1:] {
		if it, ok, _ := x.s.store.Get(str(k)); ok { // a hash is nil, as in Redis
			x.w.Bulk(it.Value)
		} else {
			x.w.NullBulk()
		}
	}
}

func cmdAppend(x *execCtx, a [][]byte) {
	key := string(a[1])
	n, err := x.s.store.Append(key, a[2])
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	x.replicated(key)
	x.w.Integer(int64(n))
}

func cmdStrlen(x *execCtx, a [][]byte) {
	it, _, err := x.s.store.Get(str(a[1]))
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	x.w.Integer(int64(len(it.Value)))
}

func cmdGetDel(x *execCtx, a [][]byte) {
	key := string(a[1])
	it, ok, err := x.s.store.GetDel(key)
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	if !ok {
		x.w.NullBulk()
		return
	}
	x.replicated(key)
	x.w.Bulk(it.Value)
}

func cmdPing(x *execCtx, a [][]byte) {
	switch len(a) {
	case 1:
		x.w.SimpleString("PONG")
	case 2:
		x.w.Bulk(a[1])
	default:
		x.w.Error("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdFlush(x *execCtx, a [][]byte) {
	if len(a) > 2 || len(a) == 2 && !equalFold(a[1], "async") && !equalFold(a[1], "sync") {
		x.w.Error(errSyntax)
		return
	}
	x.s.store.FlushAll()
	x.w.SimpleString("OK")
}

func cmdSelect(x *execCtx, a [][]byte) {
	n, ok := parseInt(a[1])
	switch {
	case !ok:
		x.w.Error(errNotInteger)
	case n != 0:
		x.w.Error(errDBIndex)
	default:
		x.w.SimpleString("OK")
	}
}

// cmdCommand answers COMMAND, COMMAND COUNT, COMMAND INFO and COMMAND DOCS
// minimally, enough for clients that ask at connect time.
func cmdCommand(x *execCtx, a [][]byte) {
	t := x.s.commands
	info := func(c *command) {
		x.w.ArrayHeader(6)
		x.w.BulkString(c.name)
		x.w.Integer(int64(c.arity))
		flags := []string{"fast"}
		if c.flags&flagWrite != 0 {
			flags = []string{"write"}
		} else if c.flags&flagRead != 0 {
			flags = []string{"readonly", "fast"}
		}
		x.w.ArrayHeader(len(flags))
		for _, f := range flags {
			x.w.SimpleString(f)
		}
		x.w.Integer(int64(c.first))
		x.w.Integer(int64(c.last))
		x.w.Integer(int64(c.step))
	}
	if len(a) == 1 {
		x.w.ArrayHeader(len(t.list))
		for _, c := range t.list {
			info(c)
		}
		return
	}
	switch {
	case equalFold(a[1], "count"):
		x.w.Integer(int64(len(t.list)))
	case equalFold(a[1], "info"):
		x.w.ArrayHeader(len(a) - 2)
		for _, name := range a[2:] {
			if c := t.lookup(name); c != nil && c.flags&flagInternal == 0 {
				info(c)
			} else {
				x.w.NullBulk() // as redis-server 7 answers over RESP2
			}
		}
	case equalFold(a[1], "docs"):
		x.w.ArrayHeader(0)
	default:
		x.w.Error("ERR unknown subcommand '" + string(a[1]) + "'. Try COMMAND HELP.")
	}
}

// cmdAuth is AUTH <password> or AUTH <username> <password>, with Redis's
// replies: only the user "default" exists, its password is
// Config.RESPPassword; with no password set, "default" takes any password
// and the one-argument form is an error. A failed AUTH leaves an
// authenticated connection authenticated.
func cmdAuth(x *execCtx, a [][]byte) {
	if len(a) > 3 {
		x.w.Error(errSyntax)
		return
	}
	want := x.s.cfg.RESPPassword
	user, pass := []byte("default"), a[1]
	if len(a) == 3 {
		user, pass = a[1], a[2]
	}
	switch {
	case want == "" && len(a) == 2:
		x.w.Error(errNoPassword)
	case string(user) != "default":
		x.w.Error(errWrongPass)
	case want == "" || subtle.ConstantTimeCompare(pass, []byte(want)) == 1:
		x.noauth = false
		x.w.SimpleString("OK")
	default:
		x.w.Error(errWrongPass)
	}
}
