package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Default limits; see the Reader fields.
const (
	DefaultMaxBulk   = 512 << 20
	DefaultMaxArgs   = 1024 * 1024
	DefaultMaxInline = 64 << 10
)

const (
	initialBufSize = 16 << 10
	shrinkAbove    = 1 << 20 // a buffer grown past this is dropped when idle
	maxEmptyReads  = 100
	maxReplyDepth  = 128
)

// Reader reads RESP2 from a stream, or, made by NewBufferReader, from the
// input its owner hands it with Fill. Set the limit fields before the first
// read; zero means the default.
type Reader struct {
	MaxBulk   int64 // largest bulk string, DefaultMaxBulk if 0
	MaxArgs   int   // most arguments (or reply array elements), DefaultMaxArgs if 0
	MaxInline int   // longest inline command or header line, DefaultMaxInline if 0
	// MaxDiscard is the largest bulk string of a command that ReadCommand
	// reads and drops, when it is over MaxBulk: the command is refused with a
	// *TooLargeError and the Reader goes on with the next command, so a
	// client that sent it in full reads the error rather than a reset
	// connection. The payload is not buffered. A bulk string over MaxDiscard
	// is a protocol error, as one over proto-max-bulk-len is in Redis; so is
	// every one over MaxBulk when MaxDiscard is not above it.
	// DefaultMaxBulk (512 MiB, Redis's default proto-max-bulk-len) if 0.
	MaxDiscard int64
	// MaxBulkName and MaxDiscardName name the settings in the errors about a
	// bulk string over them ("argument is 10485760 bytes, the limit
	// (resp_max_bulk) is 8388608"); "MaxBulk" and "MaxDiscard" if empty.
	MaxBulkName    string
	MaxDiscardName string

	rd    io.Reader // nil for a buffer Reader: more returns ErrIncomplete
	buf   []byte
	r, w  int // unread input is buf[r:w]
	start int // start of the current command; buf[start:w] is kept by more
	size  int // initial buffer size
	spans []span
	args  [][]byte
	err   error // sticky error from rd

	// A command ReadCommand has begun but not finished, because it ran out
	// of buffered input without a stream to read (a buffer Reader, or
	// ReadBufferedCommand): its array header and the arguments in spans are
	// parsed, left more follow at r.
	part bool
	left int64
	// scanned counts the bytes after r that line has searched for '\n'
	// without finding one, so that a line arriving in pieces is scanned once.
	scanned int
	// A command with an argument over MaxBulk is read to its end and
	// dropped: dropping is set while the payload (skip more bytes, then the
	// CRLF) of such an argument is being discarded, and tooLarge is the size
	// of the first one.
	dropping bool
	skip     int64
	tooLarge int64
}

// span locates an argument relative to Reader.start.
type span struct{ off, n int }

// ErrIncomplete is returned by ReadCommand of a buffer Reader (see
// NewBufferReader), and by ReadBufferedCommand, when the buffer holds no
// complete command. The input is kept: once more has arrived, the next
// ReadCommand resumes where this one stopped.
var ErrIncomplete = errors.New("resp: incomplete command")

// NewReader returns a Reader reading from rd with its own buffer.
func NewReader(rd io.Reader) *Reader { return newReaderSize(rd, initialBufSize) }

// NewBufferReader returns a Reader that never reads on its own, for event
// loops: its owner adds input with Fill when the connection is readable, and
// ReadCommand parses only what was added, returning ErrIncomplete instead of
// waiting for more. Parsing resumes where it stopped, so a command that
// arrives in many pieces is parsed about once. ReadReply needs a stream and
// must not be used on it.
func NewBufferReader() *Reader { return newReaderSize(nil, initialBufSize) }

func newReaderSize(rd io.Reader, size int) *Reader {
	return &Reader{rd: rd, buf: make([]byte, size), size: size}
}

// Reset discards buffered input and reads from rd, keeping limits and buffers.
func (r *Reader) Reset(rd io.Reader) {
	r.rd, r.r, r.w, r.start, r.err = rd, 0, 0, 0, nil
	r.part, r.left, r.scanned = false, 0, 0
	r.dropping, r.skip, r.tooLarge = false, 0, 0
}

// Attach makes a buffer Reader read from rd from now on, like a Reader made
// by NewReader, keeping the input it holds and the command it has begun.
func (r *Reader) Attach(rd io.Reader) { r.rd = rd }

// Fill reads once from rd into the buffer of a buffer Reader, after making
// room: consumed input is dropped, and the buffer doubles only when a
// command that does not fit is being received. It returns the results of
// that one Read, and, in full, whether it filled all the space it was
// offered (so the stream may hold more). The arguments returned by
// ReadCommand before are invalid after Fill.
func (r *Reader) Fill(rd io.Reader) (n int, full bool, err error) {
	if !r.part {
		r.begin() // everything before r is consumed
	}
	if r.start > 0 && len(r.buf)-r.w < len(r.buf)/4 {
		r.compact()
	}
	r.room()
	p := r.buf[r.w:]
	n, err = rd.Read(p)
	if n < 0 || n > len(p) {
		return 0, false, io.ErrShortBuffer
	}
	r.w += n
	return n, n == len(p), err
}

// Buffered returns the number of bytes already read from the stream and not
// yet consumed: 0 means the next read may block.
func (r *Reader) Buffered() int { return r.w - r.r }

func (r *Reader) maxBulk() int64 {
	if r.MaxBulk > 0 {
		return r.MaxBulk
	}
	return DefaultMaxBulk
}

func (r *Reader) maxDiscard() int64 {
	if r.MaxDiscard > 0 {
		return r.MaxDiscard
	}
	return DefaultMaxBulk
}

// bulkTooLong is the protocol error about a bulk string of n bytes, over
// MaxBulk and over MaxDiscard.
func (r *Reader) bulkTooLong(n int64) error {
	name, limit := r.MaxBulkName, r.maxBulk()
	if name == "" {
		name = "MaxBulk"
	}
	if r.maxDiscard() > limit {
		name, limit = r.MaxDiscardName, r.maxDiscard()
		if name == "" {
			name = "MaxDiscard"
		}
	}
	return protoErr(fmt.Sprintf("invalid bulk length: %d bytes, the limit (%s) is %d", n, name, limit))
}

// argTooLarge is the error about a command dropped for an argument of n
// bytes, over MaxBulk.
func (r *Reader) argTooLarge(n int64) error {
	name := r.MaxBulkName
	if name == "" {
		name = "MaxBulk"
	}
	return &TooLargeError{Size: n, Limit: r.maxBulk(),
		Msg: fmt.Sprintf("argument is %d bytes, the limit (%s) is %d", n, name, r.maxBulk())}
}

func (r *Reader) maxArgs() int {
	if r.MaxArgs > 0 {
		return r.MaxArgs
	}
	return DefaultMaxArgs
}

func (r *Reader) maxInline() int {
	if r.MaxInline > 0 {
		return r.MaxInline
	}
	return DefaultMaxInline
}

// begin starts a new command or reply at r.r, reclaiming buffer space.
func (r *Reader) begin() {
	if r.r == r.w {
		r.r, r.w = 0, 0
		if len(r.buf) > shrinkAbove {
			r.buf = make([]byte, r.size)
		}
	}
	r.start = r.r
}

// compact moves the current command to the front of the buffer. Positions
// in buf change; spans, which are relative to start, do not.
func (r *Reader) compact() {
	n := copy(r.buf, r.buf[r.start:r.w])
	r.r -= r.start
	r.w = n
	r.start = 0
}

// room makes the buffer not full: it moves the current command to the front
// or, when the command fills the buffer, doubles it.
func (r *Reader) room() {
	if r.w < len(r.buf) {
		return
	}
	if r.start > 0 {
		r.compact()
		return
	}
	nb := make([]byte, 2*len(r.buf))
	copy(nb, r.buf[:r.w])
	r.buf = nb
}

// more reads at least one byte into the buffer, first making room (see
// room). A buffer Reader reads nothing and returns ErrIncomplete.
func (r *Reader) more() error {
	if r.err != nil {
		return r.err
	}
	if r.rd == nil {
		return ErrIncomplete
	}
	r.room()
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.err = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}

// eof maps a read error in the middle of a message to io.ErrUnexpectedEOF.
func eof(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// line returns the next line without its "\n" (a '\r' before it is left in)
// and consumes it. The slice is valid until the next more.
//
// When it returns ErrIncomplete it remembers how far it searched, and the
// caller must call it again from the same r.
func (r *Reader) line(limit int, what string) ([]byte, error) {
	for {
		if i := bytes.IndexByte(r.buf[r.r+r.scanned:r.w], '\n'); i >= 0 {
			end := r.r + r.scanned + i
			r.scanned = 0
			if end-r.r > limit { // the same verdict however the input was split
				return nil, protoErr("too big " + what)
			}
			ln := r.buf[r.r:end]
			r.r = end + 1
			return ln, nil
		}
		r.scanned = r.w - r.r
		if r.scanned > limit {
			r.scanned = 0
			return nil, protoErr("too big " + what)
		}
		if err := r.more(); err != nil {
			if err != ErrIncomplete {
				r.scanned = 0
			}
			return nil, err
		}
	}
}

// header reads a "<prefix><integer>\r\n" line whose prefix was checked.
//
// what and line name the header in errors ("bulk length", "bulk length
// string"); both are constants at every call site so that reading a header
// builds no string.
func (r *Reader) header(what, line string) (int64, error) {
	ln, err := r.line(r.maxInline(), line)
	if err != nil {
		return 0, err
	}
	if len(ln) < 2 || ln[len(ln)-1] != '\r' {
		return 0, protoErr("invalid " + what)
	}
	n, ok := parseInt(ln[1 : len(ln)-1])
	if !ok {
		return 0, protoErr("invalid " + what)
	}
	return n, nil
}

// need makes n bytes available at r.r.
func (r *Reader) need(n int) error {
	for r.w-r.r < n {
		if err := r.more(); err != nil {
			return err
		}
	}
	return nil
}

// peek returns the next byte without consuming it.
func (r *Reader) peek() (byte, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	return r.buf[r.r], nil
}

// ReadCommand reads one command: an array of bulk strings or an inline
// command. Empty commands ("*0\r\n", blank lines) are skipped, so it returns
// at least one argument. The arguments alias the Reader's buffer and are
// valid until the next call on r (their capacity is their length, so
// appending to one copies). At a clean end of stream it returns io.EOF, in
// the middle of a command io.ErrUnexpectedEOF; malformed input gives an
// error wrapping ErrProtocol, after which r is unusable. A command with an
// argument over MaxBulk but within MaxDiscard is read to its end without
// being buffered and refused with a *TooLargeError (wrapping ErrTooLarge);
// the next call reads the command after it. A buffer Reader returns
// ErrIncomplete when the rest of the command has not arrived yet.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		if !r.part {
			r.begin()
			c, err := r.peek()
			if err != nil {
				return nil, err
			}
			r.spans = r.spans[:0]
			if c == '*' {
				count, err := r.header("multibulk length", "multibulk length string")
				if err != nil {
					r.r = r.start
					return nil, eof(err)
				}
				if count > int64(r.maxArgs()) {
					return nil, protoErr("invalid multibulk length")
				}
				r.part, r.left = true, max(count, 0) // count <= 0 is an empty command
			} else if err := r.readInline(); err != nil {
				r.r = r.start
				return nil, err
			}
		}
		if r.part {
			if err := r.readArgs(); err != nil {
				if err != ErrIncomplete {
					r.part = false
				}
				return nil, err
			}
			r.part = false
		}
		if len(r.spans) == 0 {
			continue
		}
		r.args = r.args[:0]
		for _, s := range r.spans {
			p := r.start + s.off
			r.args = append(r.args, r.buf[p:p+s.n:p+s.n])
		}
		return r.args, nil
	}
}

// ReadBufferedCommand is ReadCommand without reading from the stream: when
// the buffer holds no complete command it returns ErrIncomplete, and the
// next ReadCommand goes on with what it parsed. A server runs the commands
// a client has sent so far this way before it writes their replies.
func (r *Reader) ReadBufferedCommand() ([][]byte, error) {
	rd := r.rd
	r.rd = nil
	args, err := r.ReadCommand()
	r.rd = rd
	return args, err
}

// readArgs reads the r.left bulk strings that remain of an array command. It
// leaves r at the start of the first one it could not read whole, or, while
// dropping an argument over MaxBulk, after what it discarded. A command with
// such an argument is read to its end and then refused with a *TooLargeError.
func (r *Reader) readArgs() error {
	for {
		if r.dropping {
			if err := r.drop(); err != nil {
				return eof(err)
			}
		}
		if r.left == 0 {
			break
		}
		mark := r.r
		c, err := r.peek()
		if err != nil {
			return eof(err)
		}
		if c != '$' {
			return protoErr(fmt.Sprintf("expected '$', got '%c'", c))
		}
		n, err := r.header("bulk length", "bulk length string")
		if err != nil {
			r.r = mark
			return eof(err)
		}
		if n < 0 {
			return protoErr("invalid bulk length")
		}
		if n > r.maxBulk() {
			if n > r.maxDiscard() {
				return r.bulkTooLong(n)
			}
			// Drop the whole command: its arguments so far, this payload
			// (without buffering it) and the arguments after it.
			if r.tooLarge == 0 {
				r.tooLarge = n
			}
			r.spans = r.spans[:0]
			r.start = r.r
			r.dropping, r.skip = true, n
			r.left--
			continue
		}
		if err := r.need(int(n) + 2); err != nil {
			r.r = mark
			return eof(err)
		}
		if r.buf[r.r+int(n)] != '\r' || r.buf[r.r+int(n)+1] != '\n' {
			return protoErr("expected CRLF after bulk string")
		}
		r.spans = append(r.spans, span{r.r - r.start, int(n)})
		r.r += int(n) + 2
		r.left--
	}
	if n := r.tooLarge; n > 0 {
		r.tooLarge = 0
		return r.argTooLarge(n)
	}
	return nil
}

// drop discards the rest of the payload of an argument over MaxBulk and the
// CRLF after it. Nothing of the command is kept: start follows r, so the
// buffer neither grows nor keeps the discarded bytes. On ErrIncomplete the
// next call goes on where this one stopped.
func (r *Reader) drop() error {
	for r.skip > 0 {
		if r.r == r.w {
			r.start = r.r
			if err := r.more(); err != nil {
				return err
			}
		}
		k := min(r.skip, int64(r.w-r.r))
		r.r += int(k)
		r.skip -= k
	}
	r.start = r.r
	if err := r.need(2); err != nil {
		return err
	}
	if r.buf[r.r] != '\r' || r.buf[r.r+1] != '\n' {
		return protoErr("expected CRLF after bulk string")
	}
	r.r += 2
	r.start = r.r
	r.dropping = false
	return nil
}

// readInline splits one line into arguments exactly as redis-server's
// sdssplitargs does (processInlineBuffer): one '\r' before the '\n' is
// dropped; blanks (isspace) separate arguments; within an argument
// unquoted text is literal up to a space, '\t', '\r', '\n' or a quote, and
// a quote may open anywhere, so a"b c" is the one argument `ab c`; inside
// "double quotes" the escapes \xHH (two hex digits), \n \r \t \b \a and
// \<any byte> (that byte) are decoded; inside 'single quotes' only \' is; a
// closing quote must be followed by a blank or the end of the line, and an
// unclosed quote is an error ("unbalanced quotes in request"). A NUL byte
// ends the line, as it ends the C string sdssplitargs reads. Unescaping
// happens in place, since the output never outruns the input.
func (r *Reader) readInline() error {
	ln, err := r.line(r.maxInline(), "inline request")
	if err != nil {
		return eof(err)
	}
	if n := len(ln); n > 0 && ln[n-1] == '\r' {
		ln = ln[:n-1]
	}
	if i := bytes.IndexByte(ln, 0); i >= 0 {
		ln = ln[:i]
	}
	// ln starts at r.start, so offsets in ln are span offsets; more is not
	// called again for this command.
	out, i := 0, 0
	for {
		for i < len(ln) && isSpace(ln[i]) {
			i++
		}
		if i == len(ln) {
			return nil
		}
		if len(r.spans) >= r.maxArgs() {
			return protoErr("too many arguments in inline request")
		}
		argStart := out
		var quote byte // the open quote, or 0
	arg:
		for {
			if i == len(ln) {
				if quote != 0 {
					return protoErr("unbalanced quotes in request")
				}
				break
			}
			c := ln[i]
			switch {
			case quote == 0:
				switch c {
				case ' ', '\n', '\r', '\t':
					break arg
				case '"', '\'':
					quote = c
					i++
					continue
				}
				i++
			case c == quote:
				if i+1 < len(ln) && !isSpace(ln[i+1]) {
					return protoErr("unbalanced quotes in request")
				}
				i++
				break arg
			case quote == '"' && c == '\\' && i+1 < len(ln):
				c, i = unescape(ln, i)
			case quote == '\'' && c == '\\' && i+1 < len(ln) && ln[i+1] == '\'':
				c, i = '\'', i+2
			default:
				i++
			}
			ln[out] = c
			out++
		}
		r.spans = append(r.spans, span{argStart, out - argStart})
	}
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// unescape decodes the escape at ln[i] == '\\' (with i+1 < len(ln)) and
// returns the byte and the index after the escape.
func unescape(ln []byte, i int) (byte, int) {
	switch c := ln[i+1]; c {
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'b':
		return '\b', i + 2
	case 'a':
		return '\a', i + 2
	case 'x':
		if i+3 < len(ln) {
			if h, ok := unhex(ln[i+2]); ok {
				if l, ok := unhex(ln[i+3]); ok {
					return h<<4 | l, i + 4
				}
			}
		}
		return c, i + 2
	default:
		return c, i + 2
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseInt parses an optionally negative decimal int64 with no other
// characters.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow uint64
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u), true
	case neg && u <= 1<<63:
		return -int64(u), true
	}
	return 0, false
}
