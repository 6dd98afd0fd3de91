package volume

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"cairn.dev/cairn/node/boltfile"
)

// A copy stream is a 32-byte header (magic "cairncpy", version u32, volume
// id u32, length u64, zero u32, crc32c of the first 28 bytes u32) followed by
// length bytes: the sender's .dat as of the copy (superblock and needles).
const copyHeaderLen = 32

var copyMagic = [8]byte{'c', 'a', 'i', 'r', 'n', 'c', 'p', 'y'}

// CopyTo writes volume vid to w as a copy stream for ReceiveCopy on another
// server: every needle and tombstone written before the call (synced or
// not), at the same ids. It runs alongside writes, reads and compaction
// (reading its own descriptor of the file), and returns the bytes written.
// The sender does not check the needles; the receiver does.
func (s *Store) CopyTo(vid uint32, w io.Writer) (int64, error) {
	v, err := s.volume(vid)
	if err != nil {
		return 0, err
	}
	_, end, f, err := v.snapshot(true, true)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [copyHeaderLen]byte
	copy(h[:], copyMagic[:])
	binary.LittleEndian.PutUint32(h[8:], formatVersion)
	binary.LittleEndian.PutUint32(h[12:], vid)
	binary.LittleEndian.PutUint64(h[16:], uint64(end))
	binary.LittleEndian.PutUint32(h[28:], crc(h[:28]))
	n, err := w.Write(h[:])
	if err != nil {
		return int64(n), err
	}
	bufp := getBuf()
	defer putBuf(bufp)
	m, err := io.CopyBuffer(onlyWriter{w}, io.NewSectionReader(f, 0, end), *bufp)
	return int64(n) + m, err
}

// onlyWriter hides w's ReadFrom so io.CopyBuffer uses the buffer.
type onlyWriter struct{ io.Writer }

// ReceiveCopy creates volume vid from a copy stream read from r (CopyTo on
// another server). It checks every needle's header and data CRC as it
// streams them into temporary files (nothing is buffered beyond a copy
// buffer), fsyncs them and only then renames them into place and fsyncs the
// directory, so the volume appears whole or not at all, also across a crash.
// A stream that is truncated, of another volume or damaged anywhere is
// refused with a *CorruptError (errors.Is ErrCorrupt) and leaves nothing.
// ErrExists if vid is here. It reads exactly the stream's length from r.
func (s *Store) ReceiveCopy(vid uint32, r io.Reader) error {
	if err := s.reserve(vid); err != nil {
		return err
	}
	v, err := s.receive(vid, r)
	s.publish(vid, v)
	return err
}

func (s *Store) receive(vid uint32, r io.Reader) (*volume, error) {
	bad := func(off int64, format string, args ...any) error {
		return &CorruptError{Volume: vid, Offset: off, Reason: "copy stream: " + fmt.Sprintf(format, args...)}
	}
	var h [copyHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, bad(0, "header: %v", err)
	}
	if [8]byte(h[:8]) != copyMagic || binary.LittleEndian.Uint32(h[28:]) != crc(h[:28]) || binary.LittleEndian.Uint32(h[8:]) != formatVersion {
		return nil, bad(0, "bad header")
	}
	if got := binary.LittleEndian.Uint32(h[12:]); got != vid {
		return nil, bad(0, "stream of volume %d", got)
	}
	length := int64(binary.LittleEndian.Uint64(h[16:]))
	if length < superLen || length > s.opts.MaxVolumeBytes || length%8 != 0 {
		return nil, bad(0, "length %d", length)
	}
	sbb := make([]byte, superLen)
	if _, err := io.ReadFull(r, sbb); err != nil {
		return nil, bad(0, "superblock: %v", err)
	}
	sb, ok := decodeSuper(sbb, datMagic)
	if !ok || sb.vid != vid {
		return nil, bad(0, "bad superblock")
	}
	datTmp, idxTmp := datPath(s.dir, vid)+recvSuffix, idxPath(s.dir, vid)+recvSuffix
	dat, idx, err := createFiles(datTmp, idxTmp, sb)
	if err != nil {
		return nil, err
	}
	v := newVolume(s.dir, vid, &s.opts)
	v.sb, v.dat, v.idx, v.idxEnd = sb, dat, idx, superLen
	ok = false
	defer func() {
		if !ok {
			v.closeFiles()
			os.Remove(datTmp)
			os.Remove(idxTmp)
		}
	}()
	bufp := getBuf()
	defer putBuf(bufp)
	buf := *bufp
	pos := int64(superLen)
	for pos < length {
		if length-pos < headerLen {
			return nil, bad(pos, "partial needle at the end")
		}
		hb := buf[:headerLen]
		if _, err := io.ReadFull(r, hb); err != nil {
			return nil, bad(pos, "needle header: %v", err)
		}
		nh, ok := decodeHeader(hb)
		if !ok || nh.flags&^flagTombstone != 0 || (nh.flags&flagTombstone != 0 && (nh.size != 0 || nh.crc != 0)) {
			return nil, bad(pos, "bad needle header")
		}
		total := needleLen(nh.size)
		if pos+total > length {
			return nil, bad(pos, "needle %d runs past the end", nh.nid)
		}
		if _, err := dat.WriteAt(hb, pos); err != nil {
			return nil, err
		}
		var sum uint32
		for at, left := pos+headerLen, total-headerLen; left > 0; {
			b := buf[:min(int64(len(buf)), left)]
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, bad(pos, "needle %d data: %v", nh.nid, err)
			}
			dataLeft := int64(nh.size) - (at - pos - headerLen) // data bytes not yet summed
			sum = crc32.Update(sum, castagnoli, b[:max(0, min(int64(len(b)), dataLeft))])
			if _, err := dat.WriteAt(b, at); err != nil {
				return nil, err
			}
			at += int64(len(b))
			left -= int64(len(b))
		}
		if sum != nh.crc {
			return nil, bad(pos, "needle %d data crc mismatch", nh.nid)
		}
		e := entry{off8: uint32(pos / 8), size: nh.size, cookie: nh.cookie, crc: nh.crc, flags: nh.flags}
		if err := v.appendEntry(nh.nid, e); err != nil {
			return nil, err
		}
		v.apply(nh.nid, e)
		pos += total
	}
	v.end = pos
	if err := fdatasync(dat); err != nil {
		return nil, err
	}
	if err := v.appendEntry(0, entry{off8: uint32(pos / 8), flags: flagSyncMark}); err != nil {
		return nil, err
	}
	v.marked = pos
	if err := fdatasync(idx); err != nil {
		return nil, err
	}
	// The index first: one without its data file is removed at Open.
	if err := os.Rename(idxTmp, idxPath(s.dir, vid)); err != nil {
		return nil, err
	}
	if err := os.Rename(datTmp, datPath(s.dir, vid)); err != nil {
		os.Remove(idxPath(s.dir, vid))
		return nil, err
	}
	if err := boltfile.SyncDir(s.dir); err != nil {
		// Whether the volume is on disk is not known: keep it, failed.
		v.failed = err
		ok = true
		return v, fmt.Errorf("%w: volume %d: %w", ErrFailed, vid, err)
	}
	ok = true
	return v, nil
}
