package s3

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"cairn.dev/cairn/node/sigv4"
)

// checksum is one x-amz-checksum-<algorithm> an upload carries, verified
// against the body as it streams.
type checksum struct {
	name string // "x-amz-checksum-crc32"
	want string // base64, from the header or the trailer ("" until known)
	h    hash.Hash
}

// crc64NVME is the table of CRC-64/NVME (reflected polynomial).
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// newChecksumHash returns the hash of an x-amz-checksum-* algorithm name
// ("crc32", ...), or nil for an unknown one.
func newChecksumHash(alg string) hash.Hash {
	switch strings.ToLower(alg) {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		return crc64.New(crc64NVME)
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// headerChecksums returns the checksums an upload's headers declare.
func headerChecksums(h http.Header) ([]*checksum, error) {
	var out []*checksum
	for name, vals := range h {
		l := strings.ToLower(name)
		alg, ok := strings.CutPrefix(l, "x-amz-checksum-")
		if !ok || alg == "type" || alg == "algorithm" {
			continue
		}
		hh := newChecksumHash(alg)
		if hh == nil {
			return nil, invalidArg(l, "Unsupported checksum algorithm %q", alg)
		}
		out = append(out, &checksum{name: l, want: vals[0], h: hh})
	}
	return out, nil
}

// bodyReader feeds an object body to the backend: exactly size bytes (-1:
// to EOF), updating the checksums. Before it hands out the last bytes it
// makes sure the body ends there and that every checksum (and node/sigv4's
// payload hash or chunk signatures, which report at the body's end) holds:
// otherwise it returns the error instead of the bytes, so the backend never
// commits a body that turns out bad. The first error is kept in err.
type bodyReader struct {
	r         io.Reader
	remaining int64 // -1: unknown
	sums      []*checksum
	// trailer, when not nil, is the decoder whose trailer carries checksums.
	trailer *trailerReader
	err     error
}

func newBodyReader(r io.Reader, size int64, sums []*checksum, trailer *trailerReader) *bodyReader {
	return &bodyReader{r: r, remaining: size, sums: sums, trailer: trailer}
}

// Read implements io.Reader.
func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.remaining == 0 {
		return 0, b.end(b.probe())
	}
	if b.remaining > 0 && int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.r.Read(p)
	for _, s := range b.sums {
		s.h.Write(p[:n])
	}
	if b.remaining > 0 {
		b.remaining -= int64(n)
	}
	switch {
	case err == io.EOF && b.remaining > 0:
		return 0, b.end(errorf(http.StatusBadRequest, CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header"))
	case err == io.EOF:
		if err := b.end(io.EOF); err != io.EOF {
			return 0, err
		}
		return n, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 0, b.end(errorf(http.StatusBadRequest, CodeIncompleteBody, "The request body ended early: %v", err))
	case err != nil:
		return 0, b.end(err)
	case b.remaining == 0:
		if err := b.end(b.probe()); err != io.EOF {
			return 0, err
		}
		return n, nil // b.err is io.EOF: the next Read returns it
	}
	return n, nil
}

// probe reads past the declared size: the body must end there (which also
// lets a hash check or a chunk decoder report at its end).
func (b *bodyReader) probe() error {
	var one [1]byte
	for {
		n, err := b.r.Read(one[:])
		if n > 0 {
			return errorf(http.StatusBadRequest, CodeIncompleteBody, "The request body is longer than its declared size")
		}
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
}

// end records the end of the body: io.EOF when it is good (checksums
// verified), else the error.
func (b *bodyReader) end(err error) error {
	if err == io.EOF {
		err = b.verify()
	}
	if err != io.EOF {
		if e := sigv4Error(err); e != nil {
			err = e
		}
	}
	b.err = err
	return err
}

// verify compares the checksums with the body read; io.EOF when all hold.
func (b *bodyReader) verify() error {
	if b.trailer != nil {
		for _, s := range b.sums {
			s.want = b.trailer.trailers[s.name]
			if s.want == "" {
				return errorf(http.StatusBadRequest, CodeInvalidRequest, "The trailer %s announced in x-amz-trailer is missing", s.name)
			}
		}
	}
	for _, s := range b.sums {
		if got := base64.StdEncoding.EncodeToString(s.h.Sum(nil)); got != s.want {
			alg := strings.ToUpper(strings.TrimPrefix(s.name, "x-amz-checksum-"))
			return errorf(http.StatusBadRequest, CodeBadDigest, "The %s you specified did not match the calculated checksum.", alg)
		}
	}
	return io.EOF
}

// maxTrailerBytes bounds the chunk header lines and trailers of a body.
const maxTrailerBytes = 4096

// trailerReader decodes an unsigned aws-chunked body:
//
//	hex-size CRLF data CRLF ... 0 CRLF trailer-name:value CRLF ... CRLF
//
// keeping the trailers for the checksums. It is not safe for concurrent use.
type trailerReader struct {
	r        *bufio.Reader
	left     int64 // of the current chunk
	total    int64
	decoded  int64 // x-amz-decoded-content-length
	trailers map[string]string
	done     bool
}

func newTrailerReader(body io.Reader, decoded int64) *trailerReader {
	return &trailerReader{r: bufio.NewReaderSize(body, 64<<10), decoded: decoded, trailers: map[string]string{}}
}

func (t *trailerReader) Read(p []byte) (int, error) {
	for t.left == 0 {
		if t.done {
			return 0, io.EOF
		}
		if err := t.next(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > t.left {
		p = p[:t.left]
	}
	n, err := t.r.Read(p)
	t.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && t.left == 0 {
		err = t.crlf()
	}
	return n, err
}

func (t *trailerReader) malformed(format string, args ...any) error {
	return errorf(http.StatusBadRequest, CodeIncompleteBody, "The aws-chunked body is malformed: "+format, args...)
}

// line reads one CRLF-terminated line.
func (t *trailerReader) line() (string, error) {
	b, err := t.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", t.malformed("%v", err)
	}
	if len(b) > maxTrailerBytes {
		return "", t.malformed("line too long")
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

func (t *trailerReader) crlf() error {
	l, err := t.line()
	if err != nil {
		return err
	}
	if l != "" {
		return t.malformed("chunk data not followed by CRLF")
	}
	return nil
}

// next reads a chunk header; after the last chunk, the trailers.
func (t *trailerReader) next() error {
	l, err := t.line()
	if err != nil {
		return err
	}
	sizeHex, _, _ := strings.Cut(l, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return t.malformed("bad chunk size %q", l)
	}
	if t.decoded >= 0 && t.total+size > t.decoded {
		return t.malformed("chunks longer than x-amz-decoded-content-length %d", t.decoded)
	}
	t.total += size
	if size > 0 {
		t.left = size
		return nil
	}
	if t.decoded >= 0 && t.total != t.decoded {
		return t.malformed("%d bytes decoded, x-amz-decoded-content-length is %d", t.total, t.decoded)
	}
	for n := 0; ; n++ {
		l, err := t.line()
		if err != nil {
			return err
		}
		if l == "" {
			break
		}
		if n >= 16 {
			return t.malformed("too many trailers")
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return t.malformed("trailer %q", l)
		}
		t.trailers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	t.done = true
	return nil
}

// objectBody prepares the body of a PutObject or UploadPart: its decoded
// size (-1 when unknown) and a reader that checks it (bodyReader). A body
// with trailing checksums is decoded here; header checksums are verified.
func objectBody(c *call) (*bodyReader, int64, error) {
	r := c.r
	sums, err := headerChecksums(r.Header)
	if err != nil {
		return nil, 0, err
	}
	size := r.ContentLength
	var tr *trailerReader
	if c.principal.PayloadHash == sigv4.StreamingUnsignedTrailer {
		size = -1
		if s := r.Header.Get("X-Amz-Decoded-Content-Length"); s != "" {
			if size, err = strconv.ParseInt(s, 10, 64); err != nil || size < 0 {
				return nil, 0, invalidArg("x-amz-decoded-content-length", "x-amz-decoded-content-length %q is not a size", s)
			}
		}
		tr = newTrailerReader(r.Body, size)
		for _, name := range strings.Split(r.Header.Get("X-Amz-Trailer"), ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
			h := newChecksumHash(alg)
			if !ok || h == nil {
				return nil, 0, invalidArg("x-amz-trailer", "Unsupported trailer %q", name)
			}
			sums = append(sums, &checksum{name: name, h: h})
		}
	}
	if size < 0 {
		return nil, 0, errorf(http.StatusLengthRequired, CodeMissingContentLength, "You must provide the Content-Length (or x-amz-decoded-content-length) HTTP header.")
	}
	var body io.Reader = r.Body
	if tr != nil {
		body = tr
	}
	b := newBodyReader(body, size, sums, tr)
	c.body = b
	return b, size, nil
}

// errBodyLimit explains a body over the size limit.
func errBodyLimit(size, limit int64) error {
	return errorf(http.StatusBadRequest, CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size: %d bytes, the limit is %d", size, limit)
}
