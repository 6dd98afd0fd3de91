package cached

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/store"
)

// Hash commands. Each names one key, so it runs on the key's owner (execMay
// forwards it) as one store operation under the key's shard lock, and a
// write copies the whole hash to the replicas (replicaWrite). The store keeps
// fields in insertion order, so HGETALL, HKEYS and HVALS answer as
// redis-server does for its small (listpack) hashes, and HSCAN returns the
// whole hash in one page with cursor 0, as it does for those.

// Redis's error texts of the hash commands.
const (
	errHashNotInteger = "ERR hash value is not an integer"
	errHashNotFloat   = "ERR hash value is not a float"
	errInvalidCursor  = "ERR invalid cursor"
)

func hashCommands() []*command {
	nilMiss := func(w *resp.Writer) { w.NullBulk() }
	zeroMiss := func(w *resp.Writer) { w.Integer(0) }
	emptyMiss := func(w *resp.Writer) { w.ArrayHeader(0) }
	one := func(name string, arity int, flags cmdFlags, run func(*execCtx, [][]byte), miss func(*resp.Writer)) *command {
		return &command{name: name, arity: arity, first: 1, last: 1, step: 1, flags: flags, run: run, miss: miss}
	}
	return []*command{
		one("hset", -4, flagWrite, cmdHSet(false), nil),
		one("hmset", -4, flagWrite, cmdHSet(true), nil),
		one("hsetnx", 4, flagWrite, cmdHSetNX, nil),
		one("hget", 3, flagRead, cmdHGet, nilMiss),
		one("hmget", -3, 0, cmdHMGet, nil), // no fallback read: a miss needs the field count
		one("hdel", -3, flagWrite, cmdHDel, nil),
		one("hgetall", 2, flagRead, cmdHGetAll(true, true), emptyMiss),
		one("hkeys", 2, flagRead, cmdHGetAll(true, false), emptyMiss),
		one("hvals", 2, flagRead, cmdHGetAll(false, true), emptyMiss),
		one("hincrby", 4, flagWrite, cmdHIncrBy, nil),
		one("hincrbyfloat", 4, flagWrite, cmdHIncrByFloat, nil),
		one("hexists", 3, flagRead, cmdHExists, zeroMiss),
		one("hlen", 2, flagRead, cmdHLen, zeroMiss),
		one("hstrlen", 3, flagRead, cmdHStrlen, zeroMiss),
		one("hrandfield", -2, 0, cmdHRandField, nil),
		one("hscan", -3, flagRead, cmdHScan, func(w *resp.Writer) { w.ArrayHeader(2); w.BulkString("0"); w.ArrayHeader(0) }),
	}
}

func cmdHSet(ok bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		if len(a)%2 != 0 {
			x.w.Error("ERR wrong number of arguments for '" + strings.ToLower(string(a[0])) + "' command")
			return
		}
		key := string(a[1])
		n, err := x.s.store.HSet(key, a[2:], false)
		if err != nil {
			writeStoreErr(x.w, err)
			return
		}
		x.replicated(key)
		if ok {
			x.w.SimpleString("OK")
			return
		}
		x.w.Integer(int64(n))
	}
}

func cmdHSetNX(x *execCtx, a [][]byte) {
	key := string(a[1])
	n, err := x.s.store.HSet(key, a[2:4], true)
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	if n > 0 {
		x.replicated(key)
	}
	x.w.Integer(int64(n))
}

// hread runs fn on a[1]'s hash; it writes the WRONGTYPE error itself and
// reports whether fn ran. fn runs under a shard lock: it must only collect
// what the reply needs, which is written afterwards.
func hread(x *execCtx, a [][]byte, fn func(h store.Hash)) bool {
	if err := x.s.store.HRead(str(a[1]), fn); err != nil {
		writeStoreErr(x.w, err)
		return false
	}
	return true
}

func cmdHGet(x *execCtx, a [][]byte) {
	var v []byte
	var found bool
	if !hread(x, a, func(h store.Hash) { v, found = h.Get(str(a[2])) }) {
		return
	}
	if !found {
		x.w.NullBulk()
		return
	}
	x.w.Bulk(v)
}

func cmdHMGet(x *execCtx, a [][]byte) {
	vals := make([][]byte, len(a)-2)
	if !hread(x, a, func(h store.Hash) {
		for i, f := range a[2:] {
			vals[i], _ = h.Get(str(f))
		}
	}) {
		return
	}
	x.w.ArrayHeader(len(vals))
	for _, v := range vals {
		if v == nil {
			x.w.NullBulk()
		} else {
			x.w.Bulk(v)
		}
	}
}

func cmdHDel(x *execCtx, a [][]byte) {
	key := string(a[1])
	n, err := x.s.store.HDel(key, a[2:]...)
	if err != nil {
		writeStoreErr(x.w, err)
		return
	}
	if n > 0 {
		x.replicated(key)
	}
	x.w.Integer(int64(n))
}

// hashFields copies a hash's fields (headers only; values are immutable).
func hashFields(x *execCtx, a [][]byte) ([]store.Field, bool) {
	var fields []store.Field
	ok := hread(x, a, func(h store.Hash) {
		fields = make([]store.Field, h.Len())
		for i := range fields {
			fields[i] = h.At(i)
		}
	})
	return fields, ok
}

func cmdHGetAll(names, values bool) func(*execCtx, [][]byte) {
	return func(x *execCtx, a [][]byte) {
		fields, ok := hashFields(x, a)
		if !ok {
			return
		}
		n := len(fields)
		if names && values {
			n *= 2
		}
		x.w.ArrayHeader(n)
		for _, f := range fields {
			if names {
				x.w.BulkString(f.Name)
			}
			if values {
				x.w.Bulk(f.Value)
			}
		}
	}
}

func cmdHExists(x *execCtx, a [][]byte) {
	var found bool
	if hread(x, a, func(h store.Hash) { _, found = h.Get(str(a[2])) }) {
		x.w.Integer(b2i(found))
	}
}

func cmdHLen(x *execCtx, a [][]byte) {
	var n int
	if hread(x, a, func(h store.Hash) { n = h.Len() }) {
		x.w.Integer(int64(n))
	}
}

func cmdHStrlen(x *execCtx, a [][]byte) {
	var v []byte
	if hread(x, a, func(h store.Hash) { v, _ = h.Get(str(a[2])) }) {
		x.w.Integer(int64(len(v)))
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Errors of HINCRBY and HINCRBYFLOAT's update functions, turned into Redis's
// texts by hincrErr.
var (
	errHashValueNotInt   = errors.New(errHashNotInteger)
	errHashValueNotFloat = errors.New(errHashNotFloat)
	errHashOverflow      = errors.New(errOverflow)
	errHashNaNOrInf      = errors.New(errNaNOrInf)
)

func hincrErr(w *resp.Writer, err error) {
	switch err {
	case errHashValueNotInt, errHashValueNotFloat, errHashOverflow, errHashNaNOrInf:
		w.Error(err.Error())
	default:
		writeStoreErr(w, err)
	}
}

func cmdHIncrBy(x *execCtx, a [][]byte) {
	delta, ok := parseInt(a[3])
	if !ok {
		x.w.Error(errNotInteger)
		return
	}
	key := string(a[1])
	var n int64
	_, err := x.s.store.HUpdate(key, string(a[2]), func(old []byte, exists bool) ([]byte, error) {
		var cur int64
		if exists {
			var ok bool
			if cur, ok = parseInt(old); !ok {
				return nil, errHashValueNotInt
			}
		}
		if delta > 0 && cur > math.MaxInt64-delta || delta < 0 && cur < math.MinInt64-delta {
			return nil, errHashOverflow
		}
		n = cur + delta
		return strconv.AppendInt(nil, n, 10), nil
	})
	if err != nil {
		hincrErr(x.w, err)
		return
	}
	x.replicated(key)
	x.w.Integer(n)
}

func cmdHIncrByFloat(x *execCtx, a [][]byte) {
	delta, ok := store.ParseLongDouble(a[3])
	switch {
	case !ok:
		x.w.Error(errNotFloat)
		return
	case delta.IsInf():
		x.w.Error("ERR value is NaN or Infinity")
		return
	}
	key := string(a[1])
	nv, err := x.s.store.HUpdate(key, string(a[2]), func(old []byte, exists bool) ([]byte, error) {
		cur := new(big.Float)
		if exists {
			v, ok := store.ParseLongDouble(old)
			switch {
			case !ok:
				return nil, errHashValueNotFloat
			case v.IsInf():
				return nil, errHashNaNOrInf
			}
			cur = v
		}
		sum, ok := store.AddLongDouble(cur, delta)
		if !ok {
			return nil, errHashNaNOrInf
		}
		return store.FormatLongDouble(sum), nil
	})
	if err != nil {
		hincrErr(x.w, err)
		return
	}
	x.replicated(key)
	x.w.Bulk(nv)
}

// hrandMax bounds HRANDFIELD's count: redis-server would build a reply of
// any size a client asks for, which the limits of cairn do not allow.
const hrandMax = 1 << 20

// cmdHRandField is HRANDFIELD key [count [WITHVALUES]]: one random field,
// or count distinct ones (at most all), or -count with repeats.
func cmdHRandField(x *execCtx, a [][]byte) {
	count, withCount, withValues := int64(1), len(a) > 2, false
	if withCount {
		n, ok := parseInt(a[2])
		if !ok {
			x.w.Error(errNotInteger)
			return
		}
		switch {
		case len(a) == 4 && equalFold(a[3], "withvalues"):
			withValues = true
		case len(a) > 3:
			x.w.Error(errSyntax)
			return
		}
		if n == math.MinInt64 {
			x.w.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		if n > hrandMax || n < -hrandMax {
			x.w.Error("ERR value is out of range")
			return
		}
		count = n
	}
	fields, ok := hashFields(x, a)
	if !ok {
		return
	}
	if !withCount {
		if len(fields) == 0 {
			x.w.NullBulk()
			return
		}
		x.w.BulkString(fields[rand.IntN(len(fields))].Name)
		return
	}
	var pick []store.Field
	switch {
	case len(fields) == 0 || count == 0:
	case count < 0:
		for range -count {
			pick = append(pick, fields[rand.IntN(len(fields))])
		}
	default:
		rand.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		pick = fields[:min(int(count), len(fields))]
	}
	n := len(pick)
	if withValues {
		n *= 2
	}
	x.w.ArrayHeader(n)
	for _, f := range pick {
		x.w.BulkString(f.Name)
		if withValues {
			x.w.Bulk(f.Value)
		}
	}
}

// scanOptions are SCAN's and HSCAN's [MATCH p] [COUNT n] [TYPE t].
type scanOptions struct {
	match []byte
	count int
	typ   []byte
}

// parseScanOptions reads the options from a; withType allows TYPE (SCAN).
// It writes the error reply itself.
func parseScanOptions(x *execCtx, a [][]byte, withType bool) (scanOptions, bool) {
	o := scanOptions{count: 10}
	for i := 0; i < len(a); i += 2 {
		if i+1 >= len(a) {
			x.w.Error(errSyntax)
			return o, false
		}
		switch {
		case equalFold(a[i], "match"):
			o.match = a[i+1]
		case equalFold(a[i], "count"):
			n, ok := parseInt(a[i+1])
			if !ok {
				x.w.Error(errNotInteger)
				return o, false
			}
			if n < 1 {
				x.w.Error(errSyntax)
				return o, false
			}
			o.count = int(min(n, 1<<20))
		case withType && equalFold(a[i], "type"):
			o.typ = a[i+1]
		default:
			x.w.Error(errSyntax)
			return o, false
		}
	}
	return o, true
}

// parseCursor reads a SCAN cursor: an unsigned 64-bit decimal. Like
// redis-server, a negative one is taken (and finds nothing).
func parseCursor(b []byte) (uint64, bool) {
	if n, err := strconv.ParseUint(string(b), 10, 64); err == nil {
		return n, true
	}
	if n, ok := parseInt(b); ok && n < 0 {
		return math.MaxUint64, true
	}
	return 0, false
}

// cmdHScan is HSCAN key cursor [MATCH p] [COUNT n]: the whole hash in one
// page, next cursor 0, whatever the cursor and COUNT.
func cmdHScan(x *execCtx, a [][]byte) {
	if _, ok := parseCursor(a[2]); !ok {
		x.w.Error(errInvalidCursor)
		return
	}
	o, ok := parseScanOptions(x, a[3:], false)
	if !ok {
		return
	}
	fields, ok := hashFields(x, a)
	if !ok {
		return
	}
	if o.match != nil {
		kept := fields[:0]
		for _, f := range fields {
			if globMatch(o.match, []byte(f.Name)) {
				kept = append(kept, f)
			}
		}
		fields = kept
	}
	x.w.ArrayHeader(2)
	x.w.BulkString("0")
	x.w.ArrayHeader(2 * len(fields))
	for _, f := range fields {
		x.w.BulkString(f.Name)
		x.w.Bulk(f.Value)
	}
}
