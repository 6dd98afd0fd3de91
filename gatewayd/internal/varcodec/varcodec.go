// Package varcodec is the compact binary layout the gateway's caches store
// responses in (respcache's entries, httpcache's metadata): unsigned and
// signed varints, and strings, byte strings and string lists each prefixed
// with their length as a uvarint.
//
// Writers append to a byte slice (AppendString, AppendStrings). A Reader
// consumes a slice; its first error sticks — later reads return zero values
// — so a decoder reads every field and checks Err once. Every length and
// count is checked against the bytes left before anything is allocated, so
// corrupt or hostile input cannot make a reader allocate more than its
// input.
package varcodec

import "encoding/binary"

// AppendString appends s, length-prefixed.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendStrings appends a count and then each string of ss.
func AppendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// Reader reads the layout from B; the first malformed field sets Err to
// Corrupt. The zero value is not ready: set B and Corrupt.
type Reader struct {
	// B holds the bytes not read yet.
	B []byte
	// Corrupt is the error a malformed field sets.
	Corrupt error
	// Err is the first error.
	Err error
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = r.Corrupt
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = r.Corrupt
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Count reads a count of items that each take at least one byte: a count
// beyond the bytes left (or above max, when max > 0) is corrupt.
func (r *Reader) Count(max uint64) int {
	n := r.Uvarint()
	if r.Err == nil && (n > uint64(len(r.B)) || max > 0 && n > max) {
		r.Err = r.Corrupt
	}
	if r.Err != nil {
		return 0
	}
	return int(n)
}

// Bytes reads a length-prefixed byte string; the result aliases B.
func (r *Reader) Bytes() []byte {
	n := r.Count(0)
	if r.Err != nil {
		return nil
	}
	s := r.B[:n:n]
	r.B = r.B[n:]
	return s
}

// String reads a length-prefixed string.
func (r *Reader) String() string { return string(r.Bytes()) }

// Strings reads a count (at most max, when max > 0) and as many strings; no
// strings read as nil.
func (r *Reader) Strings(max uint64) []string {
	n := r.Count(max)
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && r.Err == nil; i++ {
		ss = append(ss, r.String())
	}
	return ss[:len(ss):len(ss)]
}
