package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// readLimited reads all of r, failing with ErrBodyTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("sigv4: reading body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// bytesBody is a request body over bytes already read.
type bytesBody struct{ *bytes.Reader }

func (bytesBody) Close() error { return nil }

// newBytesBody returns a body that reads b from its start.
func newBytesBody(b []byte) io.ReadCloser { return bytesBody{bytes.NewReader(b)} }

// hashCheckReader passes a body through and, at its end, returns
// ErrPayloadHashMismatch instead of io.EOF when the body's SHA-256 is not
// the expected one.
type hashCheckReader struct {
	body io.ReadCloser
	h    hash.Hash
	want string // lower-case hex
	err  error  // sticky, once the end is reached
}

func newHashCheckReader(body io.ReadCloser, want string) *hashCheckReader {
	return &hashCheckReader{body: body, h: sha256.New(), want: want}
}

// Read reads from the body, hashing what it returns.
func (c *hashCheckReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.body.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		if hex.EncodeToString(c.h.Sum(nil)) != c.want {
			err = ErrPayloadHashMismatch
		}
		c.err = err
	}
	return n, err
}

// Close closes the body.
func (c *hashCheckReader) Close() error { return c.body.Close() }
