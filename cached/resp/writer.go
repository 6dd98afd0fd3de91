package resp

import (
	"io"
	"strconv"
)

const (
	flushAbove  = 64 << 10 // buffered bytes that trigger a write
	directAbove = 16 << 10 // bulk values at least this long bypass the buffer
)

// Writer writes RESP2 to a stream through its own buffer. Methods record the
// first write error, after which they do nothing; Flush returns it. A Writer
// writes to the stream on its own only when more than 64 KiB are buffered or
// for a bulk value of 16 KiB or more (written directly, without a copy); call
// Flush to send the rest.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, 4<<10)}
}

// Reset discards buffered output and the error and writes to w.
func (w *Writer) Reset(to io.Writer) { w.w, w.buf, w.err = to, w.buf[:0], nil }

// Buffered returns the number of bytes not yet written to the stream.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffer to the stream and returns the first error.
func (w *Writer) Flush() error {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
	}
	w.buf = w.buf[:0]
	return w.err
}

func (w *Writer) maybeFlush() {
	if len(w.buf) > flushAbove {
		w.Flush()
	}
}

// appendLine appends s with '\r' and '\n' replaced by spaces, then CRLF, so
// a simple string or error can never break framing.
func (w *Writer) appendLine(prefix byte, s string) {
	w.buf = append(w.buf, prefix)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.buf = append(w.buf, c)
	}
	w.buf = append(w.buf, '\r', '\n')
	w.maybeFlush()
}

func (w *Writer) appendInt(prefix byte, n int64) {
	w.buf = append(w.buf, prefix)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// SimpleString writes "+s".
func (w *Writer) SimpleString(s string) { w.appendLine('+', s) }

// Error writes "-msg"; msg is the whole message with its code, e.g.
// "ERR unknown command" or "WRONGTYPE ...".
func (w *Writer) Error(msg string) { w.appendLine('-', msg) }

// Integer writes ":n".
func (w *Writer) Integer(n int64) {
	w.appendInt(':', n)
	w.maybeFlush()
}

// Bulk writes b as a bulk string; a nil b is an empty string, not null.
func (w *Writer) Bulk(b []byte) {
	w.appendInt('$', int64(len(b)))
	if len(b) >= directAbove {
		if w.Flush() == nil {
			_, w.err = w.w.Write(b)
		}
	} else {
		w.buf = append(w.buf, b...)
	}
	w.buf = append(w.buf, '\r', '\n')
	w.maybeFlush()
}

// BulkString writes s as a bulk string.
func (w *Writer) BulkString(s string) {
	w.appendInt('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
	w.maybeFlush()
}

// NullBulk writes the null bulk string "$-1".
func (w *Writer) NullBulk() { w.buf = append(w.buf, "$-1\r\n"...); w.maybeFlush() }

// ArrayHeader writes "*n"; the caller then writes n elements.
func (w *Writer) ArrayHeader(n int) { w.appendInt('*', int64(n)); w.maybeFlush() }

// NullArray writes the null array "*-1".
func (w *Writer) NullArray() { w.buf = append(w.buf, "*-1\r\n"...); w.maybeFlush() }

// Command writes a command as an array of bulk strings, as clients send it.
func (w *Writer) Command(args ...[]byte) {
	w.ArrayHeader(len(args))
	for _, a := range args {
		w.Bulk(a)
	}
}

// CommandString is Command for string arguments.
func (w *Writer) CommandString(args ...string) {
	w.ArrayHeader(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
}

// Reply writes rep, nested arrays included. Simple strings and errors lose
// any CR or LF (see SimpleString); kinds outside the constants are written as
// null bulk strings.
func (w *Writer) Reply(rep Reply) {
	switch rep.Kind {
	case KindSimple:
		w.SimpleString(rep.Str)
	case KindError:
		w.Error(rep.Str)
	case KindInteger:
		w.Integer(rep.Int)
	case KindBulk:
		w.BulkString(rep.Str)
	case KindArray:
		w.ArrayHeader(len(rep.Elems))
		for _, e := range rep.Elems {
			w.Reply(e)
		}
	case KindNullArray:
		w.NullArray()
	default:
		w.NullBulk()
	}
}
