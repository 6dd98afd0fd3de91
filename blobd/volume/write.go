package volume

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Write stores size bytes read from r as needle nid with cookie in volume
// vid and returns their CRC32C. The data streams from r into the volume
// file through a small copy buffer; r must yield at least size bytes
// (ErrShortData otherwise, and nothing is stored) and nothing after them is
// read. The needle is readable as soon as Write returns, and durable once a
// later Sync returns.
//
// Writing an id that holds the same size, cookie and content is a no-op
// success (a retried write), which reads r to compare; other content is
// ErrConflict; a deleted id is ErrDeleted. Other refusals: ErrTooLarge,
// ErrVolumeFull, ErrReadOnly, ErrVolumeNotFound. Writes and deletes to one
// volume are serialised (one slow reader r holds up its volume's other
// writers, not reads); writes to different volumes run in parallel. An
// error writing the file fails the volume (ErrFailed).
func (s *Store) Write(vid uint32, nid uint64, cookie uint32, r io.Reader, size int64) (uint32, error) {
	if size < 0 || size > s.opts.MaxNeedleBytes {
		return 0, fmt.Errorf("%w: %d bytes, the limit (max_needle_bytes) is %d", ErrTooLarge, size, s.opts.MaxNeedleBytes)
	}
	v, err := s.volume(vid)
	if err != nil {
		return 0, err
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.mu.RLock()
	err = v.writable()
	old, exists := v.m[nid]
	end := v.end
	v.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	bufp := getBuf()
	defer putBuf(bufp)
	buf := *bufp
	if exists {
		if old.deleted() {
			return 0, fmt.Errorf("%w: volume %d needle %d", ErrDeleted, vid, nid)
		}
		sum, err := crcReader(r, size, buf)
		if err != nil {
			return 0, err
		}
		if int64(old.size) != size || old.cookie != cookie || old.crc != sum {
			return 0, fmt.Errorf("%w: volume %d needle %d", ErrConflict, vid, nid)
		}
		return sum, nil
	}
	n := needleLen(uint32(size))
	if end+n > s.opts.MaxVolumeBytes {
		return 0, fmt.Errorf("%w: volume %d is %d bytes, a %d-byte needle would pass max_volume_bytes %d", ErrVolumeFull, vid, end, n, s.opts.MaxVolumeBytes)
	}
	sum, err := v.writeNeedle(end, header{nid: nid, cookie: cookie, size: uint32(size)}, r, buf)
	if err != nil {
		return 0, err
	}
	e := entry{off8: uint32(end / 8), size: uint32(size), cookie: cookie, crc: sum}
	if err := v.publish(nid, e); err != nil {
		return 0, err
	}
	return sum, nil
}

// writable is the error that stops writes to v, if any. The caller holds mu.
func (v *volume) writable() error {
	if err := v.usable(); err != nil {
		return err
	}
	if v.readOnly {
		return fmt.Errorf("%w: %d", ErrReadOnly, v.id)
	}
	return nil
}

// writeNeedle writes a needle at off in .dat: h with its crc filled in from
// the data, which streams from r (h.size bytes) through buf. A short r
// leaves .dat as it was (ErrShortData); a file error fails the volume. The
// caller holds wmu.
func (v *volume) writeNeedle(off int64, h header, r io.Reader, buf []byte) (uint32, error) {
	size := int64(h.size)
	total := needleLen(h.size)
	if total <= int64(len(buf)) {
		// Small needle: header, data and padding in one write.
		b := buf[:total]
		if _, err := io.ReadFull(r, b[headerLen:headerLen+size]); err != nil {
			return 0, shortData(err, size)
		}
		clear(b[headerLen+size:])
		h.crc = crc(b[headerLen : headerLen+size])
		h.put(b)
		if _, err := v.dat.WriteAt(b, off); err != nil {
			return 0, v.fail(err)
		}
		return h.crc, nil
	}
	// Large needle: stream the data, then the padding and header.
	var sum uint32
	pos := off + headerLen
	for left := size; left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		if _, err := io.ReadFull(r, b); err != nil {
			if terr := v.dat.Truncate(off); terr != nil {
				return 0, v.fail(terr)
			}
			return 0, shortData(err, size)
		}
		sum = crc32.Update(sum, castagnoli, b)
		if _, err := v.dat.WriteAt(b, pos); err != nil {
			return 0, v.fail(err)
		}
		pos += int64(len(b))
		left -= int64(len(b))
	}
	if pad := total - headerLen - size; pad > 0 {
		if _, err := v.dat.WriteAt(make([]byte, pad), pos); err != nil {
			return 0, v.fail(err)
		}
	}
	h.crc = sum
	h.put(buf[:headerLen])
	if _, err := v.dat.WriteAt(buf[:headerLen], off); err != nil {
		return 0, v.fail(err)
	}
	return sum, nil
}

func shortData(err error, size int64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: wanted %d bytes", ErrShortData, size)
	}
	return fmt.Errorf("volume: reading the needle's data: %w", err)
}

// crcReader is the CRC32C of the next size bytes of r, read through buf.
func crcReader(r io.Reader, size int64, buf []byte) (uint32, error) {
	var sum uint32
	for left := size; left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		if _, err := io.ReadFull(r, b); err != nil {
			return 0, shortData(err, size)
		}
		sum = crc32.Update(sum, castagnoli, b)
		left -= int64(len(b))
	}
	return sum, nil
}

// publish appends nid's index entry and makes it visible. The caller holds
// wmu and has written the needle at e's offset.
func (v *volume) publish(nid uint64, e entry) error {
	v.idxMu.Lock()
	err := v.appendEntry(nid, e)
	v.idxMu.Unlock()
	if err != nil {
		return v.fail(err)
	}
	v.mu.Lock()
	v.apply(nid, e)
	v.end = e.needleEnd()
	v.seq++
	v.mu.Unlock()
	return nil
}

// Delete deletes needle nid of volume vid by appending a tombstone: Read
// then fails with ErrNotFound and Write with ErrDeleted. Deleting a deleted
// id is a no-op; deleting an id never written here records the tombstone
// all the same, so a late copy of the needle cannot bring it back. Like a
// Write, it is durable after Sync. Refusals: ErrReadOnly, ErrVolumeFull,
// ErrVolumeNotFound.
func (s *Store) Delete(vid uint32, nid uint64) error {
	v, err := s.volume(vid)
	if err != nil {
		return err
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.mu.RLock()
	err = v.writable()
	old, exists := v.m[nid]
	end := v.end
	v.mu.RUnlock()
	if err != nil {
		return err
	}
	if exists && old.deleted() {
		return nil
	}
	if end+headerLen > s.opts.MaxVolumeBytes {
		return fmt.Errorf("%w: volume %d has no room for a tombstone", ErrVolumeFull, vid)
	}
	var b [headerLen]byte
	header{nid: nid, flags: flagTombstone}.put(b[:])
	if _, err := v.dat.WriteAt(b[:], end); err != nil {
		return v.fail(err)
	}
	return v.publish(nid, entry{off8: uint32(end / 8), flags: flagTombstone})
}
