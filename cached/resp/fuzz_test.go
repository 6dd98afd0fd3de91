package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var commandSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
	"PING\r\nSET a b\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$70\r\n" + strings.Repeat("x", 70) + "\r\nPING\r\n", // dropped, then PING
	`SET "a b" 'c\'d' "\x41\n"` + "\r\n",
	"*0\r\n*-1\r\n\r\n",
	"*1\r\n$536870912\r\nxx",
	"*2\r\n$1\r\na\r\nx",
	"*99999999\r\n",
}

// checkReadErr fails unless err is one ReadCommand/ReadReply may return.
func checkReadErr(t *testing.T, err error) {
	if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrProtocol) {
		t.Fatalf("unexpected error type: %v", err)
	}
	var pe *ProtocolError
	if errors.As(err, &pe) && !strings.HasPrefix(pe.Msg, "Protocol error: ") {
		t.Fatalf("bad message %q", pe.Msg)
	}
}

// FuzzReadCommand checks that ReadCommand never panics, never holds much
// more memory than it was sent, reads the same commands however the input is
// split, from a stream or fed to a buffer Reader in pieces (of sizes taken
// from the input), and that commands written by Writer.Command read back
// equal.
func FuzzReadCommand(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Bulk strings over 64 bytes are dropped (their commands refused),
		// over 1 MiB a protocol error.
		whole := NewReader(bytes.NewReader(data))
		whole.MaxBulk, whole.MaxDiscard, whole.MaxArgs = 64, 1<<20, 1<<12
		split := newReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 8)
		split.MaxBulk, split.MaxDiscard, split.MaxArgs = 64, 1<<20, 1<<12
		fed := newReaderSize(nil, 8)
		fed.MaxBulk, fed.MaxDiscard, fed.MaxArgs = 64, 1<<20, 1<<12
		sizes := make([]int, 0, 8)
		for _, c := range data[:min(len(data), 8)] {
			sizes = append(sizes, 1+int(c%13))
		}
		if len(sizes) == 0 {
			sizes = append(sizes, 1)
		}
		src := &chunkReader{data: data, sizes: sizes}
		for i := 0; ; i++ {
			a, errA := whole.ReadCommand()
			b, errB := split.ReadCommand()
			if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
				t.Fatalf("command %d: whole read gives %v, split read %v", i, errA, errB)
			}
			c, errC := nextBuffered(fed, src)
			if (errA == nil) != (errC == nil) || errA != nil && errA.Error() != errC.Error() {
				t.Fatalf("command %d: whole read gives %v, buffer Reader %v", i, errA, errC)
			}
			if limit := max(initialBufSize, 2*len(data)+16); cap(whole.buf) > limit || cap(split.buf) > limit || cap(fed.buf) > limit {
				t.Fatalf("buffer grew to %d/%d/%d for %d bytes of input", cap(whole.buf), cap(split.buf), cap(fed.buf), len(data))
			}
			if errors.Is(errA, ErrTooLarge) {
				continue // the same refusal from all three; the next command follows
			}
			if errA != nil {
				checkReadErr(t, errA)
				return
			}
			if len(a) == 0 || !equalArgs(a, b) || !equalArgs(a, c) {
				t.Fatalf("command %d: whole %q split %q buffer %q", i, a, b, c)
			}
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.Command(a...)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			back, err := NewReader(&buf).ReadCommand()
			if err != nil || !equalArgs(a, back) {
				t.Fatalf("round trip of %q gave %q, %v", a, back, err)
			}
		}
	})
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// FuzzReadReply checks that ReadReply never panics, reads the same replies
// however the input is split, and that replies written back by Writer.Reply
// read back equal.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":-42\r\n", "$3\r\nfoo\r\n", "$-1\r\n", "*-1\r\n",
		"*2\r\n*1\r\n:1\r\n$0\r\n\r\n", "*3\r\n", "$100\r\nab", "+a\rb\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := NewReader(bytes.NewReader(data))
		split := newReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 8)
		for i := 0; ; i++ {
			a, errA := whole.ReadReply()
			b, errB := split.ReadReply()
			if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
				t.Fatalf("reply %d: whole read gives %v, split read %v", i, errA, errB)
			}
			if errors.Is(errA, ErrTooLarge) {
				continue // the same refusal from all three; the next command follows
			}
			if errA != nil {
				checkReadErr(t, errA)
				return
			}
			if a.String() != b.String() {
				t.Fatalf("reply %d: whole %v split %v", i, a, b)
			}
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.Reply(a)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			back, err := NewReader(&buf).ReadReply()
			if err != nil || back.String() != sanitised(a).String() {
				t.Fatalf("round trip of %v gave %v, %v", a, back, err)
			}
		}
	})
}

// sanitised is rep as Writer.Reply sends it: CR and LF in simple strings and
// errors become spaces.
func sanitised(rep Reply) Reply {
	switch rep.Kind {
	case KindSimple, KindError:
		rep.Str = strings.NewReplacer("\r", " ", "\n", " ").Replace(rep.Str)
	case KindArray:
		elems := make([]Reply, len(rep.Elems))
		for i, e := range rep.Elems {
			elems[i] = sanitised(e)
		}
		rep.Elems = elems
	}
	return rep
}
