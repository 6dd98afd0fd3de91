package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readTolerant reads commands with next until an error other than
// ErrTooLarge; a refused command is returned as {"refused: <Msg>"}.
func readTolerant(next func() ([][]byte, error)) ([][]string, error) {
	var out [][]string
	for {
		args, err := next()
		var tl *TooLargeError
		switch {
		case errors.As(err, &tl):
			out = append(out, []string{"refused: " + tl.Msg})
			continue
		case err != nil:
			return out, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		out = append(out, cmd)
	}
}

// A command with an argument over MaxBulk (and within MaxDiscard) is read to
// its end and refused, the commands after it are read, and the payload is
// never buffered; however the input is split, from a stream or a buffer
// Reader.
func TestReadCommandDropsOversizeArgument(t *testing.T) {
	const size = 300 << 10
	var in bytes.Buffer
	w := NewWriter(&in)
	w.CommandString("SET", "k", strings.Repeat("x", size), "EX", "10")
	w.CommandString("PING")
	w.CommandString("SET", strings.Repeat("a", size+1), strings.Repeat("b", size+2)) // two
	w.CommandString("SET", "k", "v")
	require.NoError(t, w.Flush())
	want := [][]string{
		{fmt.Sprintf("refused: argument is %d bytes, the limit (resp_max_bulk) is 1024", size)},
		{"PING"},
		{fmt.Sprintf("refused: argument is %d bytes, the limit (resp_max_bulk) is 1024", size+1)},
		{"SET", "k", "v"},
	}
	setup := func(r *Reader) {
		r.MaxBulk, r.MaxBulkName = 1024, "resp_max_bulk"
		r.MaxDiscard, r.MaxDiscardName = 1<<20, "resp_max_discard"
	}
	for _, chunk := range []int{1, 7, 1000, 1 << 20} {
		t.Run(fmt.Sprintf("stream/chunk=%d", chunk), func(t *testing.T) {
			r := NewReader(&chunkReader{data: in.Bytes(), sizes: []int{chunk}})
			setup(r)
			got, err := readTolerant(r.ReadCommand)
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, want, got)
			require.LessOrEqual(t, cap(r.buf), 4*initialBufSize, "the payload was buffered")
		})
		t.Run(fmt.Sprintf("buffer/chunk=%d", chunk), func(t *testing.T) {
			r := NewBufferReader()
			setup(r)
			src := &chunkReader{data: in.Bytes(), sizes: []int{chunk}}
			got, err := readTolerant(func() ([][]byte, error) { return nextBuffered(r, src) })
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, want, got)
			require.LessOrEqual(t, cap(r.buf), 4*initialBufSize, "the payload was buffered")
		})
	}
}

// Over MaxDiscard, or with no room to discard (MaxDiscard not above
// MaxBulk), an oversize bulk is a protocol error naming the limit that
// applied; a dropped payload not followed by CRLF is one too.
func TestReadCommandOversizeProtocolErrors(t *testing.T) {
	tests := []struct {
		name       string
		maxDiscard int64
		in         string
		want       string
	}{
		{"over max discard", 100, "*2\r\n$3\r\nGET\r\n$101\r\n", "invalid bulk length: 101 bytes, the limit (resp_max_discard) is 100"},
		{"no discard", 10, "*2\r\n$3\r\nGET\r\n$11\r\n", "invalid bulk length: 11 bytes, the limit (resp_max_bulk) is 10"},
		{"default discard", 0, "*2\r\n$3\r\nGET\r\n$536870913\r\n", "invalid bulk length: 536870913 bytes, the limit (resp_max_discard) is 536870912"},
		{"no crlf", 100, "*2\r\n$3\r\nGET\r\n$11\r\n" + strings.Repeat("x", 11) + "xx*1\r\n$4\r\nPING\r\n", "expected CRLF after bulk string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			r.MaxBulk, r.MaxBulkName = 10, "resp_max_bulk"
			r.MaxDiscard, r.MaxDiscardName = tt.maxDiscard, "resp_max_discard"
			_, err := readTolerant(r.ReadCommand)
			checkErr(t, err, tt.want)
		})
	}
}

// A stream that ends inside a dropped payload ends in io.ErrUnexpectedEOF.
func TestReadCommandOversizeTruncated(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$3\r\nGET\r\n$100\r\nxxxx"))
	r.MaxBulk, r.MaxDiscard = 10, 1000
	_, err := r.ReadCommand()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}
