// Package wal is a segmented write-ahead log that implements hashicorp/raft's
// LogStore.
//
// Entries are appended to the newest of a series of segment files named by
// the index of their first entry (00000000000000000001.wal, …). StoreLogs
// writes a batch with one write and makes it durable with one fdatasync, where
// a B+tree store such as raft-boltdb needs several writes and two syncs; this
// is the point of the package. A segment is sealed once it reaches
// Options.SegmentSize and a new one is started.
//
// The log is contiguous. An append must start right after the last entry, or
// anywhere when the log is empty; an append that starts further on replaces the
// whole log, because Raft makes one only after installing a snapshot that
// covers the gap (a follower far behind its leader). DeleteRange removes a
// prefix (compaction: whole segments are unlinked once every entry in them is
// deleted), a suffix (conflicting entries: the file is truncated) or
// everything.
//
// Log deliberately does not implement raft.MonotonicLogStore. With it, Raft
// empties the log after installing a snapshot but keeps its own idea of the
// last index, and a follower whose log ran past the snapshot then fails to
// read entries it believes it has (hashicorp/raft issue 697: a panic in
// processLogs). Without it, Raft compacts a prefix as it does for raft-boltdb
// and the gap case above starts the log afresh.
//
// Space ahead of the appends is written with zeros beforehand, PreallocStep at
// a time: an append that passes the end of the zeros writes the zeros up to
// the next step after its records, in the same fdatasync. The appends after it
// overwrite allocated blocks, and their fdatasync flushes only the data. On
// ext4 an append that grows a file also commits the journal (the new size and
// blocks): three writes to the device per fdatasync instead of two, and 40–60 %
// longer on the development VM. (fallocate would avoid writing the zeros, but
// the first write to each preallocated block still commits the journal.) A
// segment may therefore end in zeros after its last record.
//
// Crash safety: every record carries a CRC-32C. On Open a record that is cut
// short or fails its checksum at the end of the newest segment is an append
// that was never acknowledged, and is truncated away; damage anywhere else is
// reported as an error, not repaired. Entries before a compacted prefix that
// still share a segment with live entries may reappear after a restart (they
// are committed entries Raft already has in a snapshot, so this is harmless).
//
// A Log is safe for concurrent use. GetLog, FirstIndex and LastIndex do not
// wait for an append's fsync.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// DefaultSegmentSize is the size at which a segment is sealed.
const DefaultSegmentSize = 64 << 20

// PreallocStep is the granularity of the zeros written ahead of the appends.
const PreallocStep = 1 << 20

// zeros is PreallocStep zero bytes, never written to.
var zeros = make([]byte, PreallocStep)

const segmentExt = ".wal"

var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrNotContiguous is returned by StoreLogs for entries that do not follow
	// the last entry of the log, and by DeleteRange for a range that would
	// leave a hole.
	ErrNotContiguous = errors.New("wal: not contiguous")
	// ErrCorrupt is returned by Open when a segment other than the tail of the
	// newest is damaged, and by GetLog when a record fails its checksum.
	ErrCorrupt = errors.New("wal: corrupt")
)

// Options configure a Log.
type Options struct {
	// Dir holds the segment files; it is created if missing. Nothing else
	// should write there.
	Dir string
	// SegmentSize is the size at which the newest segment is sealed and a new
	// one started; 0 means DefaultSegmentSize. A batch is never split, so a
	// segment may exceed it by one batch.
	SegmentSize int64
	// NoSync skips fdatasync. Tests only: a crash may lose acknowledged entries.
	NoSync bool
	// Logger receives a line when Open truncates a torn tail; nil discards.
	Logger *slog.Logger
}

// segment is one file of the log.
type segment struct {
	first uint64   // index of its first entry
	path  string   // file path
	f     *os.File // open read-write
	// offsets[i] is where entry first+i starts; the final element is the end
	// of the last entry, so there are entries()+1 elements.
	offsets []int64
	// alloc is the file's size: the end of its entries, then zeros written
	// ahead of the appends.
	alloc int64
}

func (s *segment) entries() int       { return len(s.offsets) - 1 }
func (s *segment) size() int64        { return s.offsets[len(s.offsets)-1] }
func (s *segment) last() uint64       { return s.first + uint64(s.entries()) - 1 }
func segmentName(first uint64) string { return fmt.Sprintf("%020d%s", first, segmentExt) }

// Log is a raft.LogStore on segment files. Use Open to create one.
type Log struct {
	opts Options

	// wmu serialises the methods that change the log (StoreLogs, DeleteRange,
	// Close). Lock order: wmu before mu.
	wmu    sync.Mutex
	buf    []byte // encoding buffer; guarded by wmu
	failed error  // set when a write or sync failed; guarded by wmu

	// mu guards the fields below. Writers hold it only to publish what they
	// already wrote and synced, so readers never wait for an fsync.
	mu          sync.RWMutex
	segs        []*segment // ordered, contiguous; the last is the one appended to
	first, last uint64     // 0, 0 when empty
	closed      bool
}

// Open opens the log in opts.Dir, creating it if needed, and recovers it: a
// torn record at the end of the newest segment is truncated away.
func Open(opts Options) (*Log, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{opts: opts}
	if _, err := os.Stat(opts.Dir); errors.Is(err, os.ErrNotExist) {
		// A new directory's own entry must be durable before anything in it is.
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		if err := l.syncPath(filepath.Dir(filepath.Clean(opts.Dir))); err != nil {
			return nil, err
		}
	}
	firsts, err := listSegments(opts.Dir)
	if err != nil {
		return nil, err
	}
	for i, first := range firsts {
		seg, err := l.loadSegment(first, i == len(firsts)-1)
		if err != nil {
			l.closeFiles()
			return nil, err
		}
		if seg == nil { // the newest segment held no intact entry
			continue
		}
		if n := len(l.segs); n > 0 && seg.first != l.segs[n-1].last()+1 {
			seg.f.Close()
			l.closeFiles()
			return nil, fmt.Errorf("%w: %s starts at index %d, but the segment before it ends at %d",
				ErrCorrupt, seg.path, seg.first, l.segs[n-1].last())
		}
		l.segs = append(l.segs, seg)
	}
	if len(l.segs) > 0 {
		l.first, l.last = l.segs[0].first, l.segs[len(l.segs)-1].last()
	}
	return l, nil
}

// listSegments returns the first indexes of the segments in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	var firsts []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentExt)
		if !ok || e.IsDir() {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil || first == 0 || segmentName(first) != e.Name() {
			return nil, fmt.Errorf("%w: unexpected file %s in %s", ErrCorrupt, e.Name(), dir)
		}
		firsts = append(firsts, first)
	}
	slices.Sort(firsts)
	return firsts, nil
}

// loadSegment opens and scans one segment. In the newest (tail) segment a
// damaged record ends the log: the file is truncated there, and removed if no
// entry remains (nil, nil). Anywhere else damage is an error.
func (l *Log) loadSegment(first uint64, tail bool) (*segment, error) {
	path := filepath.Join(l.opts.Dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: read %s: %w", path, err)
	}
	seg := &segment{first: first, path: path, f: f, offsets: []int64{0}, alloc: int64(len(data))}
	var off int
	var damage error
	for off < len(data) {
		if allZero(data[off:]) {
			break // preallocated space: the clean end of the segment
		}
		n, err := recordSize(data[off:])
		if err == nil {
			if idx, want := recordIndex(data[off:]), first+uint64(seg.entries()); idx != want {
				err = fmt.Errorf("entry has index %d, want %d", idx, want)
			}
		}
		if err != nil {
			damage = fmt.Errorf("%s at offset %d: %v", path, off, err)
			break
		}
		off += n
		seg.offsets = append(seg.offsets, int64(off))
	}
	if damage == nil {
		if seg.entries() == 0 && !tail {
			f.Close()
			return nil, fmt.Errorf("%w: %s holds no entries", ErrCorrupt, path)
		}
	} else {
		if !tail {
			f.Close()
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, damage)
		}
		l.opts.Logger.Warn("wal: truncating a torn tail (an append that was never acknowledged)",
			"err", damage, "bytes", len(data)-off)
		if err := f.Truncate(int64(off)); err != nil {
			f.Close()
			return nil, fmt.Errorf("wal: truncate %s: %w", path, err)
		}
		seg.alloc = int64(off)
		if err := l.sync(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("wal: sync %s: %w", path, err)
		}
	}
	if seg.entries() == 0 {
		f.Close()
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		return nil, l.syncDir()
	}
	return seg, nil
}

// FirstIndex returns the index of the first entry, 0 when the log is empty.
func (l *Log) FirstIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, ErrClosed
	}
	return l.first, nil
}

// LastIndex returns the index of the last entry, 0 when the log is empty.
func (l *Log) LastIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, ErrClosed
	}
	return l.last, nil
}

// GetLog reads the entry at index into out; raft.ErrLogNotFound if the log
// does not hold it.
func (l *Log) GetLog(index uint64, out *raft.Log) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	if l.last == 0 || index < l.first || index > l.last {
		return raft.ErrLogNotFound
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].last() >= index })
	seg := l.segs[i]
	k := index - seg.first
	off, end := seg.offsets[k], seg.offsets[k+1]
	rec := make([]byte, end-off)
	if _, err := seg.f.ReadAt(rec, off); err != nil {
		return fmt.Errorf("wal: read index %d from %s: %w", index, seg.path, err)
	}
	if _, err := recordSize(rec); err != nil {
		return fmt.Errorf("%w: index %d in %s at offset %d: %v", ErrCorrupt, index, seg.path, off, err)
	}
	if err := decodeRecord(rec, out); err != nil {
		return fmt.Errorf("%w: index %d in %s at offset %d: %v", ErrCorrupt, index, seg.path, off, err)
	}
	if out.Index != index {
		return fmt.Errorf("%w: %s at offset %d holds index %d, want %d", ErrCorrupt, seg.path, off, out.Index, index)
	}
	return nil
}

// StoreLog appends one entry; see StoreLogs.
func (l *Log) StoreLog(e *raft.Log) error { return l.StoreLogs([]*raft.Log{e}) }

// StoreLogs appends entries, which must have consecutive indexes starting
// right after LastIndex (any index above 0 when the log is empty), with one
// write and one fdatasync. Entries starting further on replace the whole log
// (see the package doc). When it returns nil the entries are durable. After a
// failed write or sync the Log refuses further appends: what reached the disk
// is unknown until it is reopened.
func (l *Log) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.failed != nil {
		return fmt.Errorf("wal: an earlier write failed: %w", l.failed)
	}
	l.mu.RLock()
	closed, last := l.closed, l.last
	var active *segment
	if len(l.segs) > 0 {
		active = l.segs[len(l.segs)-1]
	}
	l.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if logs[0].Index == 0 || last != 0 && logs[0].Index <= last {
		return fmt.Errorf("%w: append at index %d, the log ends at %d", ErrNotContiguous, logs[0].Index, last)
	}
	if last != 0 && logs[0].Index > last+1 {
		// Past a gap: the entries before it are in an installed snapshot.
		l.mu.Lock()
		err := l.deleteAll()
		l.mu.Unlock()
		if err != nil {
			return err
		}
		active = nil
	}

	buf := l.buf[:0]
	ends := make([]int64, len(logs))
	for i, e := range logs {
		if i > 0 && e.Index != logs[i-1].Index+1 {
			return fmt.Errorf("%w: entry %d follows entry %d in one append", ErrNotContiguous, e.Index, logs[i-1].Index)
		}
		buf = appendRecord(buf, e)
		ends[i] = int64(len(buf))
	}
	l.buf = buf

	created := active == nil || active.size()+int64(len(buf)) > l.opts.SegmentSize
	if created {
		seg, err := l.createSegment(logs[0].Index)
		if err != nil {
			l.failed = err
			return err
		}
		active = seg
	}
	base := active.size()
	if _, err := active.f.WriteAt(buf, base); err != nil {
		l.failed = fmt.Errorf("write %s: %w", active.path, err)
		return fmt.Errorf("wal: %w", l.failed)
	}
	if err := l.zeroAhead(active, base+int64(len(buf))); err != nil {
		l.failed = err
		return fmt.Errorf("wal: %w", l.failed)
	}
	if err := l.sync(active.f); err != nil {
		l.failed = fmt.Errorf("sync %s: %w", active.path, err)
		return fmt.Errorf("wal: %w", l.failed)
	}

	l.mu.Lock()
	if created {
		l.segs = append(l.segs, active)
	}
	for _, end := range ends {
		active.offsets = append(active.offsets, base+end)
	}
	if l.first == 0 {
		l.first = logs[0].Index
	}
	l.last = logs[len(logs)-1].Index
	l.mu.Unlock()
	return nil
}

// createSegment creates the file of a new segment starting at first and makes
// its directory entry durable. Called with wmu held.
func (l *Log) createSegment(first uint64) (*segment, error) {
	path := filepath.Join(l.opts.Dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if err := l.syncDir(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &segment{first: first, path: path, f: f, offsets: []int64{0}}, nil
}

// zeroAhead writes zeros after end, which the append just reached, up to the
// next multiple of PreallocStep (not past the segment size), unless the file
// already extends past end. The caller's fdatasync makes them durable with the
// append. Called with wmu held.
func (l *Log) zeroAhead(seg *segment, end int64) error {
	if end <= seg.alloc {
		return nil
	}
	size := min((end+PreallocStep-1)/PreallocStep*PreallocStep, max(l.opts.SegmentSize, end))
	if size > end {
		if _, err := seg.f.WriteAt(zeros[:size-end], end); err != nil {
			return fmt.Errorf("write zeros ahead in %s: %w", seg.path, err)
		}
	}
	seg.alloc = size
	return nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// DeleteRange deletes the entries [min, max]. The range must reach one end of
// the log (a prefix, a suffix, or all of it); parts of it outside the log are
// ignored.
func (l *Log) DeleteRange(min, max uint64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.failed != nil {
		return fmt.Errorf("wal: an earlier write failed: %w", l.failed)
	}
	if l.last == 0 || min > max || max < l.first || min > l.last {
		return nil
	}
	switch {
	case min <= l.first && max >= l.last:
		return l.deleteAll()
	case min <= l.first:
		return l.deletePrefix(max)
	case max >= l.last:
		return l.deleteSuffix(min)
	default:
		return fmt.Errorf("%w: deleting [%d, %d] would leave a hole in [%d, %d]", ErrNotContiguous, min, max, l.first, l.last)
	}
}

// deleteAll removes every segment, oldest first. Called with wmu and mu held.
func (l *Log) deleteAll() error {
	for len(l.segs) > 0 {
		if err := l.removeSegment(0); err != nil {
			return err
		}
	}
	l.first, l.last = 0, 0
	return l.syncDir()
}

// deletePrefix deletes the entries up to and including max < l.last,
// unlinking the segments that hold nothing else. Called with wmu and mu held.
func (l *Log) deletePrefix(max uint64) error {
	l.first = max + 1
	for l.segs[0].last() <= max {
		if err := l.removeSegment(0); err != nil {
			return err
		}
	}
	return l.syncDir()
}

// deleteSuffix deletes the entries from min > l.first on: later segments are
// unlinked newest first (so a crash leaves a prefix), then the segment holding
// min is truncated. Called with wmu and mu held.
func (l *Log) deleteSuffix(min uint64) error {
	for l.segs[len(l.segs)-1].first >= min {
		if err := l.removeSegment(len(l.segs) - 1); err != nil {
			return err
		}
	}
	if err := l.syncDir(); err != nil {
		return err
	}
	seg := l.segs[len(l.segs)-1]
	keep := min - seg.first
	if err := seg.f.Truncate(seg.offsets[keep]); err != nil {
		l.failed = fmt.Errorf("truncate %s: %w", seg.path, err)
		return fmt.Errorf("wal: %w", l.failed)
	}
	if err := l.sync(seg.f); err != nil {
		l.failed = fmt.Errorf("sync %s: %w", seg.path, err)
		return fmt.Errorf("wal: %w", l.failed)
	}
	seg.offsets = seg.offsets[:keep+1]
	seg.alloc = seg.size()
	l.last = min - 1
	return nil
}

// removeSegment closes and unlinks l.segs[i], which must be the first or the
// last. Called with wmu and mu held.
func (l *Log) removeSegment(i int) error {
	seg := l.segs[i]
	seg.f.Close()
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		l.failed = fmt.Errorf("remove %s: %w", seg.path, err)
		return fmt.Errorf("wal: %w", l.failed)
	}
	l.segs = slices.Delete(l.segs, i, i+1)
	switch {
	case len(l.segs) == 0:
		l.first, l.last = 0, 0
	case i == 0:
		l.first = max(l.first, l.segs[0].first)
	default:
		l.last = l.segs[len(l.segs)-1].last()
	}
	return nil
}

// Close closes the segment files. Later calls return ErrClosed.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	return l.closeFiles()
}

func (l *Log) closeFiles() error {
	var errs []error
	for _, seg := range l.segs {
		errs = append(errs, seg.f.Close())
	}
	l.segs = nil
	return errors.Join(errs...)
}

func (l *Log) sync(f *os.File) error {
	if l.opts.NoSync {
		return nil
	}
	return fdatasync(f)
}

// syncDir makes creations and removals of segment files durable.
func (l *Log) syncDir() error { return l.syncPath(l.opts.Dir) }

// syncPath fsyncs the directory dir.
func (l *Log) syncPath(dir string) error {
	if l.opts.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return nil
}
