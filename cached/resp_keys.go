package cached

import (
	"strconv"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
)

// Key-space commands: TYPE, TOUCH, RENAME, RENAMENX, KEYS and SCAN.
//
// KEYS and SCAN see every member's keys. KEYS asks each member for the keys
// it owns that match (in parallel with nothing: one member after the other)
// and answers them together; a key held by a replica is reported by its
// owner only. SCAN's cursor is the member's index in the ring's member list
// (sorted by id) << 48 | the position in that member's store (store.Scan:
// shard << 32 | hash prefix), so any node can continue a scan that another
// began. Guarantee, as redis-server's SCAN: a key that exists, on the same
// owner, from the first call to the last is returned at least once (exactly
// once, unless the member list changes during the scan); a key added or
// deleted meanwhile may or may not be.

// scanMemberShift is where a SCAN cursor's member index starts: below it is
// the position in the member's store (store positions are < 1<<48).
const scanMemberShift = 48

func keyspaceCommands() []*command {
	return []*command{
		{name: "type", arity: 2, first: 1, last: 1, step: 1, flags: flagRead, run: cmdType, miss: func(w *resp.Writer) { w.SimpleString("none") }},
		{name: "touch", arity: -2, first: 1, last: -1, step: 1, flags: flagRead, run: cmdTouch, miss: func(w *resp.Writer) { w.Integer(0) }, merge: mergeSum},
		{name: "rename", arity: 3, first: 1, last: 2, step: 1, flags: flagWrite, run: cmdRename(false)},
		{name: "renamenx", arity: 3, first: 1, last: 2, step: 1, flags: flagWrite, run: cmdRename(true)},
		{name: "keys", arity: 2, flags: flagRead | flagNoGate | flagGather, run: cmdKeys},
		{name: "scan", arity: -2, flags: flagRead | flagNoGate | flagGather, run: cmdScan},
		// cairn.scan pos count match type: one page of this node's own keys
		// (SCAN's part on one member); answers [next pos, [keys]].
		{name: "cairn.scan", arity: 5, flags: flagInternal | flagNoGate, run: cmdScanLocal},
	}
}

func cmdType(x *execCtx, a [][]byte) {
	k, ok := x.s.store.Type(str(a[1]))
	if !ok {
		x.w.SimpleString("none")
		return
	}
	x.w.SimpleString(k.String())
}

func cmdTouch(x *execCtx, a [][]byte) {
	keys := make([]string, len(a)-1)
	for i, k := range a[1:] {
		keys[i] = str(k)
	}
	x.w.Integer(int64(x.s.store.Touch(keys...)))
}

// cmdRename is RENAME and RENAMENX. It runs on the source's owner; a
// destination owned by another node is CROSSSLOT, as in a Redis cluster.
func cmdRename(nx bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		src, dst := string(a[1]), string(a[2])
		ms, _ := x.s.owner(src)
		if md, _ := x.s.owner(dst); md.ID != ms.ID {
			x.w.Error(errCrossSlot)
			return
		}
		ok, err := x.s.store.Rename(src, dst, nx)
		switch {
		case err == store.ErrNoSuchKey:
			x.w.Error("ERR no such key")
		case err != nil:
			writeStoreErr(x.w, err)
		case nx:
			if ok {
				x.replicated(src, dst)
			}
			x.w.Integer(b2i(ok))
		default:
			if src != dst {
				x.replicated(src, dst)
			}
			x.w.SimpleString("OK")
		}
	}
}

// ownedKeys returns this node's keys that it owns and that match pattern
// (nil: all), reading the store a page at a time (one shard lock at a time,
// no values copied).
func (s *Server) ownedKeys(pattern []byte) []string {
	var out []string
	for pos := uint64(0); ; {
		page, next := s.store.Scan(pos, 1024)
		for _, e := range page {
			if _, mine := s.owner(e.Key); mine && (pattern == nil || globMatch(pattern, []byte(e.Key))) {
				out = append(out, e.Key)
			}
		}
		if next == 0 {
			return out
		}
		pos = next
	}
}

// cmdKeys is KEYS pattern, gathered from every member (see above). Run by a
// peer (x.local) it answers this node's part.
func cmdKeys(x *execCtx, a [][]byte) {
	pattern := a[1]
	if len(pattern) == 1 && pattern[0] == '*' {
		pattern = nil
	}
	keys := x.s.ownedKeys(pattern)
	if !x.local {
		seen := make(map[string]bool, len(keys))
		for _, k := range keys {
			seen[k] = true
		}
		for _, m := range x.s.otherMembers() {
			rep, ok := x.askMember(m, a)
			if !ok {
				return
			}
			for _, e := range rep.Elems {
				if !seen[e.Str] {
					seen[e.Str] = true
					keys = append(keys, e.Str)
				}
			}
		}
	}
	x.w.ArrayHeader(len(keys))
	for _, k := range keys {
		x.w.BulkString(k)
	}
}

// scanMembers returns the members a SCAN cursor indexes: the ring's, sorted
// by id, or this node alone before the first ring.
func (s *Server) scanMembers() []ring.Member {
	if v := s.view.Load(); v != nil && v.ring.Len() > 0 {
		return v.ring.Members()
	}
	return []ring.Member{s.self}
}

// otherMembers returns the ring's members but this node.
func (s *Server) otherMembers() []ring.Member {
	var out []ring.Member
	for _, m := range s.scanMembers() {
		if m.ID != s.cfg.ID {
			out = append(out, m)
		}
	}
	return out
}

// cmdScan is SCAN cursor [MATCH p] [COUNT n] [TYPE t] (see above). One call
// reads one page of one member.
func cmdScan(x *execCtx, a [][]byte) {
	cur, ok := parseCursor(a[1])
	if !ok {
		x.w.Error(errInvalidCursor)
		return
	}
	o, ok := parseScanOptions(x, a[2:], true)
	if !ok {
		return
	}
	members := x.s.scanMembers()
	mi := cur >> scanMemberShift
	if mi >= uint64(len(members)) {
		writeScanReply(x.w, 0, nil)
		return
	}
	pos := cur & (1<<scanMemberShift - 1)
	m := members[mi]
	var next uint64
	var keys []string
	if m.ID == x.s.cfg.ID {
		next, keys = x.s.scanLocal(pos, o)
	} else {
		args := [][]byte{[]byte("cairn.scan"), strconv.AppendUint(nil, pos, 10), strconv.AppendInt(nil, int64(o.count), 10), o.match, o.typ}
		rep, ok := x.askMember(m, args)
		if !ok {
			return
		}
		if len(rep.Elems) != 2 {
			x.w.Error("ERR " + m.ID + " answered a malformed scan page")
			return
		}
		next, _ = strconv.ParseUint(rep.Elems[0].Str, 10, 64)
		for _, e := range rep.Elems[1].Elems {
			keys = append(keys, e.Str)
		}
	}
	switch {
	case next != 0:
		next |= mi << scanMemberShift
	case mi+1 < uint64(len(members)):
		next = (mi + 1) << scanMemberShift
	}
	writeScanReply(x.w, next, keys)
}

func writeScanReply(w *resp.Writer, next uint64, keys []string) {
	w.ArrayHeader(2)
	w.Bulk(strconv.AppendUint(nil, next, 10))
	w.ArrayHeader(len(keys))
	for _, k := range keys {
		w.BulkString(k)
	}
}

// scanLocal reads one page of this node's own keys from store position pos.
func (s *Server) scanLocal(pos uint64, o scanOptions) (uint64, []string) {
	page, next := s.store.Scan(pos, o.count)
	var keys []string
	for _, e := range page {
		if o.typ != nil && !equalFold(o.typ, e.Kind.String()) {
			continue
		}
		if _, mine := s.owner(e.Key); !mine {
			continue
		}
		if o.match != nil && !globMatch(o.match, []byte(e.Key)) {
			continue
		}
		keys = append(keys, e.Key)
	}
	return next, keys
}

func cmdScanLocal(x *execCtx, a [][]byte) {
	pos, err1 := strconv.ParseUint(string(a[1]), 10, 64)
	count, err2 := strconv.Atoi(string(a[2]))
	if err1 != nil || err2 != nil || count < 1 || pos >= 1<<scanMemberShift {
		x.w.Error(errInvalidCursor)
		return
	}
	o := scanOptions{count: count}
	if len(a[3]) > 0 {
		o.match = a[3]
	}
	if len(a[4]) > 0 {
		o.typ = a[4]
	}
	next, keys := x.s.scanLocal(pos, o)
	writeScanReply(x.w, next, keys)
}

// globMatch reports whether s matches the Redis glob pattern p: * (any run),
// ? (any byte), [abc], [^abc], [a-z] (either order), and \ quoting the next
// byte, as redis-server's stringmatchlen. A star backtracks to the last star
// only, so the cost is O(len(p)·len(s)).
func globMatch(p, s []byte) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) && p[pi] == '*' {
			for pi < len(p) && p[pi] == '*' {
				pi++
			}
			if pi == len(p) {
				return true
			}
			starP, starS = pi, si
			continue
		}
		if pi < len(p) {
			if n, ok := matchOne(p[pi:], s[si]); ok {
				pi += n
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchOne matches c against the token at the start of p (not a star) and
// returns the token's length and whether c matches it.
func matchOne(p []byte, c byte) (int, bool) {
	switch p[0] {
	case '?':
		return 1, true
	case '\\':
		if len(p) >= 2 {
			return 2, p[1] == c
		}
		return 1, c == '\\'
	case '[':
		i := 1
		not := i < len(p) && p[i] == '^'
		if not {
			i++
		}
		match := false
		for i < len(p) && p[i] != ']' {
			switch {
			case p[i] == '\\' && i+1 < len(p):
				i++
				match = match || p[i] == c
			case i+2 < len(p) && p[i+1] == '-':
				lo, hi := p[i], p[i+2]
				if lo > hi {
					lo, hi = hi, lo
				}
				match = match || lo <= c && c <= hi
				i += 2
			default:
				match = match || p[i] == c
			}
			i++
		}
		if i < len(p) { // the closing ']'
			i++
		}
		return i, match != not
	}
	return 1, p[0] == c
}

// askMember runs an internal command on member m for a gathering command
// (KEYS, SCAN). When m does not answer, or answers an error, the error is
// written as the client's reply and ok is false.
func (x *execCtx) askMember(m ring.Member, args [][]byte) (rep resp.Reply, ok bool) {
	rep, err := x.s.callCommand(x.ctx, m, args)
	if err != nil {
		x.w.Error("ERR " + ownerErr(x.ctx, m, err).Error())
		return rep, false
	}
	if rep.Kind == resp.KindError {
		x.w.Reply(rep)
		return rep, false
	}
	return rep, true
}
