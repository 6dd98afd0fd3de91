package cached

import (
	"errors"
	"math"
	"time"

	"cairn.dev/cairn/cached/store"
)

// Options of SET and GETEX, as redis-server 7.0 parses them
// (parseExtendedStringArgumentsOrReply): an option may repeat (the last
// expiry wins), but NX excludes XX, and EX, PX, EXAT, PXAT, KEEPTTL (SET)
// and PERSIST (GETEX) exclude each other.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT
)

const optExpiry = optEX | optPX | optEXAT | optPXAT

// stringOpts is the parsed options of SET (set) or GETEX (!set).
type stringOpts struct {
	flags  int
	expire []byte // the argument of EX, PX, EXAT or PXAT
}

// parseStringOpts parses args as the options of SET (set) or GETEX; ok is
// false for a syntax error.
func parseStringOpts(args [][]byte, set bool) (o stringOpts, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		hasNext := i+1 < len(args)
		var f int
		switch {
		case set && equalFold(a, "nx") && o.flags&optXX == 0:
			f = optNX
		case set && equalFold(a, "xx") && o.flags&optNX == 0:
			f = optXX
		case set && equalFold(a, "get"):
			f = optGet
		case set && equalFold(a, "keepttl") && o.flags&(optPersist|optExpiry) == 0:
			f = optKeepTTL
		case !set && equalFold(a, "persist") && o.flags&(optKeepTTL|optExpiry) == 0:
			f = optPersist
		default:
			for _, e := range []struct {
				name string
				flag int
			}{{"ex", optEX}, {"px", optPX}, {"exat", optEXAT}, {"pxat", optPXAT}} {
				if equalFold(a, e.name) && hasNext && o.flags&(optKeepTTL|optPersist|optExpiry&^e.flag) == 0 {
					f = e.flag
					i++
					o.expire = args[i]
					break
				}
			}
			if f == 0 {
				return o, false
			}
		}
		o.flags |= f
	}
	return o, true
}

// expireTime turns the argument of an EX, PX, EXAT or PXAT option (flag)
// into an absolute time, as redis-server 7.0 does
// (getExpireMillisecondsOrReply): in milliseconds, not positive or
// overflowing is invalid. It writes the error and reports false on failure;
// name is the command's, for "invalid expire time in 'set' command".
func (x *execCtx) expireTime(name string, arg []byte, flag int) (time.Time, bool) {
	n, ok := parseInt(arg)
	if !ok {
		x.w.Error(errNotInteger)
		return time.Time{}, false
	}
	sec := flag&(optEX|optEXAT) != 0
	if n <= 0 || sec && n > math.MaxInt64/1000 {
		x.w.Error(invalidExpire(name))
		return time.Time{}, false
	}
	if sec {
		n *= 1000
	}
	if flag&(optEX|optPX) != 0 {
		now := x.s.store.Now().UnixMilli()
		if n > math.MaxInt64-now {
			x.w.Error(invalidExpire(name))
			return time.Time{}, false
		}
		n += now
	}
	return time.UnixMilli(n), true
}

func invalidExpire(name string) string {
	return "ERR invalid expire time in '" + name + "' command"
}

// cmdSet implements SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL].
func cmdSet(x *execCtx, a [][]byte) {
	o, ok := parseStringOpts(a[3:], true)
	if !ok {
		x.w.Error(errSyntax)
		return
	}
	var so store.SetOptions
	if o.expire != nil {
		at, ok := x.expireTime("set", o.expire, o.flags&optExpiry)
		if !ok {
			return
		}
		so.ExpireAt = at
	}
	so.OnlyIfAbsent = o.flags&optNX != 0
	so.OnlyIfPresent = o.flags&optXX != 0
	so.KeepTTL = o.flags&optKeepTTL != 0
	key := string(a[1])
	if o.flags&optGet != 0 {
		old, found, err := x.s.store.SetGet(key, a[2], so)
		switch {
		case err == nil:
			x.replicated(key)
		case !errors.Is(err, store.ErrNotStored):
			writeStoreErr(x.w, err)
			return
		}
		if !found {
			x.w.NullBulk()
			return
		}
		x.w.Bulk(old.Value)
		return
	}
	_, err := x.s.store.Set(key, a[2], so)
	switch {
	case err == nil:
		x.replicated(key)
		x.w.SimpleString("OK")
	case errors.Is(err, store.ErrNotStored):
		x.w.NullBulk()
	default:
		writeStoreErr(x.w, err)
	}
}

// cmdSetNX is SETNX key value: 1 if set, 0 if the key exists.
func cmdSetNX(x *execCtx, a [][]byte) {
	key := string(a[1])
	_, err := x.s.store.Set(key, a[2], store.SetOptions{OnlyIfAbsent: true})
	switch {
	case err == nil:
		x.replicated(key)
		x.w.Integer(1)
	case errors.Is(err, store.ErrNotStored):
		x.w.Integer(0)
	default:
		writeStoreErr(x.w, err)
	}
}

// cmdSetEx is SETEX key seconds value and PSETEX key milliseconds value.
func cmdSetEx(unit time.Duration) func(*execCtx, [][]byte) {
	name, flag := "setex", optEX
	if unit == time.Millisecond {
		name, flag = "psetex", optPX
	}
	return func(x *execCtx, a [][]byte) {
		at, ok := x.expireTime(name, a[2], flag)
		if !ok {
			return
		}
		key := string(a[1])
		if _, err := x.s.store.Set(key, a[3], store.SetOptions{ExpireAt: at}); err != nil {
			writeStoreErr(x.w, err)
			return
		}
		x.replicated(key)
		x.w.SimpleString("OK")
	}
}

// cmdGetSet is GETSET key value: SET … GET without options (the TTL goes).
func cmdGetSet(x *execCtx, a [][]byte) {
	key := string(a[1])
	old, found, err := x.s.store.SetGet(key, a[2], store.SetOptions{})
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	x.replicated(key)
	if !found {
		x.w.NullBulk()
		return
	}
	x.w.Bulk(old.Value)
}

// cmdGetEx is GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]. As in
// redis-server 7.0, a missing key answers nil before the expiry is checked.
func cmdGetEx(x *execCtx, a [][]byte) {
	o, ok := parseStringOpts(a[2:], false)
	if !ok {
		x.w.Error(errSyntax)
		return
	}
	key := string(a[1])
	var at time.Time
	if o.expire != nil {
		if _, exists := x.s.store.Expiry(key); !exists {
			x.w.NullBulk()
			return
		}
		if at, ok = x.expireTime("getex", o.expire, o.flags&optExpiry); !ok {
			return
		}
	}
	persist := o.flags&optPersist != 0
	it, found, err := x.s.store.GetEx(key, at, persist)
	switch {
	case err != nil:
		writeStoreErr(x.w, err)
	case !found:
		x.w.NullBulk()
	default:
		if !at.IsZero() || persist {
			x.replicated(key)
		}
		x.w.Bulk(it.Value)
	}
}

// cmdExpire implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time
// [NX|XX|GT|LT] as redis-server 7.0 does (expireGenericCommand): options
// first, then the integer, then overflow of the time in milliseconds; a
// time not in the future deletes the key (answer 1).
func cmdExpire(name string, unit time.Duration, abs bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		var cond store.ExpireCond
		for _, opt := range a[3:] {
			switch {
			case equalFold(opt, "nx"):
				cond |= store.ExpireNX
			case equalFold(opt, "xx"):
				cond |= store.ExpireXX
			case equalFold(opt, "gt"):
				cond |= store.ExpireGT
			case equalFold(opt, "lt"):
				cond |= store.ExpireLT
			default:
				x.w.Error("ERR Unsupported option " + string(opt))
				return
			}
		}
		switch {
		case cond&store.ExpireNX != 0 && cond&(store.ExpireXX|store.ExpireGT|store.ExpireLT) != 0:
			x.w.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
			return
		case cond&store.ExpireGT != 0 && cond&store.ExpireLT != 0:
			x.w.Error("ERR GT and LT options at the same time are not compatible")
			return
		}
		n, ok := parseInt(a[2])
		if !ok {
			x.w.Error(errNotInteger)
			return
		}
		if unit == time.Second {
			if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
				x.w.Error(invalidExpire(name))
				return
			}
			n *= 1000
		}
		if !abs {
			now := x.s.store.Now().UnixMilli()
			if n > math.MaxInt64-now {
				x.w.Error(invalidExpire(name))
				return
			}
			n += now
		}
		key := string(a[1])
		if x.s.store.ExpireAt(key, time.UnixMilli(n), cond) {
			x.replicated(key)
			x.w.Integer(1)
			return
		}
		x.w.Integer(0)
	}
}

// cmdTTL implements TTL and PTTL (remaining time) and EXPIRETIME and
// PEXPIRETIME (abs: the Unix time), in milliseconds as Redis keeps them,
// rounding seconds half up.
func cmdTTL(unit time.Duration, abs bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		at, exists := x.s.store.Expiry(str(a[1]))
		switch {
		case !exists:
			x.w.Integer(-2)
			return
		case at.IsZero():
			x.w.Integer(-1)
			return
		}
		ms := at.UnixMilli()
		if !abs {
			ms = max(ms-x.s.store.Now().UnixMilli(), 0)
		}
		if unit == time.Second {
			ms = ms/1000 + (ms%1000+500)/1000
		}
		x.w.Integer(ms)
	}
}

func cmdIncrByFloat(x *execCtx, a [][]byte) {
	key := string(a[1])
	v, err := x.s.store.IncrByFloat(key, a[2])
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	x.replicated(key)
	x.w.Bulk(v)
}

// cmdGetRange is GETRANGE (and SUBSTR) key start end, with Redis's
// negative indexes and clamping; a missing key is an empty string.
func cmdGetRange(x *execCtx, a [][]byte) {
	start, ok1 := parseInt(a[2])
	end, ok2 := parseInt(a[3])
	if !ok1 || !ok2 {
		x.w.Error(errNotInteger)
		return
	}
	it, _, err := x.s.store.Get(str(a[1]))
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	v := it.Value
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		x.w.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		x.w.BulkString("")
		return
	}
	x.w.Bulk(v[start : end+1])
}

func cmdSetRange(x *execCtx, a [][]byte) {
	off, ok := parseInt(a[2])
	if !ok {
		x.w.Error(errNotInteger)
		return
	}
	if off < 0 {
		x.w.Error("ERR offset is out of range")
		return
	}
	key := string(a[1])
	n, err := x.s.store.SetRange(key, off, a[3])
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	if len(a[3]) > 0 {
		x.replicated(key)
	}
	x.w.Integer(int64(n))
}

// pairs splits MSET-style arguments into keys and values.
func pairs(a [][]byte) ([]string, [][]byte) {
	keys := make([]string, 0, len(a)/2)
	vals := make([][]byte, 0, len(a)/2)
	for i := 1; i+1 < len(a); i += 2 {
		keys = append(keys, string(a[i]))
		vals = append(vals, a[i+1])
	}
	return keys, vals
}

// cmdMSet writes nothing when any pair is over the item limit: the node that
// received the command checks every pair before it splits the command by
// owner (see checkMSet), and each owner checks its part before writing.
func cmdMSet(x *execCtx, a [][]byte) {
	if len(a)%2 == 0 {
		x.w.Error("ERR wrong number of arguments for 'mset' command")
		return
	}
	keys, vals := pairs(a)
	if err := x.s.store.MSet(keys, vals); err != nil {
		writeStoreErr(x.w, err)
		return
	}
	x.replicated(keys...)
	x.w.SimpleString("OK")
}

// cmdMSetNX is MSETNX key value [key value ...]: 1 if every key was set, 0
// if any existed. Its keys must all belong to one node (flagOneNode).
func cmdMSetNX(x *execCtx, a [][]byte) {
	if len(a)%2 == 0 {
		x.w.Error("ERR wrong number of arguments for 'msetnx' command")
		return
	}
	keys, vals := pairs(a)
	ok, err := x.s.store.MSetNX(keys, vals)
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	if !ok {
		x.w.Integer(0)
		return
	}
	x.replicated(keys...)
	x.w.Integer(1)
}

// cmdDBSize counts this node's keys; DBSIZE runs on every member and sums
// (flagAllNodes). With Replicas > 1 a node also holds copies of other
// members' keys, so it counts only the keys it owns (a walk over its keys
// rather than a counter), and the sum is the number of distinct keys.
func cmdDBSize(x *execCtx, _ [][]byte) {
	if x.s.cfg.Replicas <= 1 {
		x.w.Integer(int64(x.s.store.Len()))
		return
	}
	n := 0
	x.s.store.Range(func(key string, _ store.Item) bool {
		if _, mine := x.s.owner(key); mine {
			n++
		}
		return true
	})
	x.w.Integer(int64(n))
}

// checkMSet reports whether every pair of an MSET is within the item
// limit, writing the error otherwise: the node that splits an MSET by owner
// checks first, so that no owner writes its part when another part fails.
func (x *execCtx) checkMSet(a [][]byte) bool {
	for i := 1; i+1 < len(a); i += 2 {
		if n := len(a[i]) + len(a[i+1]); n > x.s.cfg.MaxItemBytes {
			writeStoreErr(x.w, &store.TooLargeError{Size: n, Limit: x.s.cfg.MaxItemBytes})
			return false
		}
	}
	return true
}
