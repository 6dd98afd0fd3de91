package volume

import (
	"fmt"
	"hash/crc32"
	"io"
)

// lookup returns nid's live entry. The caller holds mu.
func (v *volume) lookup(nid uint64, cookie uint32) (entry, error) {
	if v.closed {
		return entry{}, ErrClosed
	}
	e, ok := v.m[nid]
	if !ok {
		return entry{}, fmt.Errorf("%w: volume %d needle %d", ErrNotFound, v.id, nid)
	}
	if e.deleted() {
		return entry{}, fmt.Errorf("%w: volume %d needle %d (deleted)", ErrNotFound, v.id, nid)
	}
	if e.cookie != cookie {
		return entry{}, fmt.Errorf("%w: volume %d needle %d", ErrCookieMismatch, v.id, nid)
	}
	return e, nil
}

// Stat returns needle nid's size and CRC32C without reading it:
// ErrNotFound, ErrCookieMismatch.
func (s *Store) Stat(vid uint32, nid uint64, cookie uint32) (size int64, crc uint32, err error) {
	v, err := s.volume(vid)
	if err != nil {
		return 0, 0, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, err := v.lookup(nid, cookie)
	if err != nil {
		return 0, 0, err
	}
	return int64(e.size), e.crc, nil
}

// Read returns n bytes of needle nid's data from offset off (n < 0: to the
// end) in a new slice. Before returning anything it checks the needle's
// header (id, cookie, size) and the CRC32C of its whole data, even for a
// range: a needle is never returned with wrong bytes (*CorruptError,
// errors.Is ErrCorrupt, naming the volume and needle). Other errors:
// ErrNotFound (never written or deleted), ErrCookieMismatch (so a guessed id
// reads nothing), ErrRange, ErrVolumeNotFound. Reads run concurrently with
// everything, including writes to the same volume.
func (s *Store) Read(vid uint32, nid uint64, cookie uint32, off, n int64) ([]byte, error) {
	return s.ReadBuf(vid, nid, cookie, off, n, nil)
}

// NeedleHeaderBytes is what ReadBuf needs beyond a needle's size to read it
// into the caller's buffer.
const NeedleHeaderBytes = headerLen

// ReadBuf is Read, except that when buf has room for the needle's header
// and its whole data (cap(buf) >= NeedleHeaderBytes+size) and most of the
// needle is asked for, the needle is read into buf and the result is a part
// of it instead of a new slice: the caller, who owns buf, may reuse it once
// done with the result. The whole data of a needle larger than a copy
// buffer is then buf[:size] (it starts buf). Otherwise buf is not used.
func (s *Store) ReadBuf(vid uint32, nid uint64, cookie uint32, off, n int64, buf []byte) ([]byte, error) {
	v, err := s.volume(vid)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, err := v.lookup(nid, cookie)
	if err != nil {
		return nil, err
	}
	size := int64(e.size)
	if n < 0 && off >= 0 && off <= size {
		n = size - off
	}
	if off < 0 || n < 0 || off+n > size {
		return nil, fmt.Errorf("%w: [%d, +%d) of a %d-byte needle", ErrRange, off, n, size)
	}
	if 2*n >= size || size <= 4*copyBufLen {
		// Most of the needle, or a small one: one read of header and data
		// (the whole needle is checked anyway) instead of a checking pass
		// and a second read of the range.
		var b []byte
		if int64(cap(buf)) >= headerLen+size && 2*n >= size {
			if off == 0 && n == size && size > copyBufLen {
				return v.readWhole(nid, e, buf[:size])
			}
			b = buf[:headerLen+size]
		} else {
			b = make([]byte, headerLen+size)
		}
		sum, err := readSummed(v.dat, b, e.off(), headerLen)
		if err != nil {
			return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
		}
		if err := v.checkHeader(b, nid, e); err != nil {
			return nil, err
		}
		if sum != e.crc {
			return nil, v.corrupt(nid, e, "data crc mismatch")
		}
		out := b[headerLen+off : headerLen+off+n : headerLen+off+n]
		if 2*n < size {
			out = append([]byte(nil), out...) // do not keep the rest alive
		}
		return out, nil
	}
	// A small range of a large needle: check the whole needle through the
	// copy buffer, then read the range, so that memory follows the range.
	bufp := getBuf()
	defer putBuf(bufp)
	cbuf := *bufp
	if _, err := v.dat.ReadAt(cbuf[:headerLen], e.off()); err != nil {
		return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
	}
	if err := v.checkHeader(cbuf, nid, e); err != nil {
		return nil, err
	}
	sum, err := crcRange(v.dat, e.off()+headerLen, size, cbuf)
	if err != nil {
		return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
	}
	if sum != e.crc {
		return nil, v.corrupt(nid, e, "data crc mismatch")
	}
	out := make([]byte, n)
	if _, err := v.dat.ReadAt(out, e.off()+headerLen+off); err != nil {
		return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
	}
	return out, nil
}

// checkHeader checks the needle header at the start of b against the map's
// entry for nid.
func (v *volume) checkHeader(b []byte, nid uint64, e entry) error {
	h, ok := decodeHeader(b)
	if !ok {
		return v.corrupt(nid, e, "bad needle header")
	}
	if h.nid != nid || h.cookie != e.cookie || h.size != e.size || h.crc != e.crc || h.flags != 0 {
		return v.corrupt(nid, e, "needle header does not match the index")
	}
	return nil
}

func (v *volume) corrupt(nid uint64, e entry, reason string) error {
	return &CorruptError{Volume: v.id, Needle: nid, Offset: e.off(), Reason: reason}
}

// readSummed fills b from f at off, a copy buffer's length at a time, and
// returns the CRC32C of b[skip:], summed piece by piece just after each
// piece is read, while it is in the cache: for a large needle that is
// cheaper than a second pass over all of it.
func readSummed(f io.ReaderAt, b []byte, off int64, skip int) (uint32, error) {
	var sum uint32
	for pos := 0; pos < len(b); {
		p := b[pos:min(len(b), pos+copyBufLen)]
		if _, err := f.ReadAt(p, off+int64(pos)); err != nil {
			return 0, err
		}
		if end := pos + len(p); end > skip {
			sum = crc32.Update(sum, castagnoli, b[max(pos, skip):end])
		}
		pos += len(p)
	}
	return sum, nil
}

// readWhole reads the whole data of needle nid (entry e) into b, which has
// its size, checking header and CRC32C: the header is read apart, so that
// the data starts b. The caller holds mu.
func (v *volume) readWhole(nid uint64, e entry, b []byte) ([]byte, error) {
	var h [headerLen]byte
	if _, err := v.dat.ReadAt(h[:], e.off()); err != nil {
		return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
	}
	if err := v.checkHeader(h[:], nid, e); err != nil {
		return nil, err
	}
	sum, err := readSummed(v.dat, b, e.off()+headerLen, 0)
	if err != nil {
		return nil, v.corrupt(nid, e, fmt.Sprintf("unreadable: %v", err))
	}
	if sum != e.crc {
		return nil, v.corrupt(nid, e, "data crc mismatch")
	}
	return b, nil
}
