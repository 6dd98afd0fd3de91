package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// readAll reads commands until an error and returns them (copied) with it.
func readAll(r *Reader) ([][]string, error) { return collect(r.ReadCommand) }

// collect calls next until it fails and returns the commands it read, as
// strings, with the error that ended them.
func collect(next func() ([][]byte, error)) ([][]string, error) {
	var out [][]string
	for {
		args, err := next()
		if err != nil {
			return out, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		out = append(out, cmd)
	}
}

func TestReadCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    [][]string
		wantErr string // substring of ProtocolError.Msg, or "EOF"/"unexpected EOF"
	}{
		{"array", "*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}, "EOF"},
		{"set", "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", [][]string{{"SET", "key", "value"}}, "EOF"},
		{"pipelined", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", [][]string{{"PING"}, {"GET", "k"}}, "EOF"},
		{"binary bulk", "*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n", [][]string{{"GET", "a\r\nb"}}, "EOF"},
		{"empty bulk", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", [][]string{{"GET", ""}}, "EOF"},
		{"empty array skipped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}, "EOF"},
		{"inline", "PING\r\n", [][]string{{"PING"}}, "EOF"},
		{"inline bare newline", "SET a b\n", [][]string{{"SET", "a", "b"}}, "EOF"},
		{"inline blanks", "  SET\t a   b  \r\n", [][]string{{"SET", "a", "b"}}, "EOF"},
		{"inline empty lines skipped", "\r\n\n   \r\nPING\r\n", [][]string{{"PING"}}, "EOF"},
		{"inline double quotes", `SET "a b" "x\"y\\z\n\x41\x4g"` + "\r\n", [][]string{{"SET", "a b", "x\"y\\z\nAx4g"}}, "EOF"},
		{"inline single quotes", `SET 'it\'s' 'a\nb'` + "\r\n", [][]string{{"SET", "it's", `a\nb`}}, "EOF"},
		{"inline empty quoted", `SET "" ''` + "\n", [][]string{{"SET", "", ""}}, "EOF"},
		{"inline quote opened inside a word", `SET a"b c"` + "\n", [][]string{{"SET", "ab c"}}, "EOF"},
		{"inline unclosed quote inside a word", `SET a"b c` + "\n", nil, "unbalanced quotes"},
		{"inline then array", "PING\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}, {"PING"}}, "EOF"},
		{"unbalanced quotes", "SET \"a\r\n", nil, "unbalanced quotes"},
		{"text after closing quote", "SET \"a\"b\r\n", nil, "unbalanced quotes"},
		{"expected dollar", "*1\r\nx4\r\nPING\r\n", nil, "expected '$', got 'x'"},
		{"bad multibulk length", "*x\r\n", nil, "invalid multibulk length"},
		{"multibulk too long", "*1048577\r\n", nil, "invalid multibulk length"},
		{"multibulk missing CR", "*1\n$4\r\nPING\r\n", nil, "invalid multibulk length"},
		{"bad bulk length", "*1\r\n$x\r\n", nil, "invalid bulk length"},
		{"negative bulk length", "*1\r\n$-1\r\n", nil, "invalid bulk length"},
		{"bulk too long", "*1\r\n$536870913\r\n", nil, "invalid bulk length"},
		{"bulk without CRLF", "*1\r\n$4\r\nPINGxx", nil, "expected CRLF"},
		{"truncated array", "*2\r\n$3\r\nGET\r\n", nil, "unexpected EOF"},
		{"truncated bulk", "*1\r\n$4\r\nPI", nil, "unexpected EOF"},
		{"truncated header", "*1\r\n$4", nil, "unexpected EOF"},
		{"truncated inline", "PING", nil, "unexpected EOF"},
		{"empty input", "", nil, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunked := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tt.in)
				if chunked {
					src = iotest.OneByteReader(src)
				}
				got, err := readAll(newReaderSize(src, 8))
				require.Equal(t, tt.want, got)
				checkErr(t, err, tt.wantErr)
			}
			for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
				r := newReaderSize(nil, 8)
				got, err := readAllBuffered(r, &chunkReader{data: []byte(tt.in), sizes: []int{chunk}})
				require.Equal(t, tt.want, got, "fed %d bytes at a time", chunk)
				checkErr(t, err, tt.wantErr)
			}
		})
	}
}

// TestInlineSplit checks the inline parser against redis-server 7.0's
// sdssplitargs: every want below is what redis-server answered to
// "ECHO <in>" or a command of these words (error: the inline request is
// refused with "Protocol error: unbalanced quotes in request").
func TestInlineSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: unbalanced quotes
	}{
		{`ECHO a"b c"`, []string{"ECHO", "ab c"}},
		{`ECHO a"b c`, nil},
		{`ECHO "a"b`, nil},
		{`ECHO "a" b`, []string{"ECHO", "a", "b"}},
		{`ECHO 'a'b`, nil},
		{`ECHO a'b c'd`, nil},
		{`ECHO a'b c'`, []string{"ECHO", "ab c"}},
		{`ECHO "x\x41\x4g\n\q"`, []string{"ECHO", "xAx4g\nq"}},
		{`ECHO "\x4A\x4a\x"`, []string{"ECHO", "JJx"}},
		{`ECHO "\r\t\b\a\"\\"`, []string{"ECHO", "\r\t\b\a\"\\"}},
		{`ECHO 'it\'s'`, []string{"ECHO", "it's"}},
		{`ECHO 'a\nb'`, []string{"ECHO", `a\nb`}},
		{`ECHO "" ''`, []string{"ECHO", "", ""}},
		{"ECHO a\vb", []string{"ECHO", "a\vb"}}, // \v ends no word...
		{"\vECHO \fa", []string{"ECHO", "a"}},   // ...but is skipped between words
		{`ECHO "abc\`, nil},
		{"ECHO \"a\tb\"", []string{"ECHO", "a\tb"}},
		{"ECHO \"a\"\vb", []string{"ECHO", "a", "b"}},
		{"ECHO a\rb", []string{"ECHO", "a", "b"}},
		{"ECHO \"a\rb\"", []string{"ECHO", "a\rb"}},
		{"ECHO \"a b\"\r", []string{"ECHO", "a b"}},
		{"ECHO \"a b\r", nil},
		{"ECHO a\x00b c", []string{"ECHO", "a"}}, // a NUL ends the C string
		{"   ", nil},
	}
	for _, tt := range tests {
		r := NewReader(strings.NewReader(tt.in + "\n" + "PING\r\n"))
		args, err := r.ReadCommand()
		if tt.want == nil && strings.TrimSpace(tt.in) != "" {
			checkErr(t, err, "unbalanced quotes in request")
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		if tt.want == nil { // a blank line is skipped
			require.Equal(t, "PING", string(args[0]))
			continue
		}
		got := make([]string, len(args))
		for i, a := range args {
			got[i] = string(a)
		}
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// readAllBuffered is readAll for a buffer Reader fed from src with Fill. At
// the end of src it returns io.EOF, or io.ErrUnexpectedEOF when a command
// was begun, as ReadCommand on a stream does.
func readAllBuffered(r *Reader, src io.Reader) ([][]string, error) {
	return collect(func() ([][]byte, error) { return nextBuffered(r, src) })
}

// nextBuffered returns the next command of a buffer Reader, filling it from
// src when it is incomplete.
func nextBuffered(r *Reader, src io.Reader) ([][]byte, error) {
	for {
		args, err := r.ReadCommand()
		if err != ErrIncomplete {
			return args, err
		}
		n, _, err := r.Fill(src)
		if n == 0 && err != nil {
			if r.part || r.Buffered() > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		}
	}
}

// chunkReader returns data in pieces of the sizes given, in turn.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), max(c.sizes[c.i%len(c.sizes)], 1))
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// A buffer Reader resumes a command split anywhere, reports whether a Read
// filled the space offered, and parses a big bulk arriving in pieces without
// going back to its start.
func TestBufferReaderResumes(t *testing.T) {
	r := NewBufferReader()
	_, err := r.ReadCommand()
	require.ErrorIs(t, err, ErrIncomplete)

	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\nPING\r\n"
	for i := range len(in) {
		n, full, err := r.Fill(strings.NewReader(in[i : i+1]))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.False(t, full)
		args, err := r.ReadCommand()
		switch i {
		case len("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n") - 1:
			require.NoError(t, err)
			require.Equal(t, [][]byte{[]byte("SET"), []byte("k"), []byte("value")}, args)
		case len(in) - 1:
			require.NoError(t, err)
			require.Equal(t, [][]byte{[]byte("PING")}, args)
		default:
			require.ErrorIs(t, err, ErrIncomplete, "after %q", in[:i+1])
		}
	}
	require.Zero(t, r.Buffered())

	// Fill says whether the stream may hold more.
	_, full, err := r.Fill(strings.NewReader(strings.Repeat("x", 100<<10)))
	require.NoError(t, err)
	require.True(t, full)

	// A 1 MiB bulk in 1000-byte pieces: the argument before it is parsed
	// once, the buffer ends near twice the command.
	r = NewBufferReader()
	big := bytes.Repeat([]byte("v"), 1<<20)
	var cmd bytes.Buffer
	w := NewWriter(&cmd)
	w.Command([]byte("SET"), []byte("k"), big)
	require.NoError(t, w.Flush())
	got, err := readAllBuffered(r, &chunkReader{data: cmd.Bytes(), sizes: []int{1000}})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, [][]string{{"SET", "k", string(big)}}, got)
	require.LessOrEqual(t, cap(r.buf), 2*cmd.Len()+initialBufSize)
}

// ReadBufferedCommand on a stream returns the commands buffered and then
// ErrIncomplete instead of reading; ReadCommand then finishes the command.
func TestReadBufferedCommand(t *testing.T) {
	in := "PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	src := &chunkReader{data: []byte(in), sizes: []int{len("PING\r\n*2\r\n$3\r\nGE"), 1 << 20}}
	r := NewReader(src)
	args, err := r.ReadCommand()
	require.NoError(t, err)
	require.Equal(t, "PING", string(args[0]))
	_, err = r.ReadBufferedCommand()
	require.ErrorIs(t, err, ErrIncomplete)
	_, err = r.ReadBufferedCommand()
	require.ErrorIs(t, err, ErrIncomplete, "nothing was read")
	args, err = r.ReadCommand()
	require.NoError(t, err)
	require.Equal(t, []string{"GET", "k"}, []string{string(args[0]), string(args[1])})
	_, err = r.ReadBufferedCommand()
	require.ErrorIs(t, err, ErrIncomplete)
	_, err = r.ReadCommand()
	require.ErrorIs(t, err, io.EOF)
}

// A buffer Reader attached to a stream goes on with the command it began.
func TestBufferReaderAttach(t *testing.T) {
	r := NewBufferReader()
	_, _, err := r.Fill(strings.NewReader("*2\r\n$3\r\nGET\r\n$1"))
	require.NoError(t, err)
	_, err = r.ReadCommand()
	require.ErrorIs(t, err, ErrIncomplete)
	r.Attach(strings.NewReader("0\r\n0123456789\r\nPING\r\n"))
	got, err := readAll(r)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, [][]string{{"GET", "0123456789"}, {"PING"}}, got)
}

// A protocol error is found however the input is split.
func TestBufferReaderProtocolError(t *testing.T) {
	r := NewBufferReader()
	r.MaxInline = 10
	_, err := readAllBuffered(r, &chunkReader{data: []byte(strings.Repeat("a", 100)), sizes: []int{3}})
	checkErr(t, err, "too big inline request")
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch want {
	case "EOF":
		require.ErrorIs(t, err, io.EOF)
	case "unexpected EOF":
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	default:
		require.ErrorIs(t, err, ErrProtocol)
		var pe *ProtocolError
		require.True(t, errors.As(err, &pe))
		require.True(t, strings.HasPrefix(pe.Msg, "Protocol error: "), pe.Msg)
		require.Contains(t, pe.Msg, want)
	}
}

func TestReadCommandLimits(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(r *Reader)
		in      string
		wantErr string
	}{
		{"max args", func(r *Reader) { r.MaxArgs = 2 }, "*3\r\n", "invalid multibulk length"},
		{"max args ok", func(r *Reader) { r.MaxArgs = 3 }, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "EOF"},
		{"max bulk", func(r *Reader) { r.MaxBulk, r.MaxDiscard = 3, 3 }, "*1\r\n$4\r\nPING\r\n", "invalid bulk length"},
		{"max inline", func(r *Reader) { r.MaxInline = 10 }, strings.Repeat("a", 100) + "\r\n", "too big inline request"},
		{"max inline args", func(r *Reader) { r.MaxArgs = 2 }, "a b c\r\n", "too many arguments"},
		{"long header", func(r *Reader) { r.MaxInline = 10 }, "*" + strings.Repeat("1", 100), "too big multibulk length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			tt.setup(r)
			_, err := readAll(r)
			checkErr(t, err, tt.wantErr)
		})
	}
}

// TestNoAllocationOnDeclaredSize declares huge arrays and bulks and sends
// little: the buffer must grow with the data received, not the declaration.
func TestNoAllocationOnDeclaredSize(t *testing.T) {
	for _, in := range []string{
		"*1\r\n$536870912\r\n" + strings.Repeat("x", 100000),
		"*1048576\r\n" + strings.Repeat("$1\r\nx\r\n", 10000),
	} {
		r := NewReader(strings.NewReader(in))
		_, err := r.ReadCommand()
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.LessOrEqual(t, cap(r.buf), 2*len(in)+initialBufSize)
		require.LessOrEqual(t, cap(r.spans), 2*len(in)/7+16)
	}
}

func TestArgsAliasAndCapacity(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"))
	args, err := r.ReadCommand()
	require.NoError(t, err)
	require.Equal(t, 3, cap(args[0]), "appending to an arg must not overwrite the next one")
	_ = append(args[0], 'X')
	require.Equal(t, "k", string(args[1]))
	require.Equal(t, r.Buffered(), len("*1\r\n$4\r\nPING\r\n"))
}

// TestLargeBulkGrowsAndShrinks reads a bulk far larger than the buffer, and
// then a small command, after which the big buffer is released.
func TestLargeBulkGrowsAndShrinks(t *testing.T) {
	big := bytes.Repeat([]byte("v"), 3<<20)
	var in bytes.Buffer
	w := NewWriter(&in)
	w.Command([]byte("SET"), []byte("k"), big)
	w.CommandString("PING")
	w.CommandString("PING")
	require.NoError(t, w.Flush())
	r := NewReader(iotest.HalfReader(&in))
	args, err := r.ReadCommand()
	require.NoError(t, err)
	require.Equal(t, big, args[2])
	_, err = r.ReadCommand()
	require.NoError(t, err)
	_, err = r.ReadCommand()
	require.NoError(t, err)
	_, err = r.ReadCommand()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, initialBufSize, len(r.buf), "idle reader drops its big buffer")
}

func TestReadCommandAllocs(t *testing.T) {
	src := &loopReader{data: pipeline(100)}
	r := NewReader(src)
	_, err := r.ReadCommand() // warm up args and spans
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func TestZeroReads(t *testing.T) {
	r := NewReader(zeroReader{})
	_, err := r.ReadCommand()
	require.ErrorIs(t, err, io.ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// loopReader returns data over and over.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// pipeline returns n "SET key:000123 <100 bytes>" commands.
func pipeline(n int) []byte {
	var b bytes.Buffer
	w := NewWriter(&b)
	val := bytes.Repeat([]byte("x"), 100)
	for range n {
		w.Command([]byte("SET"), []byte("key:000123"), val)
	}
	w.Flush()
	return b.Bytes()
}

// BenchmarkReadCommand reads pipelined "SET key:000123 <100 bytes>"
// commands; one op is one command.
func BenchmarkReadCommand(b *testing.B) {
	data := pipeline(1000)
	r := NewReader(&loopReader{data: data})
	b.SetBytes(int64(len(data) / 1000))
	b.ReportAllocs()
	for b.Loop() {
		args, err := r.ReadCommand()
		if err != nil || len(args) != 3 {
			b.Fatal(err)
		}
	}
}
