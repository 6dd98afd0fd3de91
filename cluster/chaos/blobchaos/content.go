package blobchaos

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
)

// Object content. Every PUT writes a prefix of the byte stream of a content
// id, a number unique in the run (contentID): the 16-byte header (the magic
// "blobchao" and the id, little endian), then ChaCha8 bytes keyed by the
// id. The writer knows the SHA-256 of what it sends without keeping the
// bytes, and a reader that gets at least the header knows which content it
// got and counts, byte by byte, where what it read differs from that
// content (wrong bytes), without any lookup.
const contentHeaderLen = 16

var contentMagic = [8]byte{'b', 'l', 'o', 'b', 'c', 'h', 'a', 'o'}

// contentID is the content id of the n-th PUT (from 0) of writer client:
// never 0, unique per (client, n).
func contentID(client, n int) uint64 { return uint64(client)<<32 | uint64(n+1) }

// contentStream is the infinite byte stream of a content id: header, then
// ChaCha8 bytes. It is an io.Reader whose output does not depend on how
// reads are split.
type contentStream struct {
	hdr  [contentHeaderLen]byte
	pos  int // bytes of hdr already returned
	rand *rand.ChaCha8
}

func newContentStream(id uint64) *contentStream {
	s := &contentStream{}
	copy(s.hdr[:], contentMagic[:])
	binary.LittleEndian.PutUint64(s.hdr[8:], id)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], id)
	copy(seed[8:], "cairn blobchaos content")
	s.rand = rand.NewChaCha8(seed)
	return s
}

// Read implements io.Reader; it always fills p.
func (s *contentStream) Read(p []byte) (int, error) {
	n := 0
	if s.pos < contentHeaderLen {
		n = copy(p, s.hdr[s.pos:])
		s.pos += n
	}
	if n < len(p) {
		_, _ = s.rand.Read(p[n:])
	}
	return len(p), nil
}

// Content returns a reader of the size bytes of content id: what a PUT of
// that content sends.
func Content(id uint64, size int64) io.Reader { return io.LimitReader(newContentStream(id), size) }

// Digest returns the hex SHA-256 of the size bytes of content id.
func Digest(id uint64, size int64) string {
	h := sha256.New()
	_, _ = io.CopyBuffer(h, Content(id, size), make([]byte, 64<<10))
	return hex.EncodeToString(h.Sum(nil))
}

// Verifier is an io.Writer that takes the bytes of a read object and judges
// them: their length, their SHA-256, the content id their header names, and
// how many of them differ from that content's stream. Not safe for
// concurrent use.
type Verifier struct {
	n     int64
	sha   hash.Hash
	head  [contentHeaderLen]byte
	id    uint64
	exp   *contentStream // the expected stream, once the header is known
	buf   []byte
	wrong int64
}

// NewVerifier returns an empty Verifier.
func NewVerifier() *Verifier { return &Verifier{sha: sha256.New()} }

// Write implements io.Writer; it never fails.
func (v *Verifier) Write(p []byte) (int, error) {
	v.sha.Write(p)
	rest := p
	if v.n < contentHeaderLen {
		k := copy(v.head[v.n:], rest)
		v.n += int64(k)
		rest = rest[k:]
		if v.n < contentHeaderLen {
			return len(p), nil
		}
		// The header is complete: compare it, and everything after it,
		// with the stream of the id it names.
		if [8]byte(v.head[:8]) == contentMagic {
			v.id = binary.LittleEndian.Uint64(v.head[8:])
		}
		if v.id != 0 {
			v.exp = newContentStream(v.id)
			v.compare(v.head[:])
		}
	}
	v.n += int64(len(rest))
	if v.exp != nil {
		v.compare(rest)
	}
	return len(p), nil
}

// compare counts the bytes of p that differ from the next len(p) bytes of
// the expected stream.
func (v *Verifier) compare(p []byte) {
	if cap(v.buf) < len(p) {
		v.buf = make([]byte, max(len(p), 32<<10))
	}
	for len(p) > 0 {
		chunk := min(len(p), cap(v.buf))
		want := v.buf[:chunk]
		_, _ = v.exp.Read(want)
		if !bytes.Equal(p[:chunk], want) {
			for i := range chunk {
				if p[i] != want[i] {
					v.wrong++
				}
			}
		}
		p = p[chunk:]
	}
}

// Result is what a Verifier concluded.
type Result struct {
	// Len is the bytes read, SHA their hex SHA-256.
	Len int64
	SHA string
	// ID is the content id the header named; 0 when fewer than
	// contentHeaderLen bytes were read or the header is not a content
	// header (then Wrong is 0 and only SHA can tell the content).
	ID uint64
	// Wrong counts the bytes that differ from content ID's stream.
	Wrong int64
}

// Result returns the verdict on the bytes written so far.
func (v *Verifier) Result() Result {
	return Result{Len: v.n, SHA: hex.EncodeToString(v.sha.Sum(nil)), ID: v.id, Wrong: v.wrong}
}
