package cached

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, for keys of one node.
//
// Queueing. After MULTI, execMay queues every command but MULTI, EXEC,
// DISCARD, WATCH and QUIT (flagConn) and answers +QUEUED; an unknown command,
// a wrong arity or NOAUTH at that point answers its error and marks the
// transaction failed, and EXEC then answers EXECABORT and runs nothing, as
// redis-server does. Nothing is routed while queueing, so in a pipeline a
// queued command is never forwarded on its own (see respConn.pipelined).
//
// Placement. At EXEC the keys of every queued command and every watched key
// must have one owner, the node that runs the transaction; otherwise EXEC
// answers CROSSSLOT (as a Redis cluster does) and runs nothing. KEYS, SCAN,
// FLUSHALL and FLUSHDB span every node and so count as cross-node in a
// cluster of more than one member. A transaction without keys runs where it
// was received. When the owner is another node, the whole transaction (the
// commands and the watched keys' stamps) goes to it in one
// PeerService.Command call (the internal command cairn.exec) and its reply
// is EXEC's.
//
// Atomicity. Every command that touches the local store runs under the read
// side of the node's transaction gate (Server.gate, an RWMutex; runLocal,
// the gRPC handlers and Replicate take it), and the owner runs a transaction
// under its write side: the watched keys are checked and every queued command
// runs with no other command of any client on that node in between, so no
// command sees a transaction half done. EXEC takes the write side with
// TryLock, retrying with a growing pause, never with Lock: a command may hold
// the read side while it writes a large reply to a client that does not
// read (resp_io goroutine writes big values straight to the socket), and a
// pending Lock would make every other command of the node wait behind it.
// So a stuck reader delays transactions only, never other commands; in
// resp_io loop an EXEC that runs is always handed to a worker, so that its
// wait never holds up the loop. Only the store's own background
// expiry and the eviction a write needs do not take the gate: a key whose TTL
// ends during a transaction may disappear between two of its commands, as
// between any two commands. Replication to the replicas (--replicas) happens
// after the gate is released, with the keys the transaction wrote. The gate
// costs every command two atomic operations; nothing holds it while waiting
// for another node.
//
// WATCH records each key's stamp (store.Stamp: version and expiry) on the
// key's owner, asking it through cairn.stamp when that is another node. EXEC
// compares the stamps on the owner under the gate; any write, deletion,
// expiry, eviction, flush or TTL change of a watched key since WATCH makes
// EXEC answer a null array (*-1) and run nothing; so does a watched key whose
// owner changed (the ring changed) since WATCH.

// Limits of one transaction's queue: beyond them the command is refused and
// the transaction fails, so that a client cannot grow a queue without bound.
// The bytes stay far below the gRPC message limit of the call that carries
// the transaction to its owner.
const (
	multiMaxCmds  = 10000
	multiMaxBytes = 1 << 20
)

// multiState is a client's open transaction.
type multiState struct {
	cmds   [][][]byte // owned copies
	bytes  int
	failed bool // a command was refused while queueing: EXEC aborts
}

// watchedKey is a key WATCHed by a client: its owner then and its stamp.
type watchedKey struct {
	key     string
	owner   string
	version uint64
	expires int64
}

func multiCommands() []*command {
	return []*command{
		{name: "multi", arity: 1, flags: flagConn, run: cmdMulti},
		{name: "exec", arity: 1, flags: flagConn, run: cmdExec},
		{name: "discard", arity: 1, flags: flagConn, run: cmdDiscard},
		{name: "watch", arity: -2, flags: flagConn, run: cmdWatch},
		{name: "unwatch", arity: 1, flags: flagNoGate, run: func(x *execCtx, _ [][]byte) { x.watches = nil; x.w.SimpleString("OK") }},
		// cairn.exec nwatch (key version expires)... (argc arg...)...: run a
		// transaction on this node (EXEC's part on the owner).
		{name: "cairn.exec", arity: -2, flags: flagInternal | flagNoGate, run: cmdExecLocal},
		// cairn.stamp key: [version, expires] of a key on this node (WATCH).
		{name: "cairn.stamp", arity: 2, flags: flagInternal | flagNoGate, run: func(x *execCtx, a [][]byte) {
			v, e := x.s.store.Stamp(str(a[1]))
			x.w.ArrayHeader(2)
			x.w.Integer(int64(v))
			x.w.Integer(e)
		}},
	}
}

// queue adds a command to the open transaction and answers +QUEUED.
func (x *execCtx) queue(args [][]byte) {
	m := x.multi
	n := 0
	for _, a := range args {
		n += len(a)
	}
	if len(m.cmds) >= multiMaxCmds || m.bytes+n > multiMaxBytes {
		m.failed = true
		x.w.Error(fmt.Sprintf("ERR transaction too large: at most %d commands and %d bytes may be queued", multiMaxCmds, multiMaxBytes))
		return
	}
	buf := make([]byte, 0, n)
	own := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		own[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	m.cmds = append(m.cmds, own)
	m.bytes += n
	x.w.SimpleString("QUEUED")
}

// queueFailed marks the open transaction, if any, as failed.
func (x *execCtx) queueFailed() {
	if x.multi != nil {
		x.multi.failed = true
	}
}

// connNoWait reports whether the connection command cmd runs without
// waiting for another node (for the RESP event loop).
func (s *Server) connNoWait(x *execCtx, cmd *command, args [][]byte) bool {
	switch cmd.name {
	case "watch":
		if x.multi != nil {
			return true
		}
		for _, k := range args[1:] {
			if _, mine := s.owner(str(k)); !mine {
				return false
			}
		}
	case "exec":
		if x.multi == nil || x.multi.failed {
			return true
		}
		_, _, outcome := s.txTarget(x.multi, x.watches)
		return outcome != txRun // a transaction to run waits for the gate
	}
	return true
}

func cmdMulti(x *execCtx, _ [][]byte) {
	if x.multi != nil {
		x.w.Error("ERR MULTI calls can not be nested")
		return
	}
	x.multi = &multiState{}
	x.w.SimpleString("OK")
}

func cmdDiscard(x *execCtx, _ [][]byte) {
	if x.multi == nil {
		x.w.Error("ERR DISCARD without MULTI")
		return
	}
	x.multi, x.watches = nil, nil
	x.w.SimpleString("OK")
}

func cmdWatch(x *execCtx, a [][]byte) {
	if x.multi != nil {
		x.w.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	if len(x.watches)+len(a)-1 > multiMaxCmds {
		x.w.Error(fmt.Sprintf("ERR too many watched keys: at most %d", multiMaxCmds))
		return
	}
	for _, k := range a[1:] {
		key := string(k)
		m, mine := x.s.owner(key)
		w := watchedKey{key: key, owner: m.ID}
		if mine {
			w.version, w.expires = x.s.store.Stamp(key)
		} else {
			rep, err := x.s.callCommand(x.ctx, m, [][]byte{[]byte("cairn.stamp"), k})
			if err != nil {
				x.w.Error("ERR " + ownerErr(x.ctx, m, err).Error())
				return
			}
			if rep.Kind != resp.KindArray || len(rep.Elems) != 2 {
				x.w.Error("ERR " + m.ID + " answered a malformed stamp")
				return
			}
			w.version, w.expires = uint64(rep.Elems[0].Int), rep.Elems[1].Int
		}
		x.watches = append(x.watches, w)
	}
	x.w.SimpleString("OK")
}

// txOutcome is what txTarget decided.
type txOutcome int

const (
	txRun       txOutcome = iota // run it on the target
	txCrossSlot                  // keys on more than one node: CROSSSLOT
	txStale                      // a watched key changed owner: null array
)

// txTarget returns the node that owns every key of the transaction (this
// node when it has none) and whether it is this node.
func (s *Server) txTarget(m *multiState, watches []watchedKey) (ring.Member, bool, txOutcome) {
	var target *ring.Member
	same := func(key string) bool {
		o, _ := s.owner(key)
		if target == nil {
			target = &o
			return true
		}
		return target.ID == o.ID
	}
	for _, w := range watches {
		if o, _ := s.owner(w.key); o.ID != w.owner {
			return ring.Member{}, false, txStale
		}
	}
	multiNode := s.memberCount() > 1
	for _, args := range m.cmds {
		c := s.commands.lookup(args[0])
		if c.flags&(flagAllNodes|flagGather) != 0 && multiNode {
			return ring.Member{}, false, txCrossSlot
		}
		if c.first == 0 {
			continue
		}
		last := c.last
		if last < 0 {
			last += len(args)
		}
		for i := c.first; i <= last && i < len(args); i += c.step {
			if !same(str(args[i])) {
				return ring.Member{}, false, txCrossSlot
			}
		}
	}
	for _, w := range watches {
		if !same(w.key) {
			return ring.Member{}, false, txCrossSlot
		}
	}
	if target == nil || target.ID == s.self.ID {
		return s.self, true, txRun
	}
	return *target, false, txRun
}

func cmdExec(x *execCtx, _ [][]byte) {
	if x.multi == nil {
		x.w.Error("ERR EXEC without MULTI")
		return
	}
	m, watches := x.multi, x.watches
	x.multi, x.watches = nil, nil
	if m.failed {
		x.w.Error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	target, self, outcome := x.s.txTarget(m, watches)
	switch {
	case outcome == txCrossSlot:
		x.w.Error(errCrossSlot)
	case outcome == txStale:
		x.w.NullArray()
	case self:
		x.s.runTx(x, watches, m.cmds)
	default:
		rep, err := x.s.callCommand(x.ctx, target, encodeTx(watches, m.cmds))
		if err != nil {
			x.w.Error("ERR " + ownerErr(x.ctx, target, err).Error())
			return
		}
		x.w.Reply(rep)
	}
}

// runTx runs a transaction on this node's store under the gate's write side
// (see above) and writes EXEC's reply: a null array when a watched key's
// stamp changed, else one reply per command. The replies are gathered while
// the gate is held and written after, so a slow client never holds it.
func (s *Server) runTx(x *execCtx, watches []watchedKey, cmds [][][]byte) {
	if err := s.lockGate(x.ctx); err != nil {
		x.w.Error("ERR transaction not run: " + err.Error())
		return
	}
	var buf bytes.Buffer
	w, local := x.w, x.local
	x.w, x.local = resp.NewWriter(&buf), true
	aborted := false
	for _, wk := range watches {
		if v, e := s.store.Stamp(wk.key); v != wk.version || e != wk.expires {
			aborted = true
			break
		}
	}
	if !aborted {
		x.w.ArrayHeader(len(cmds))
		for _, args := range cmds {
			s.commands.lookup(args[0]).run(x, args)
		}
	}
	s.gate.Unlock()
	_ = x.w.Flush()
	x.w, x.local = w, local
	x.flushReplication()
	if aborted {
		w.NullArray()
		return
	}
	rep, err := parseReply(buf.Bytes())
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	w.Reply(rep)
}

// lockGate takes the gate's write side (see above) once no command holds
// its read side, pausing between attempts up to a millisecond; it gives up
// when ctx ends (the client left, or a forwarded transaction timed out).
func (s *Server) lockGate(ctx context.Context) error {
	pause := time.Microsecond
	for i := 0; !s.gate.TryLock(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i < 64 {
			runtime.Gosched()
			continue
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
	}
	return nil
}

// encodeTx encodes a transaction as the arguments of cairn.exec.
func encodeTx(watches []watchedKey, cmds [][][]byte) [][]byte {
	args := [][]byte{[]byte("cairn.exec"), strconv.AppendInt(nil, int64(len(watches)), 10)}
	for _, w := range watches {
		args = append(args, []byte(w.key), strconv.AppendUint(nil, w.version, 10), strconv.AppendInt(nil, w.expires, 10))
	}
	for _, c := range cmds {
		args = append(args, strconv.AppendInt(nil, int64(len(c)), 10))
		args = append(args, c...)
	}
	return args
}

// cmdExecLocal runs a transaction encoded by encodeTx on this node.
func cmdExecLocal(x *execCtx, a [][]byte) {
	watches, cmds, ok := decodeTx(x.s.commands, a)
	if !ok {
		x.w.Error("ERR malformed transaction")
		return
	}
	for i := range watches {
		watches[i].owner = x.s.cfg.ID
	}
	x.s.runTx(x, watches, cmds)
}

// decodeTx decodes the arguments of cairn.exec (see encodeTx); every
// command must be one a client may queue, with a valid arity.
func decodeTx(t *commandTable, a [][]byte) ([]watchedKey, [][][]byte, bool) {
	if len(a) < 2 {
		return nil, nil, false
	}
	a = a[1:]
	nw, err := strconv.Atoi(string(a[0]))
	if err != nil || nw < 0 || nw > (len(a)-1)/3 {
		return nil, nil, false
	}
	a = a[1:]
	watches := make([]watchedKey, nw)
	for i := range watches {
		v, err1 := strconv.ParseUint(string(a[1]), 10, 64)
		e, err2 := strconv.ParseInt(string(a[2]), 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil, false
		}
		watches[i] = watchedKey{key: string(a[0]), version: v, expires: e}
		a = a[3:]
	}
	var cmds [][][]byte
	for len(a) > 0 {
		n, err := strconv.Atoi(string(a[0]))
		if err != nil || n < 1 || n > len(a)-1 {
			return nil, nil, false
		}
		args := a[1 : 1+n]
		c := t.lookup(args[0])
		if c == nil || c.flags&(flagInternal|flagConn) != 0 ||
			c.arity > 0 && len(args) != c.arity || c.arity < 0 && len(args) < -c.arity {
			return nil, nil, false
		}
		cmds = append(cmds, args)
		a = a[1+n:]
	}
	return watches, cmds, true
}
