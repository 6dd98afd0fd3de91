package resp

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Reply
		wantErr string
	}{
		{"simple", "+OK\r\n", Reply{Kind: KindSimple, Str: "OK"}, ""},
		{"empty simple", "+\r\n", Reply{Kind: KindSimple}, ""},
		{"error", "-ERR unknown command 'x'\r\n", Reply{Kind: KindError, Str: "ERR unknown command 'x'"}, ""},
		{"integer", ":42\r\n", Reply{Kind: KindInteger, Int: 42}, ""},
		{"min integer", ":-9223372036854775808\r\n", Reply{Kind: KindInteger, Int: -9223372036854775808}, ""},
		{"max integer", ":9223372036854775807\r\n", Reply{Kind: KindInteger, Int: 9223372036854775807}, ""},
		{"bulk", "$5\r\nhello\r\n", Reply{Kind: KindBulk, Str: "hello"}, ""},
		{"binary bulk", "$2\r\n\r\n\r\n", Reply{Kind: KindBulk, Str: "\r\n"}, ""},
		{"empty bulk", "$0\r\n\r\n", Reply{Kind: KindBulk}, ""},
		{"null", "$-1\r\n", Reply{Kind: KindNull}, ""},
		{"null array", "*-1\r\n", Reply{Kind: KindNullArray}, ""},
		{"empty array", "*0\r\n", Reply{Kind: KindArray, Elems: []Reply{}}, ""},
		{"nested", "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR x\r\n", Reply{Kind: KindArray, Elems: []Reply{
			{Kind: KindInteger, Int: 1},
			{Kind: KindArray, Elems: []Reply{{Kind: KindBulk, Str: "a"}, {Kind: KindNull}}},
			{Kind: KindError, Str: "ERR x"},
		}}, ""},
		{"bad type", "?x\r\n", Reply{}, "unexpected reply type '?'"},
		{"bad integer", ":4x\r\n", Reply{}, "invalid integer"},
		{"integer overflow", ":9223372036854775808\r\n", Reply{}, "invalid integer"},
		{"bad bulk length", "$-2\r\n", Reply{}, "invalid bulk length"},
		{"bad array length", "*-2\r\n", Reply{}, "invalid multibulk length"},
		{"simple without CR", "+OK\n", Reply{}, "expected CRLF"},
		{"truncated array", "*2\r\n:1\r\n", Reply{}, "unexpected EOF"},
		{"truncated bulk", "$5\r\nhel", Reply{}, "unexpected EOF"},
		{"empty", "", Reply{}, "EOF"},
		{"too deep", strings.Repeat("*1\r\n", maxReplyDepth+1) + ":1\r\n", Reply{}, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunked := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tt.in)
				if chunked {
					src = iotest.OneByteReader(src)
				}
				got, err := newReaderSize(src, 8).ReadReply()
				if tt.wantErr != "" {
					checkErr(t, err, tt.wantErr)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestReplyString(t *testing.T) {
	rep := Reply{Kind: KindArray, Elems: []Reply{{Kind: KindSimple, Str: "OK"}, {Kind: KindInteger, Int: 3}, {Kind: KindNull}, {Kind: KindBulk, Str: "a\n"}, {Kind: KindError, Str: "ERR x"}}}
	require.Equal(t, `[OK, (integer) 3, (nil), "a\n", (error) ERR x]`, rep.String())
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer)
		want  string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n"},
		{"simple sanitised", func(w *Writer) { w.SimpleString("a\r\nb") }, "+a  b\r\n"},
		{"error", func(w *Writer) { w.Error("ERR bad\nthing") }, "-ERR bad thing\r\n"},
		{"integer", func(w *Writer) { w.Integer(-12) }, ":-12\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("hi")) }, "$2\r\nhi\r\n"},
		{"nil bulk is empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n"},
		{"bulk string", func(w *Writer) { w.BulkString("hi") }, "$2\r\nhi\r\n"},
		{"null bulk", func(w *Writer) { w.NullBulk() }, "$-1\r\n"},
		{"array", func(w *Writer) { w.ArrayHeader(2); w.Integer(1); w.NullBulk() }, "*2\r\n:1\r\n$-1\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n"},
		{"command", func(w *Writer) { w.CommandString("GET", "k") }, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{"reply", func(w *Writer) {
			w.Reply(Reply{Kind: KindArray, Elems: []Reply{{Kind: KindNullArray}, {Kind: KindBulk, Str: "x"}}})
		}, "*2\r\n*-1\r\n$1\r\nx\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b)
			tt.write(w)
			require.Zero(t, b.Len(), "nothing written before Flush")
			require.NoError(t, w.Flush())
			require.Equal(t, tt.want, b.String())
		})
	}
}

func TestWriterLargeAndErrors(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	big := bytes.Repeat([]byte("z"), directAbove)
	w.SimpleString("OK")
	w.Bulk(big) // flushes what is buffered, then writes big directly
	require.Equal(t, "+OK\r\n$16384\r\n"+string(big), b.String())
	require.NoError(t, w.Flush())
	r := NewReader(&b)
	rep, err := r.ReadReply()
	require.NoError(t, err)
	require.Equal(t, "OK", rep.Str)
	rep, err = r.ReadReply()
	require.NoError(t, err)
	require.Equal(t, string(big), rep.Str)

}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) { f.n++; return 0, io.ErrClosedPipe }

func TestWriterStickyError(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(fw)
	w.SimpleString("OK")
	require.ErrorIs(t, w.Flush(), io.ErrClosedPipe)
	w.Bulk(make([]byte, directAbove))
	require.ErrorIs(t, w.Flush(), io.ErrClosedPipe)
	require.Equal(t, 1, fw.n, "no writes after the first error")
	w.Reset(&bytes.Buffer{})
	w.Integer(1)
	require.NoError(t, w.Flush())
}
