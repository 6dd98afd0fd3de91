package partlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"cairn.dev/cairn/streamd/record"
)

const (
	indexEntrySize = 8  // relative offset uint32, position uint32
	timeEntrySize  = 12 // max timestamp int64, relative offset uint32
)

// indexEntry maps the relative base offset of a batch to its position.
type indexEntry struct {
	rel uint32
	pos uint32
}

// timeEntry says the segment's largest timestamp reached ts with the batch
// at relative offset rel.
type timeEntry struct {
	ts  int64
	rel uint32
}

// segment is one <base>.log file and its indexes. The Log's writer changes
// the fields below log under Log.mu; readers read them under Log.mu (read).
type segment struct {
	base int64
	log  *os.File
	// idx and tidx are the index files, open for appending while the segment
	// is active (nil otherwise).
	idx, tidx *os.File

	size    int64 // bytes of whole batches in log
	next    int64 // offset after the segment's last batch (base when empty)
	maxTS   int64 // largest record timestamp; -1 when empty
	lastRel uint32
	index   []indexEntry
	times   []timeEntry
	dirty   bool // log written since the last Sync

	// Writer only.
	sinceIndex, sinceTime int64
	firstAppend           time.Time
}

func newSegment(base int64, f *os.File) *segment {
	return &segment{base: base, log: f, next: base, maxTS: -1}
}

// track adds batch b, written at pos, to the in-memory state and indexes.
// The caller holds Log.mu (write).
func (s *segment) track(b record.Batch, pos, interval int64) {
	rel := uint32(b.BaseOffset() - s.base)
	if pos > 0 && s.sinceIndex >= interval {
		s.index = append(s.index, indexEntry{rel: rel, pos: uint32(pos)})
		s.sinceIndex = 0
	}
	s.sinceIndex += int64(len(b))
	if mt := b.MaxTimestamp(); mt > s.maxTS {
		s.maxTS = mt
	}
	if s.sinceTime >= interval && (len(s.times) == 0 || s.maxTS > s.times[len(s.times)-1].ts) {
		s.times = append(s.times, timeEntry{ts: s.maxTS, rel: rel})
		s.sinceTime = 0
	}
	s.sinceTime += int64(len(b))
	s.lastRel = rel
	s.next = b.NextOffset()
	s.size = pos + int64(len(b))
}

// seal adds the closing time index entry (the segment's largest timestamp),
// so a loaded sealed segment knows it; it reports whether one was added.
func (s *segment) seal() bool {
	if s.size == 0 || (len(s.times) > 0 && s.times[len(s.times)-1].ts >= s.maxTS) {
		return false
	}
	s.times = append(s.times, timeEntry{ts: s.maxTS, rel: s.lastRel})
	return true
}

// lookup is the position of a batch at or before offset's batch: the last
// index entry with relative offset <= offset - base, or 0.
func (s *segment) lookup(offset int64) int64 {
	rel := offset - s.base
	i, _ := slices.BinarySearchFunc(s.index, rel, func(e indexEntry, r int64) int {
		if int64(e.rel) <= r {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0
	}
	return int64(s.index[i-1].pos)
}

// timeLookup is the position to scan from for the first batch whose largest
// timestamp is >= ts: that of the last time entry below ts, or 0.
func (s *segment) timeLookup(ts int64) int64 {
	i, _ := slices.BinarySearchFunc(s.times, ts, func(e timeEntry, t int64) int {
		if e.ts < t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0
	}
	return s.lookup(s.base + int64(s.times[i-1].rel))
}

func appendIndexEntries(dst []byte, es []indexEntry) []byte {
	for _, e := range es {
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
		dst = binary.BigEndian.AppendUint32(dst, e.pos)
	}
	return dst
}

func appendTimeEntries(dst []byte, es []timeEntry) []byte {
	for _, e := range es {
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.ts))
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
	}
	return dst
}

// loadIndexes reads a sealed segment's index files and checks them against
// the segment (its size and next offset set): entries strictly increasing,
// inside the log. Any problem is an error: the caller rebuilds by scanning.
func (s *segment) loadIndexes(dir string) error {
	ib, err := os.ReadFile(offsetName(dir, s.base, indexSuffix))
	if err != nil {
		return err
	}
	tb, err := os.ReadFile(offsetName(dir, s.base, timeIndexSuffix))
	if err != nil {
		return err
	}
	if len(ib)%indexEntrySize != 0 || len(tb)%timeEntrySize != 0 {
		return errors.New("index size not a multiple of the entry size")
	}
	span := s.next - s.base
	index := make([]indexEntry, 0, len(ib)/indexEntrySize)
	for p := 0; p < len(ib); p += indexEntrySize {
		e := indexEntry{rel: binary.BigEndian.Uint32(ib[p:]), pos: binary.BigEndian.Uint32(ib[p+4:])}
		if int64(e.rel) >= span || int64(e.pos) >= s.size || e.pos == 0 ||
			(len(index) > 0 && (e.rel <= index[len(index)-1].rel || e.pos <= index[len(index)-1].pos)) {
			return fmt.Errorf("index entry %d (%d, %d) out of order or past the log", p/indexEntrySize, e.rel, e.pos)
		}
		index = append(index, e)
	}
	times := make([]timeEntry, 0, len(tb)/timeEntrySize)
	for p := 0; p < len(tb); p += timeEntrySize {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(tb[p:])), rel: binary.BigEndian.Uint32(tb[p+8:])}
		if int64(e.rel) >= span || (len(times) > 0 && (e.ts <= times[len(times)-1].ts || e.rel < times[len(times)-1].rel)) {
			return fmt.Errorf("time index entry %d out of order or past the log", p/timeEntrySize)
		}
		times = append(times, e)
	}
	if s.size > 0 && len(times) == 0 {
		return errors.New("time index of a non-empty segment is empty")
	}
	s.index, s.times = index, times
	s.maxTS = -1
	if len(times) > 0 {
		s.maxTS = times[len(times)-1].ts
		s.lastRel = times[len(times)-1].rel
	}
	return nil
}

// writeIndexes replaces the segment's index files with its in-memory
// indexes (not fsynced: see Log.Sync and recovery).
func (s *segment) writeIndexes(dir string) error {
	if err := os.WriteFile(offsetName(dir, s.base, indexSuffix), appendIndexEntries(nil, s.index), 0o644); err != nil {
		return err
	}
	return os.WriteFile(offsetName(dir, s.base, timeIndexSuffix), appendTimeEntries(nil, s.times), 0o644)
}

// openIndexesForAppend opens the active segment's index files for appends.
func (s *segment) openIndexesForAppend(dir string) error {
	var err error
	if s.idx, err = os.OpenFile(offsetName(dir, s.base, indexSuffix), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return err
	}
	if s.tidx, err = os.OpenFile(offsetName(dir, s.base, timeIndexSuffix), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		s.idx.Close()
		s.idx = nil
		return err
	}
	return nil
}

// closeFiles closes every file of the segment.
func (s *segment) closeFiles() error {
	err := s.log.Close()
	for _, f := range []*os.File{s.idx, s.tidx} {
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	s.idx, s.tidx = nil, nil
	return err
}

// removeFiles deletes the segment's files (closed first).
func (s *segment) removeFiles(dir string) error {
	s.closeFiles()
	var err error
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if rerr := os.Remove(offsetName(dir, s.base, suf)); rerr != nil && !os.IsNotExist(rerr) && err == nil {
			err = rerr
		}
	}
	return err
}

// errTail marks where a scan stopped at a batch that is short or fails
// validation: the log's valid content ends there.
type errTail struct{ err error }

func (e *errTail) Error() string { return e.err.Error() }
func (e *errTail) Unwrap() error { return e.err }

// scanBatches reads the batches of f in [from, to) in order, calling fn with
// each batch (valid only during the call) and its position until fn returns
// false. With check, each batch's header and CRC are validated. It returns
// the position after the last batch passed to fn and, when it stopped early
// at bytes that are not a whole valid batch, an *errTail; other errors are
// I/O errors.
func scanBatches(f *os.File, from, to int64, check bool, fn func(b record.Batch, pos int64) bool) (int64, error) {
	buf := make([]byte, min(1<<20, max(to-from, 0)))
	pos := from
	for pos < to {
		n := min(int64(len(buf)), to-pos)
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			if errors.Is(err, io.EOF) {
				return pos, &errTail{fmt.Errorf("file ends before %d", to)}
			}
			return pos, err
		}
		data := buf[:n]
		off := 0
		for off < len(data) {
			b, _, err := record.Next(data[off:])
			if err == io.ErrUnexpectedEOF {
				at := pos + int64(off)
				avail := to - at
				need := int64(12)
				if len(data)-off >= 12 {
					need = 12 + int64(int32(binary.BigEndian.Uint32(data[off+8:])))
				}
				if need > avail {
					return at, &errTail{fmt.Errorf("short batch at %d", at)}
				}
				if need > int64(len(buf)) { // a batch bigger than the buffer
					buf = make([]byte, need)
				}
				break
			}
			if err != nil {
				return pos + int64(off), &errTail{err}
			}
			if check {
				if err := b.ValidateHeader(); err != nil {
					return pos + int64(off), &errTail{err}
				}
			}
			if !fn(b, pos+int64(off)) {
				return pos + int64(off), nil
			}
			off += len(b)
		}
		pos += int64(off)
	}
	return pos, nil
}

// recover rebuilds the segment's state by scanning its log from the start:
// batches must be whole, valid and contiguous from base. It stops at the
// first that is not, truncating the file there, and rewrites the index
// files. onBatch sees every valid batch. It returns the bytes truncated.
func (s *segment) recover(dir string, interval int64, onBatch func(record.Batch)) (int64, error) {
	fi, err := s.log.Stat()
	if err != nil {
		return 0, err
	}
	s.size, s.next, s.maxTS, s.lastRel = 0, s.base, -1, 0
	s.index, s.times = nil, nil
	s.sinceIndex, s.sinceTime = interval, interval
	var bad error
	end, err := scanBatches(s.log, 0, fi.Size(), true, func(b record.Batch, pos int64) bool {
		if b.BaseOffset() != s.next || b.LastOffset()-s.base > math.MaxUint32 {
			bad = fmt.Errorf("batch at %d has base offset %d, want %d", pos, b.BaseOffset(), s.next)
			return false
		}
		s.track(b, pos, interval)
		if onBatch != nil {
			onBatch(b)
		}
		return true
	})
	var tail *errTail
	if err != nil && !errors.As(err, &tail) {
		return 0, err
	}
	if err != nil {
		bad = err
	}
	cut := fi.Size() - end
	if cut > 0 {
		if bad == nil {
			bad = errors.New("unexpected bytes")
		}
		if err := s.log.Truncate(end); err != nil {
			return 0, err
		}
	}
	if s.size != end {
		return 0, fmt.Errorf("partlog: segment %d: scanned to %d, tracked %d", s.base, end, s.size)
	}
	return cut, s.writeIndexes(dir)
}
