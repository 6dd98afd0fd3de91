package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxChunkLine bounds a chunk's header line: hex size, ";chunk-signature=",
// 64 hex digits and CRLF fit well within it.
const maxChunkLine = 256

// chunkedReader decodes an aws-chunked body whose chunks are signed one by
// one (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). Each chunk is
//
//	hex(size) ";chunk-signature=" signature CRLF data CRLF
//
// and the last one has size 0. The signature of chunk n is the HMAC, with
// the request's signing key, of
//
//	"AWS4-HMAC-SHA256-PAYLOAD" \n date \n scope \n signature(n-1) \n
//	hex(sha256("")) \n hex(sha256(data))
//
// where signature(0) is the request's own (the seed). The reader holds one
// chunk, checks its signature and only then hands out its bytes. It is not
// safe for concurrent use.
type chunkedReader struct {
	body    io.ReadCloser
	r       *bufio.Reader
	key     []byte
	prefix  string // algorithm, date and scope lines of each string to sign
	prev    string // previous signature (hex)
	chunk   int    // chunks read
	buf     []byte // the current chunk's data
	off     int    // bytes of buf handed out
	total   int64  // decoded bytes so far
	decoded int64  // x-amz-decoded-content-length, or -1
	err     error  // sticky: io.EOF after the last chunk, or the failure
}

// newChunkedReader returns a reader of the payload of an aws-chunked body.
// seed is the request's signature; decoded the declared decoded length, or
// -1 when unknown.
func newChunkedReader(body io.ReadCloser, key []byte, amzDate, scope, seed string, decoded int64) *chunkedReader {
	return &chunkedReader{
		body:    body,
		r:       bufio.NewReaderSize(body, 4096),
		key:     key,
		prefix:  chunkAlgorithm + "\n" + amzDate + "\n" + scope + "\n",
		prev:    seed,
		decoded: decoded,
	}
}

// chunkStringToSign returns the string to sign of a chunk.
func chunkStringToSign(prefix, prev string, data []byte) string {
	return prefix + prev + "\n" + emptySHA256 + "\n" + hashHex(data)
}

// Read returns decoded payload bytes of chunks whose signatures are good.
// After the last chunk it returns io.EOF; on a bad chunk a *MismatchError
// (wrapping ErrSignatureMismatch) or an error wrapping ErrMalformedChunk.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.err != nil {
			return 0, c.err
		}
		c.err = c.next()
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// Close closes the underlying body.
func (c *chunkedReader) Close() error { return c.body.Close() }

// next reads and checks one chunk into buf. It returns io.EOF after the
// last one, which must end the body.
func (c *chunkedReader) next() error {
	c.buf, c.off = c.buf[:0], 0
	c.chunk++
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull || len(line) > maxChunkLine {
			return fmt.Errorf("%w: chunk %d header line too long", ErrMalformedChunk, c.chunk)
		}
		return fmt.Errorf("%w: chunk %d header: %v", ErrMalformedChunk, c.chunk, unexpectedEOF(err))
	}
	if len(line) > maxChunkLine {
		return fmt.Errorf("%w: chunk %d header line too long", ErrMalformedChunk, c.chunk)
	}
	size, sig, err := parseChunkHeader(line)
	if err != nil {
		return fmt.Errorf("%w: chunk %d: %v", ErrMalformedChunk, c.chunk, err)
	}
	if size > MaxChunkBytes {
		return fmt.Errorf("%w: chunk %d of %d bytes, the limit is %d", ErrMalformedChunk, c.chunk, size, MaxChunkBytes)
	}
	if c.decoded >= 0 && c.total+size > c.decoded {
		return fmt.Errorf("%w: chunks longer than x-amz-decoded-content-length %d", ErrMalformedChunk, c.decoded)
	}
	data := bytes.NewBuffer(c.buf[:0])
	if _, err := io.CopyN(data, c.r, size); err != nil {
		return fmt.Errorf("%w: chunk %d data: %v", ErrMalformedChunk, c.chunk, unexpectedEOF(err))
	}
	var crlf [2]byte
	if _, err := io.ReadFull(c.r, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: chunk %d data not followed by CRLF", ErrMalformedChunk, c.chunk)
	}
	c.buf = data.Bytes()
	sts := chunkStringToSign(c.prefix, c.prev, c.buf)
	sent, _ := hex.DecodeString(sig) // parseChunkHeader checked it
	if !hmac.Equal(hmacSHA256(c.key, sts), sent) {
		c.buf = c.buf[:0]
		return &MismatchError{StringToSign: sts, Provided: sig, Chunk: c.chunk}
	}
	c.prev = sig
	c.total += size
	if size > 0 {
		return nil
	}
	if c.decoded >= 0 && c.total != c.decoded {
		return fmt.Errorf("%w: %d bytes decoded, x-amz-decoded-content-length is %d", ErrMalformedChunk, c.total, c.decoded)
	}
	if _, err := c.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: data after the last chunk", ErrMalformedChunk)
	}
	return io.EOF
}

// parseChunkHeader parses "hex-size;chunk-signature=sig\r\n".
func parseChunkHeader(line []byte) (int64, string, error) {
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return 0, "", errors.New("header line does not end in CRLF")
	}
	sizeHex, ext, ok := strings.Cut(s, ";")
	if !ok {
		return 0, "", errors.New("no chunk-signature")
	}
	if sizeHex == "" || len(sizeHex) > 16 || strings.HasPrefix(sizeHex, "+") || strings.HasPrefix(sizeHex, "-") {
		return 0, "", fmt.Errorf("bad size %q", truncate(sizeHex, 20))
	}
	size, err := strconv.ParseInt(sizeHex, 16, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad size %q", truncate(sizeHex, 20))
	}
	sig, ok := strings.CutPrefix(ext, "chunk-signature=")
	if !ok || len(sig) != 64 {
		return 0, "", errors.New("no chunk-signature of 64 hex digits")
	}
	if _, err := hex.DecodeString(sig); err != nil {
		return 0, "", errors.New("chunk-signature is not hex")
	}
	return size, sig, nil
}

// unexpectedEOF turns io.EOF, met inside a chunk, into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
