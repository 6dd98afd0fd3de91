package pgwire

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// copyIn runs the COPY … FROM STDIN sub-protocol for st: CopyInResponse,
// then the rows of the client's CopyData stream (parsed per format) handed to
// st.CopyFrom until CopyDone. CopyFail ends it with 57014. Messages after an
// error are dropped by the main loop (stray CopyData/CopyDone/CopyFail).
func (c *conn) copyIn(ctx context.Context, st Statement, cols int, format CopyFormat) (string, error) {
	overall := byte(0)
	colFormat := uint16(0)
	if format.Kind == CopyBinary {
		overall, colFormat = 1, 1
	}
	codes := make([]uint16, cols)
	for i := range codes {
		codes[i] = colFormat
	}
	c.send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: codes})
	c.flush()
	if c.werr != nil {
		return "", c.werr
	}
	src := &copySource{c: c}
	rows, err := newCopyParser(bufio.NewReaderSize(src, 64<<10), cols, format)
	if err != nil {
		return "", err
	}
	tag, err := st.CopyFrom(ctx, format, rows.next)
	if err != nil {
		return "", err
	}
	// The engine stopped reading before the end: the rest must still be consumed.
	if err := src.drain(); err != nil {
		return "", err
	}
	return tag, nil
}

// copySource reads the payload of CopyData messages until CopyDone (io.EOF).
type copySource struct {
	c    *conn
	data []byte
	done bool  // CopyDone or CopyFail seen
	err  error // sticky end of the stream
}

// errCopyFail is the client's CopyFail.
func copyFailed(msg string) error {
	return sqlerr.New(sqlerr.QueryCanceled, "COPY from stdin failed: %s", msg)
}

func (s *copySource) Read(p []byte) (int, error) {
	for len(s.data) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		s.err = s.fill()
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// fill reads the next message of the COPY stream.
func (s *copySource) fill() error {
	for {
		f, ok := s.c.next(false)
		if !ok {
			s.done = true
			var se *sqlerr.Error
			if errors.As(s.c.readErr, &se) {
				return se
			}
			return sqlerr.New(sqlerr.ConnectionFailure, "connection lost during COPY from stdin")
		}
		switch f.typ {
		case 'd':
			s.data = f.body
			return nil
		case 'c':
			s.done = true
			return io.EOF
		case 'f':
			s.done = true
			var m pgproto3.CopyFail
			_ = m.Decode(f.body)
			return copyFailed(m.Message)
		case 'H', 'S':
			// Flush and Sync are ignored during COPY, as PostgreSQL does.
		case 'X':
			s.done = true
			s.c.cancel()
			return sqlerr.New(sqlerr.ConnectionFailure, "client terminated the connection during COPY from stdin")
		default:
			return sqlerr.New(sqlerr.ProtocolViolation, "unexpected message type %q during COPY from stdin", f.typ)
		}
	}
}

// drain consumes the stream to its end: nil at CopyDone, the error of
// CopyFail or of the connection.
func (s *copySource) drain() error {
	for !s.done {
		s.data = nil
		if err := s.fill(); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}
