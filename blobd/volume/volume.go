package volume

import (
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// volume is one volume's files and in-memory map.
//
// Lock order: compactMu, then wmu, then the sync slot (smu/syncing), then
// idxMu, then mu.
type volume struct {
	id     uint32
	dir    string
	opts   *Options
	logger *slog.Logger

	// compactMu serialises Compact with itself, Drop and Close.
	compactMu sync.Mutex

	// wmu serialises writers (Write, Delete) and compaction's final pass.
	wmu sync.Mutex

	// idxMu serialises appends to .idx (writers' entries and Sync's marks).
	// It protects idxEnd and marked.
	idxMu  sync.Mutex
	idxEnd int64 // where the next entry goes
	marked int64 // the .dat size the last sync mark recorded

	// smu protects the group commit state below; syncing is the "sync
	// slot": whoever holds it runs the fsync (or swaps the files), others
	// wait on scond.
	smu     sync.Mutex
	scond   *sync.Cond
	syncing bool
	synced  uint64 // every write with seq <= synced is durable
	waiters int    // Sync callers waiting on scond (for tests)
	fsyncs  int64  // fsync rounds run by Sync (for tests)

	// mu protects the following fields. Readers hold it (read) across their
	// preads, so the files stay open while they read.
	mu           sync.RWMutex
	dat, idx     *os.File
	sb           super
	m            map[uint64]entry
	end          int64  // .dat size as far as published needles go
	seq          uint64 // writes published
	live         int64  // live needles
	liveBytes    int64  // their data bytes
	deletedBytes int64  // .dat bytes of deleted needles' data (reclaimable)
	tombstones   int64
	readOnly     bool
	failed       error
	closed       bool
}

func datPath(dir string, vid uint32) string {
	return filepath.Join(dir, strconv.FormatUint(uint64(vid), 10)+".dat")
}

func idxPath(dir string, vid uint32) string {
	return filepath.Join(dir, strconv.FormatUint(uint64(vid), 10)+".idx")
}

// Temporary files: compaction's and received copies'. Open removes them.
const (
	compactSuffix = ".compact"
	recvSuffix    = ".recv"
)

func newVolume(dir string, vid uint32, opts *Options) *volume {
	v := &volume{id: vid, dir: dir, opts: opts, logger: opts.Logger.With("volume", vid), m: map[uint64]entry{}}
	v.scond = sync.NewCond(&v.smu)
	return v
}

// createFiles writes a new volume's .dat and .idx at the given paths,
// fsynced, and returns them open.
func createFiles(datP, idxP string, sb super) (dat, idx *os.File, err error) {
	dat, err = os.OpenFile(datP, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, nil, err
	}
	idx, err = os.OpenFile(idxP, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		dat.Close()
		os.Remove(datP)
		return nil, nil, err
	}
	fail := func(e error) (*os.File, *os.File, error) {
		dat.Close()
		idx.Close()
		os.Remove(datP)
		os.Remove(idxP)
		return nil, nil, e
	}
	if _, err := dat.WriteAt(sb.encode(datMagic), 0); err != nil {
		return fail(err)
	}
	if _, err := idx.WriteAt(sb.encode(idxMagic), 0); err != nil {
		return fail(err)
	}
	if err := fdatasync(dat); err != nil {
		return fail(err)
	}
	if err := fdatasync(idx); err != nil {
		return fail(err)
	}
	return dat, idx, nil
}

// indexed is an index entry read back at Open, with where it was.
type indexed struct {
	nid uint64
	e   entry
	pos int64 // its offset in .idx
}

// recover opens vid's files and rebuilds the map, truncating a torn or
// corrupt tail (see the package doc). A bad superblock is ErrDamaged.
func (v *volume) recover() error {
	dat, err := os.OpenFile(datPath(v.dir, v.id), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	v.dat = dat
	buf := make([]byte, superLen)
	if _, err := dat.ReadAt(buf, 0); err != nil && err != io.EOF {
		return err
	}
	sb, ok := decodeSuper(buf, datMagic)
	if !ok || sb.vid != v.id {
		return fmt.Errorf("%w: volume %d: bad superblock", ErrDamaged, v.id)
	}
	v.sb = sb
	fi, err := dat.Stat()
	if err != nil {
		return err
	}
	datSize := fi.Size()
	idx, err := os.OpenFile(idxPath(v.dir, v.id), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	v.idx = idx
	raw, err := io.ReadAll(io.NewSectionReader(idx, 0, 1<<62))
	if err != nil {
		return err
	}

	// Read the index up to its first bad entry.
	var recs []indexed
	durable := int64(superLen) // .dat size covered by the last sync mark
	idxCut := int64(0)         // keep .idx up to here
	if ih, ok := decodeSuper(raw, idxMagic); ok && ih == sb {
		idxCut = superLen
		expected := int64(superLen)
		for p := int64(superLen); p+entryLen <= int64(len(raw)); p += entryLen {
			nid, e, ok := decodeEntry(raw[p:])
			if !ok {
				break
			}
			if e.flags&flagSyncMark != 0 {
				durable = max(durable, e.off())
				idxCut = p + entryLen
				continue
			}
			if e.off() != expected {
				break
			}
			recs = append(recs, indexed{nid, e, p})
			expected = e.needleEnd()
			idxCut = p + entryLen
		}
		if idxCut < int64(len(raw)) {
			v.logger.Warn("volume: index has a torn or corrupt tail", "kept", idxCut, "size", len(raw))
		}
	} else if len(raw) > 0 {
		v.logger.Warn("volume: index does not match the data file; rebuilding it by a scan", "size", len(raw))
	}
	if durable > datSize {
		v.logger.Warn("volume: data file is shorter than its last sync covered", "synced", durable, "size", datSize)
		durable = datSize
	}

	// Trust entries the last sync covered; check later ones against .dat.
	cbuf := getBuf()
	defer putBuf(cbuf)
	pos := int64(superLen)
	for _, r := range recs {
		if r.e.needleEnd() > durable {
			h, err := v.checkNeedle(dat, pos, datSize, *cbuf)
			if err != nil || h.nid != r.nid || h.size != r.e.size || h.crc != r.e.crc || h.cookie != r.e.cookie || h.flags != r.e.flags {
				v.logger.Warn("volume: indexed needle missing or damaged past the last sync; truncating", "needle", r.nid, "offset", pos, "err", err)
				idxCut = r.pos
				break
			}
		}
		v.apply(r.nid, r.e)
		pos = r.e.needleEnd()
	}
	if idxCut == 0 {
		if err := idx.Truncate(0); err != nil {
			return err
		}
		if _, err := idx.WriteAt(sb.encode(idxMagic), 0); err != nil {
			return err
		}
		idxCut = superLen
	} else if err := idx.Truncate(idxCut); err != nil {
		return err
	}
	v.idxEnd = idxCut

	// Scan .dat past the last indexed needle for needles the index lost.
	var found int
	for pos+headerLen <= datSize {
		h, err := v.checkNeedle(dat, pos, datSize, *cbuf)
		if err != nil {
			if pos+headerLen < datSize {
				v.logger.Info("volume: data scan stopped", "offset", pos, "reason", err)
			}
			break
		}
		e := entry{off8: uint32(pos / 8), size: h.size, cookie: h.cookie, crc: h.crc, flags: h.flags}
		if err := v.appendEntry(h.nid, e); err != nil {
			return err
		}
		v.apply(h.nid, e)
		pos = e.needleEnd()
		found++
	}
	if found > 0 {
		v.logger.Info("volume: recovered needles missing from the index", "needles", found)
	}
	if pos < datSize {
		v.logger.Warn("volume: truncated a torn or corrupt tail", "offset", pos, "bytes", datSize-pos)
		if err := dat.Truncate(pos); err != nil {
			return err
		}
	}
	v.end = pos
	if err := fdatasync(dat); err != nil {
		return err
	}
	if err := fdatasync(idx); err != nil {
		return err
	}
	// Everything recovered is now durable; say so for the next Open.
	if v.end > durable {
		if err := v.appendEntry(0, entry{off8: uint32(v.end / 8), flags: flagSyncMark}); err != nil {
			return err
		}
	}
	v.marked = v.end
	return nil
}

// appendEntry writes an index entry at idxEnd. The caller holds idxMu (or
// owns the volume, at Open).
func (v *volume) appendEntry(nid uint64, e entry) error {
	var b [entryLen]byte
	putEntry(b[:], nid, e)
	if _, err := v.idx.WriteAt(b[:], v.idxEnd); err != nil {
		return err
	}
	v.idxEnd += entryLen
	return nil
}

// apply adds an index entry to the map and the counters. The caller holds
// mu (or owns the volume).
func (v *volume) apply(nid uint64, e entry) {
	old, ok := v.m[nid]
	if e.deleted() {
		v.tombstones++
		switch {
		case !ok:
			v.m[nid] = entry{off8: e.off8, flags: flagTombstone}
		case !old.deleted():
			v.live--
			v.liveBytes -= int64(old.size)
			v.deletedBytes += needleLen(old.size)
			old.flags |= flagTombstone
			v.m[nid] = old
		}
		return
	}
	if ok {
		// A second copy of an id (never written by this package): the
		// first one stands, the second is garbage.
		v.deletedBytes += needleLen(e.size)
		return
	}
	v.m[nid] = e
	v.live++
	v.liveBytes += int64(e.size)
}

// checkNeedle is checkNeedleAt naming v in its errors.
func (v *volume) checkNeedle(f io.ReaderAt, off, limit int64, buf []byte) (header, error) {
	h, err := checkNeedleAt(f, off, limit, buf)
	if ce, ok := err.(*CorruptError); ok {
		ce.Volume = v.id
	}
	return h, err
}

// checkNeedleAt reads the needle at off (which must end by limit) and checks
// its header and data CRC, using buf as the copy buffer.
func checkNeedleAt(f io.ReaderAt, off, limit int64, buf []byte) (header, error) {
	hb := buf[:headerLen]
	if _, err := f.ReadAt(hb, off); err != nil {
		return header{}, &CorruptError{Offset: off, Reason: fmt.Sprintf("header unreadable: %v", err)}
	}
	h, ok := decodeHeader(hb)
	if !ok {
		return header{}, &CorruptError{Offset: off, Reason: "bad needle header"}
	}
	if off+needleLen(h.size) > limit {
		return h, &CorruptError{Needle: h.nid, Offset: off, Reason: "needle runs past the end of the file"}
	}
	if h.flags&flagTombstone != 0 && (h.size != 0 || h.crc != 0) {
		return h, &CorruptError{Needle: h.nid, Offset: off, Reason: "tombstone with data"}
	}
	if h.flags&^flagTombstone != 0 {
		return h, &CorruptError{Needle: h.nid, Offset: off, Reason: "unknown flags"}
	}
	sum, err := crcRange(f, off+headerLen, int64(h.size), buf)
	if err != nil {
		return h, &CorruptError{Needle: h.nid, Offset: off, Reason: fmt.Sprintf("data unreadable: %v", err)}
	}
	if sum != h.crc {
		return h, &CorruptError{Needle: h.nid, Offset: off, Reason: "data crc mismatch"}
	}
	return h, nil
}

// crcRange is the CRC32C of n bytes of f at off, read through buf.
func crcRange(f io.ReaderAt, off, n int64, buf []byte) (uint32, error) {
	var sum uint32
	for n > 0 {
		b := buf[:min(int64(len(buf)), n)]
		if _, err := f.ReadAt(b, off); err != nil {
			return 0, err
		}
		sum = crc32.Update(sum, castagnoli, b)
		off += int64(len(b))
		n -= int64(len(b))
	}
	return sum, nil
}

// copyBufLen is the copy buffer's size: writes and checks stream through it.
const copyBufLen = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufLen); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// usable is the error that stops writes to v, if any. The caller holds mu.
func (v *volume) usable() error {
	if v.closed {
		return ErrClosed
	}
	if v.failed != nil {
		return fmt.Errorf("%w: volume %d: %w", ErrFailed, v.id, v.failed)
	}
	return nil
}

// fail marks v failed with err and returns the error to report.
func (v *volume) fail(err error) error {
	v.mu.Lock()
	if v.failed == nil {
		v.failed = err
		v.logger.Error("volume: failed; reopen the store to recover it", "err", err)
	}
	v.mu.Unlock()
	return fmt.Errorf("%w: volume %d: %w", ErrFailed, v.id, err)
}

func (v *volume) closeFiles() {
	if v.dat != nil {
		v.dat.Close()
	}
	if v.idx != nil {
		v.idx.Close()
	}
}
