package resp

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the type of a Reply.
type Kind uint8

// Reply kinds.
const (
	KindSimple    Kind = iota + 1 // +OK
	KindError                     // -ERR message
	KindInteger                   // :42
	KindBulk                      // $3 foo
	KindNull                      // $-1
	KindArray                     // *2 ...
	KindNullArray                 // *-1
)

var kindNames = [...]string{"invalid", "simple", "error", "integer", "bulk", "null", "array", "null array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Reply is one parsed RESP2 reply. It owns its data.
type Reply struct {
	Kind  Kind
	Str   string  // KindSimple, KindError, KindBulk
	Int   int64   // KindInteger
	Elems []Reply // KindArray
}

// String renders the reply roughly as redis-cli does, for test failures.
func (rep Reply) String() string {
	var b strings.Builder
	rep.format(&b)
	return b.String()
}

func (rep Reply) format(b *strings.Builder) {
	switch rep.Kind {
	case KindSimple:
		b.WriteString(rep.Str)
	case KindError:
		b.WriteString("(error) " + rep.Str)
	case KindInteger:
		b.WriteString("(integer) " + strconv.FormatInt(rep.Int, 10))
	case KindBulk:
		b.WriteString(strconv.Quote(rep.Str))
	case KindNull, KindNullArray:
		b.WriteString("(nil)")
	case KindArray:
		b.WriteByte('[')
		for i, e := range rep.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.format(b)
		}
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "(%v)", rep.Kind)
	}
}

// ReadReply reads one reply of any RESP2 type, nested arrays included (at
// most 128 deep). Limits are MaxBulk, MaxArgs (per array) and MaxInline (per
// line). At a clean end of stream it returns io.EOF; malformed input gives an
// error wrapping ErrProtocol.
func (r *Reader) ReadReply() (Reply, error) {
	r.begin()
	if _, err := r.peek(); err != nil {
		return Reply{}, err
	}
	rep, err := r.reply(0)
	if err != nil {
		return Reply{}, eof(err)
	}
	return rep, nil
}

func (r *Reader) reply(depth int) (Reply, error) {
	r.start = r.r // what came before is copied out; let more reclaim it
	c, err := r.peek()
	if err != nil {
		return Reply{}, err
	}
	switch c {
	case '+', '-':
		ln, err := r.line(r.maxInline(), "reply line")
		if err != nil {
			return Reply{}, err
		}
		if len(ln) < 2 || ln[len(ln)-1] != '\r' {
			return Reply{}, protoErr("expected CRLF")
		}
		k := KindSimple
		if c == '-' {
			k = KindError
		}
		return Reply{Kind: k, Str: string(ln[1 : len(ln)-1])}, nil
	case ':':
		n, err := r.header("integer", "integer string")
		return Reply{Kind: KindInteger, Int: n}, err
	case '$':
		n, err := r.header("bulk length", "bulk length string")
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Kind: KindNull}, nil
		}
		if n < 0 || n > r.maxBulk() {
			return Reply{}, protoErr("invalid bulk length")
		}
		if err := r.need(int(n) + 2); err != nil {
			return Reply{}, err
		}
		if r.buf[r.r+int(n)] != '\r' || r.buf[r.r+int(n)+1] != '\n' {
			return Reply{}, protoErr("expected CRLF after bulk string")
		}
		rep := Reply{Kind: KindBulk, Str: string(r.buf[r.r : r.r+int(n)])}
		r.r += int(n) + 2
		return rep, nil
	case '*':
		n, err := r.header("multibulk length", "multibulk length string")
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Kind: KindNullArray}, nil
		}
		if n < 0 || n > int64(r.maxArgs()) {
			return Reply{}, protoErr("invalid multibulk length")
		}
		if depth >= maxReplyDepth {
			return Reply{}, protoErr("reply nested too deeply")
		}
		rep := Reply{Kind: KindArray, Elems: make([]Reply, 0, min(n, 64))}
		for range n {
			e, err := r.reply(depth + 1)
			if err != nil {
				return Reply{}, err
			}
			rep.Elems = append(rep.Elems, e)
		}
		return rep, nil
	}
	return Reply{}, protoErr(fmt.Sprintf("unexpected reply type '%c'", c))
}
